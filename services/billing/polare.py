"""Polare fees (seed 004): "Polarna erhåller arvodering vid de tillfällen de nattvandrar.
Ersättningen utgår för varje nattvandringstillfälle utifrån ålder och antal år i verksamheten.
Finansiering för arvodering ryms i ersättningen till Leanlink Råd och stöd."

So a fee is paid per polar per night walk, by the polar's age and years in the activity, and it
is the provider's cost inside field work's fixed 5 MSEK a year: it is never billed to the
municipality and never appears in a settlement. Billing keeps it here, reports it monthly
against the field-work budget, and publishes it (``PolareFeesLogged``) for the yearly report.

The rate table is a dated setting recorded as an event (``PolareRatesRecorded``): rows of
(ages ``age_from``..``age_to``, from ``years_from`` years in the activity on, öre per walk).
The fee of a polar on a walk is the row of the table in force on the walk's date (the table
with the latest ``effective_from`` on or before it; of two with the same date, the one recorded
later) whose ages hold the polar's age and whose ``years_from`` is the highest not above the
polar's years. Age and years come from intake's attestation (``PolareWalkAttested``): billing
never sees a date of birth or a name. A walk any of whose polare has no rate waits, listed in
its month, until a table that prices it is recorded; fees already logged are never re-priced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from events.billing import PolareFee, PolareFeesLogged, PolareRate, PolareRatesRecorded
from events.codec import Envelope
from events.intake import NotAttested, PolareWalkAttested
from infra.application import Handler, Lookup, Outgoing, Translator, UnitOfWork
from infra.months import end_of_month, month_of_date, months_through
from infra.topology import BILLING_EVENTS
from services.billing.domain import Conflict
from services.billing.fixed import covered_months, monthly_share, year_to_date
from services.billing.settlement import month_start
from services.billing.tariffs import Catalogue, PriceNotKnown, TariffError

if TYPE_CHECKING:
    from services.billing.application import Billing

NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/billing/polare")


class NoRate(LookupError):
    """No fee is known for a polar on a date; the text says which and why."""


# --- the rate table (pure) ------------------------------------------------------------------


@dataclass(frozen=True)
class RateTable:
    table_id: str
    effective_from: date
    rates: tuple[PolareRate, ...]


def check_rates(rates: Sequence[PolareRate]) -> None:
    """A table must be unambiguous: ages run low to high, and rows with the same
    ``years_from`` never share an age."""
    if not rates:
        raise TariffError("a rate table has at least one row")
    for row in rates:
        if row.age_from > row.age_to:
            raise TariffError(f"ages {row.age_from}-{row.age_to} run backwards")
    for i, a in enumerate(rates):
        for b in rates[i + 1 :]:
            if a.years_from == b.years_from and a.age_from <= b.age_to and b.age_from <= a.age_to:
                raise TariffError(
                    f"two rows from {a.years_from} years cover the same ages "
                    f"({a.age_from}-{a.age_to} and {b.age_from}-{b.age_to})"
                )


def table_in_force(tables: Sequence[RateTable], on: date) -> RateTable:
    """The table for a walk on ``on``: latest ``effective_from`` not after it, the later
    recorded of two with the same date (``tables`` in recording order)."""
    found: RateTable | None = None
    for table in tables:
        if table.effective_from <= on and (
            found is None or table.effective_from >= found.effective_from
        ):
            found = table
    if found is None:
        raise NoRate(f"no polare rate table is in force on {on}")
    return found


def walk_fee_for(table: RateTable, age: int, years: int) -> int:
    """Öre per walk for a polar of ``age`` in their ``years``-th year in the activity."""
    rows = [r for r in table.rates if r.age_from <= age <= r.age_to and r.years_from <= years]
    if not rows:
        raise NoRate(
            f"table {table.table_id} has no rate for age {age} in year {years} of the activity"
        )
    return max(rows, key=lambda r: r.years_from).ore_per_walk


def fee(tables: Sequence[RateTable], on: date, age: int, years: int) -> tuple[int, str]:
    """(öre, table id) of one polar's fee for a walk on ``on``."""
    table = table_in_force(tables, on)
    return walk_fee_for(table, age, years), table.table_id


