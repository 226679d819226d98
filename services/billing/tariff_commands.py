"""Recording tariffs and contract terms in the tariff book, and call-offs beyond the cap.

Each record is one entry (or a few) of the book, under a written decision or agreement
(``reference``). Recording prices again every session that waited for a price
(:func:`reprice_waiting`), and a revision that reaches closed months books its catch-ups on the
first open month (``catchup.py``, ``catchup_book.py``). Reads of the book as it stands: its
entries and call-offs, a contract's end, and the notices about terms (``terms.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.types import PROGRAMMES
from infra.calendar import local_date
from services.billing.booking import Booker
from services.billing.books import Books
from services.billing.catchup_book import book_catch_ups
from services.billing.domain_session import Session
from services.billing.errors import BillingError, Conflict, NotFound
from services.billing.tariff_entries import (
    ClientFee,
    ContractTerm,
    Entry,
    Extension,
    FixedPayment,
    HourlyRate,
    Indexation,
    Posts,
    Termination,
    YearlyCap,
)
from services.billing.tariffs import Catalogue
from services.billing.terms import notice_end, term_notices


def record_indexation(
    app: Books,
    *,
    series: str,
    year: int,
    percent: Decimal,
    applies_from: date,
    reference: str,
    recorded_by: str | None = None,
) -> dict[str, Any]:
    """Record a year's indexation of a price series, applying from its date in that year."""
    if applies_from.year != year:
        raise BillingError(f"applies_from {applies_from} is not in {year}")
    entry = Indexation(
        entry_id=f"{series}-{year}",
        series=series,
        year=year,
        percent=percent,
        applies_from=applies_from,
    )
    return record_entries(app, [entry], f"{series} indexation for {year}", reference, recorded_by)


def record_extension(
    app: Books, *, contract: str, reference: str, recorded_by: str | None = None
) -> dict[str, Any]:
    """Record an extension of a contract's term; a terminated contract is not extended."""

    def entries(catalogue: Catalogue) -> list[Entry]:
        notice = catalogue.termination(contract)
        if notice is not None:
            raise Conflict(
                f"{contract} was terminated by the notice given on {notice.given_on}; "
                "it cannot be extended"
            )
        done = sum(1 for e in catalogue.extensions if e.contract == contract)
        return [Extension(entry_id=f"{contract}-extension-{done + 1}", contract=contract)]

    return record_entries(app, entries, f"extension of {contract}", reference, recorded_by)


def record_termination(
    app: Books,
    *,
    contract: str,
    given_on: date,
    reference: str,
    ends_on: date | None = None,
    recorded_by: str | None = None,
) -> dict[str, Any]:
    """Record a written notice of termination; the term ends as ``terms.py`` says, or on
    ``ends_on`` where the parties agreed another end."""

    def entries(catalogue: Catalogue) -> list[Entry]:
        if catalogue.termination(contract) is not None:
            raise Conflict(f"a notice of termination of {contract} is already recorded")
        if not any(t.contract == contract for t in catalogue.terms):
            raise NotFound(f"no contract {contract!r}")
        end = ends_on or notice_end(catalogue, contract, given_on)
        return [
            Termination(
                entry_id=f"{contract}-termination", contract=contract, given_on=given_on,
                ends_on=end,
            )
        ]  # fmt: skip

    reason = f"notice of termination of {contract}"
    return record_entries(app, entries, reason, reference, recorded_by)


def record_price(
    app: Books,
    entry: HourlyRate | ClientFee | YearlyCap | FixedPayment | ContractTerm | Posts,
    *,
    reference: str,
    recorded_by: str | None = None,
) -> dict[str, Any]:
    """Record a new price or contract term (rate, client fee, yearly cap, fixed payment,
    agreed posts)."""
    return record_entries(app, [entry], f"new {type(entry).__name__}", reference, recorded_by)


