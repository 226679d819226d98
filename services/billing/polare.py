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
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from events.billing import PolareFee, PolareFeesLogged, PolareRate, PolareRatesRecorded
from events.codec import Envelope
from events.intake import NotAttested, PolareWalkAttested
from infra.batches import Handler, Lookup
from infra.months import month_of_date
from infra.outbox import Outgoing, Translator
from infra.topology import BILLING_EVENTS
from infra.unit_of_work import UnitOfWork
from services.billing.polare_rates import NoRate, RateTable, table_in_force, walk_fee_for
from services.billing.recorded_events import (
    PolareRateBookRecordedEvent,
    PolareWalkFeesPricedEvent,
)

NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/billing/polare")

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


def rate_book(uow: UnitOfWork) -> PolareRateBook:
    book = uow.get(PolareRateBook.create_id(), PolareRateBook)
    if book is None:
        book = PolareRateBook()
        uow.add(book)
    return book


def try_price(uow: UnitOfWork, book: PolareRateBook, walk: PolareWalkFees) -> bool:
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
    try_price(uow, rate_book(uow), walk)


HANDLERS: Mapping[str, Handler] = {PolareWalkAttested.type_name: when_walk_attested_price_fees}
LOOKUPS: Mapping[str, Lookup] = {
    PolareWalkAttested.type_name: lambda a: (
        PolareWalkFees.create_id(a.walk_id),
        PolareRateBook.create_id(),
        PolareMonth.create_id(month_of_date(a.walked_on)),
    )
}


# --- public events --------------------------------------------------------------------------


def rates_recorded(event: PolareRateBookRecordedEvent) -> Outgoing:
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


def fees_logged(event: PolareWalkFeesPricedEvent) -> Outgoing:
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