# --- aggregates -----------------------------------------------------------------------------


class PolareRateBook(Aggregate):
    """Every polare rate table recorded, in order."""

    @staticmethod
    def create_id() -> UUID:
        return uuid5(NAMESPACE, "rate-book")

    @event("Opened")
    def __init__(self) -> None:
        self.tables: list[dict[str, Any]] = []
        self.waiting: list[str] = []

    @event("Recorded")
    def record(
        self,
        table_id: str,
        effective_from: date,
        rates: list[dict[str, int]],
        reference: str,
        recorded_by: str | None,
        recorded_at: datetime,
    ) -> None:
        self.tables.append({"table_id": table_id, "effective_from": effective_from, "rates": rates})

    @event("WalkWaiting")
    def note_waiting(self, walk_id: str) -> None:
        self.waiting.append(walk_id)

    @event("WalkPriced")
    def note_priced(self, walk_id: str) -> None:
        self.waiting.remove(walk_id)

    def rate_tables(self) -> list[RateTable]:
        return [
            RateTable(
                t["table_id"],
                t["effective_from"],
                tuple(PolareRate.model_validate(r) for r in t["rates"]),
            )
            for t in self.tables
        ]


class PolareWalkFees(Aggregate):
    """One night walk's polare fees: waiting for a rate, then priced once."""

    @staticmethod
    def create_id(walk_id: UUID, **_: object) -> UUID:
        return uuid5(NAMESPACE, f"walk/{walk_id}")

    @event("Attested")
    def __init__(
        self,
        walk_id: UUID,
        walked_on: date,
        attested: list[dict[str, Any]],
        not_attested: list[dict[str, Any]],
        causation_id: str,
    ) -> None:
        self.walk_id = walk_id
        self.walked_on = walked_on
        self.attested = attested
        self.not_attested = not_attested
        self.priced = False
        self.waiting_reason: str | None = None

    @event("Waiting")
    def wait(self, reason: str) -> None:
        self.waiting_reason = reason

    @event("Priced")
    def _priced(
        self,
        walk_id: UUID,
        walked_on: date,
        month: str,
        fees: list[dict[str, Any]],
        total_ore: int,
        table_id: str,
        not_paid: list[dict[str, Any]],
    ) -> None:
        self.priced = True
        self.waiting_reason = None

    def price(self, tables: Sequence[RateTable]) -> dict[str, Any]:
        """Price every attested polar; raise :class:`NoRate` if any has no rate."""
        table = table_in_force(tables, self.walked_on)
        fees = []
        for polar in self.attested:
            ore = walk_fee_for(table, polar["age"], polar["years_in_activity"])
            fees.append({**polar, "ore": ore})
        done = {
            "walk_id": self.walk_id, "walked_on": self.walked_on,
            "month": month_of_date(self.walked_on), "fees": fees,
            "total_ore": sum(f["ore"] for f in fees), "table_id": table.table_id,
            "not_paid": list(self.not_attested),
        }  # fmt: skip
        self._priced(**done)
        return done


class PolareMonth(Aggregate):
    """The polare fees of one month (of the walks' dates), for the monthly report."""

    @staticmethod
    def create_id(month: str, **_: object) -> UUID:
        return uuid5(NAMESPACE, f"month/{month}")

    @event("Opened")
    def __init__(self, month: str) -> None:
        self.month = month
        self.walks: dict[str, dict[str, Any]] = {}

    @event("WalkPriced")
    def add(
        self, walk_id: str, walked_on: date, polare: int, total_ore: int, table_id: str,
        not_paid: list[dict[str, Any]],
    ) -> None:  # fmt: skip
        self.walks[walk_id] = {
            "walked_on": walked_on, "polare": polare, "total_ore": total_ore,
            "table_id": table_id, "not_paid": not_paid,
        }  # fmt: skip


def _month_of(uow: UnitOfWork, month: str) -> PolareMonth:
    found = uow.get(PolareMonth.create_id(month), PolareMonth)
    if found is None:
        found = PolareMonth(month=month)
        uow.add(found)
    return found