def record_entries(
    app: Books,
    entries: list[Entry] | Callable[[Catalogue], list[Entry]],
    reason: str,
    reference: str,
    recorded_by: str | None,
) -> dict[str, Any]:
    """Record ``entries`` (or those made from the catalogue as it stands) in the tariff book,
    price the sessions that waited for a price, and book the revision's catch-ups."""
    if not reference.strip():
        raise BillingError("reference must name the written decision or agreement")

    def change(booker: Booker) -> dict[str, Any]:
        made = entries(booker.catalogue) if callable(entries) else entries
        booker.book.record(
            made,
            reason=reason,
            reference=reference,
            recorded_by=recorded_by,
            recorded_at=app.clock(),
        )
        repriced = reprice_waiting(booker)
        # A revision that reaches closed months: catch-ups on the first open month.
        caught = book_catch_ups(booker, made, local_date(app.clock()), reference)
        return {
            "book_version": booker.book.version,
            "recorded": [e.entry_id for e in made],
            "repriced_sessions": repriced,
            "catch_ups": [
                {
                    "adjustment_id": str(a.adjustment_id),
                    "month": a.month,
                    "belongs_to_month": a.belongs_to_month,
                    "line": a.line,
                    "amount_ore": a.amount_ore,
                    "fee_ore": a.fee_ore or 0,
                }
                for a in caught
            ],
        }

    return app.transact(change)


def reprice_waiting(booker: Booker) -> int:
    """Price again every session that waited for a price; return how many now have one."""
    waiting = [
        UUID(item["session_id"])
        for item in booker.worklist().items.values()
        if item["need"] == "price"
    ]
    done = 0
    for session_id in sorted(waiting, key=str):
        session = booker.uow.get(session_id, Session)
        if session is None:
            continue
        booker.price(session, None)
        done += session.logged is not None
    return done


def record_call_off(
    app: Books,
    *,
    programme: str,
    year: int,
    hours: Decimal,
    reference: str,
    effective_from: date | None = None,
    recorded_by: str | None = None,
) -> dict[str, Any]:
    """Record a written call-off of hours beyond the year's cap; it applies from its date."""
    if programme not in PROGRAMMES:
        raise BillingError(f"unknown programme {programme!r}; expected one of {PROGRAMMES}")
    if hours <= 0 or (hours * 4) % 1 != 0:
        raise BillingError(f"hours must be a positive number of quarter hours, got {hours}")
    if not reference.strip():
        raise BillingError("reference must name the written call-off")

    def change(booker: Booker) -> dict[str, Any]:
        if programme not in booker.catalogue.hourly_programmes():
            raise BillingError(f"{programme} has no yearly cap of hours to call off beyond")
        booker.book.record_call_off(
            reference=reference,
            programme=programme,
            year=year,
            hours=hours,
            effective_from=effective_from or date(year, 1, 1),
            recorded_by=recorded_by,
            recorded_at=app.clock(),
        )
        return {"book_version": booker.book.version, "reference": reference}

    return app.transact(change)


def tariffs(app: Books) -> dict[str, Any]:
    """The tariff book as it stands: its version, its entries and its call-offs."""

    def read(booker: Booker) -> dict[str, Any]:
        return {
            "book_version": booker.book.version,
            "entries": list(booker.book.records),
            "call_offs": [
                {**c, "hours": str(c["hours"]), "effective_from": str(c["effective_from"])}
                for c in booker.book.call_offs
            ],
        }

    return app.query(read)


def catalogue_end(app: Books, contract: str) -> str:
    """A contract's last day as recorded now ("until further notice" if none)."""
    end = app.query(lambda booker: booker.catalogue.term_end(contract))
    return end.isoformat() if end is not None else "until further notice"


def notices(app: Books) -> list[dict[str, str]]:
    """Programmes with no contract in force, fixed terms near their notice deadline, and
    terms ending by a notice (``terms.py``), judged on today's date in Stockholm."""
    today = local_date(app.clock())
    return app.query(lambda booker: term_notices(booker.catalogue, PROGRAMMES, today))