def _book(uow: UnitOfWork) -> PolareRateBook:
    book = uow.get(PolareRateBook.create_id(), PolareRateBook)
    if book is None:
        book = PolareRateBook()
        uow.add(book)
    return book


def _try_price(uow: UnitOfWork, book: PolareRateBook, walk: PolareWalkFees) -> bool:
    try:
        done = walk.price(book.rate_tables())
    except NoRate as exc:
        if walk.waiting_reason != str(exc):
            walk.wait(str(exc))
        if str(walk.walk_id) not in book.waiting:
            book.note_waiting(str(walk.walk_id))
        return False
    if str(walk.walk_id) in book.waiting:
        book.note_priced(str(walk.walk_id))
    _month_of(uow, done["month"]).add(
        str(walk.walk_id), walk.walked_on, len(done["fees"]), done["total_ore"],
        done["table_id"], done["not_paid"],
    )  # fmt: skip
    return True


def when_walk_attested_price_fees(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    attested: PolareWalkAttested = envelope.message
    if uow.get(PolareWalkFees.create_id(attested.walk_id), PolareWalkFees) is not None:
        return  # the same walk again
    walk = PolareWalkFees(
        walk_id=attested.walk_id,
        walked_on=attested.walked_on,
        attested=[a.model_dump(mode="json") for a in attested.attested],
        not_attested=[n.model_dump(mode="json") for n in attested.not_attested],
        causation_id=str(envelope.id),
    )
    uow.add(walk)
    _try_price(uow, _book(uow), walk)


HANDLERS: Mapping[str, Handler] = {PolareWalkAttested.type_name: when_walk_attested_price_fees}
LOOKUPS: Mapping[str, Lookup] = {
    PolareWalkAttested.type_name: lambda a: (
        PolareWalkFees.create_id(a.walk_id),
        PolareRateBook.create_id(),
        PolareMonth.create_id(month_of_date(a.walked_on)),
    )
}


# --- commands and the monthly report -------------------------------------------------------


def record_rates(
    app: Billing,
    *,
    effective_from: date,
    rates: Sequence[PolareRate],
    reference: str,
    recorded_by: str | None = None,
    table_id: str | None = None,
) -> dict[str, Any]:
    """Record a rate table in force from ``effective_from``; walks waiting for a rate are
    priced at once if it prices them."""
    check_rates(rates)
    table_id = table_id or f"polare-{effective_from.isoformat()}"

    def change(uow: UnitOfWork) -> dict[str, Any]:
        book = _book(uow)
        if any(t["table_id"] == table_id for t in book.tables):
            raise Conflict(f"a polare rate table {table_id!r} is recorded already")
        book.record(
            table_id, effective_from, [r.model_dump() for r in rates], reference, recorded_by,
            app.clock(),
        )  # fmt: skip
        priced = 0
        for walk_id in list(book.waiting):
            walk = uow.get(PolareWalkFees.create_id(UUID(walk_id)), PolareWalkFees)
            if walk is not None and _try_price(uow, book, walk):
                priced += 1
        return {"table_id": table_id, "effective_from": effective_from.isoformat(),
                "walks_priced": priced}  # fmt: skip

    return app.polare_command(change)


def rate_tables(app: Billing) -> list[dict[str, Any]]:
    def read(uow: UnitOfWork) -> list[dict[str, Any]]:
        book = uow.get(PolareRateBook.create_id(), PolareRateBook)
        return [
            {"table_id": t.table_id, "effective_from": t.effective_from.isoformat(),
             "rates": [r.model_dump() for r in t.rates]}
            for t in (book.rate_tables() if book else [])
        ]  # fmt: skip

    return app.polare_query(read)


def month_report(app: Billing, month: str) -> dict[str, Any]:
    """The month's polare fees as the provider's cost, against the field-work budget."""
    first = month_start(month)
    year = first.year

    def read(uow: UnitOfWork) -> dict[str, Any]:
        months = [uow.get(PolareMonth.create_id(m), PolareMonth)
                  for m in months_through(f"{year:04d}-01", month)]  # fmt: skip
        this = months[-1]
        listed = this.walks.items() if this else {}.items()
        walks = dict(sorted(listed, key=lambda w: (w[1]["walked_on"], w[0])))
        book = uow.get(PolareRateBook.create_id(), PolareRateBook)
        waiting = []
        for walk_id in book.waiting if book else []:
            walk = uow.get(PolareWalkFees.create_id(UUID(walk_id)), PolareWalkFees)
            if walk is not None and month_of_date(walk.walked_on) == month:
                waiting.append({"walk_id": walk_id, "walked_on": walk.walked_on.isoformat(),
                                "reason": walk.waiting_reason})  # fmt: skip
        fees = sum(w["total_ore"] for w in walks.values())
        to_date = sum(w["total_ore"] for m in months if m for w in m.walks.values())
        catalogue = app.catalogue_of(uow)
        return {
            "month": month,
            "walks": len(walks),
            "polare_walks": sum(w["polare"] for w in walks.values()),
            "fees_ore": fees,
            "year_to_date_ore": to_date,
            "budget": budget(catalogue, first, to_date),
            "waiting": waiting,
            "not_paid": [
                {"walk_id": walk_id, **n} for walk_id, w in walks.items() for n in w["not_paid"]
            ],
            "walk_fees": [
                {"walk_id": walk_id, "walked_on": w["walked_on"].isoformat(),
                 "polare": w["polare"], "total_ore": w["total_ore"], "table_id": w["table_id"]}
                for walk_id, w in walks.items()
            ],
        }  # fmt: skip

    return app.polare_query(read)


def budget(catalogue: Catalogue, first: date, to_date_ore: int) -> dict[str, Any]:
    """Field work's yearly payment in force in the month, the months' shares so far (as the
    settlement pays them, :mod:`services.billing.fixed`), and the fees' share."""
    terms = [t for t in catalogue.terms_in_force(first) if "field" in t.programmes]
    if not terms:
        return {"contract": None, "note": f"no field-work contract is in force on {first}"}
    contract = terms[0].contract
    try:
        quote = catalogue.fixed_payment(contract, first)
    except PriceNotKnown as exc:
        return {"contract": contract, "note": str(exc)}
    if quote.payment.per != "year":
        return {"contract": contract, "note": "the field-work payment is not yearly"}
    yearly = quote.period_amount_ore
    month_share = monthly_share(yearly, 12, covered_months(catalogue, contract, first, quote))
    shares_to_date = year_to_date(catalogue, contract, first)
    percent = (Decimal(100 * to_date_ore) / Decimal(yearly)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    ) if yearly else None  # fmt: skip
    return {
        "contract": contract,
        "yearly_ore": yearly,
        "month_share_ore": month_share,
        "year_to_date_share_ore": shares_to_date,
        "fees_of_yearly_percent": str(percent) if percent is not None else None,
        "tariff_version": quote.tariff_version,
        "through": end_of_month(first).isoformat(),
    }


# --- public events --------------------------------------------------------------------------


def rates_recorded(event: Any) -> Outgoing:
    return Outgoing(
        BILLING_EVENTS,
        PolareRatesRecorded(
            table_id=event.table_id,
            effective_from=event.effective_from,
            rates=[PolareRate.model_validate(r) for r in event.rates],
            reference=event.reference,
            recorded_by=event.recorded_by,
            recorded_at=event.recorded_at,
        ),
    )


def fees_logged(event: Any) -> Outgoing:
    return Outgoing(
        BILLING_EVENTS,
        PolareFeesLogged(
            walk_id=event.walk_id,
            walked_on=event.walked_on,
            month=event.month,
            fees=[PolareFee.model_validate(f) for f in event.fees],
            total_ore=event.total_ore,
            table_id=event.table_id,
            not_paid=[NotAttested.model_validate(n) for n in event.not_paid],
        ),
        correlation_id=str(event.walk_id),
    )


PUBLIC_EVENTS: Mapping[type[Any], Translator] = {
    PolareRateBook.Recorded: rates_recorded,  # type: ignore[attr-defined]
    PolareWalkFees.Priced: fees_logged,  # type: ignore[attr-defined]
}
