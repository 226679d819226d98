"""The tariff book: every tariff entry and call-off billing has recorded, in order.

Recorded once per store: the default catalogue on first start, then each new price, indexation,
extension and call-off as its own event with its effective date and the written reference it
rests on. The catalogue in force at any version of the book can be rebuilt from these events, so
a settlement replays with exactly the tariffs it used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.billing.domain_keys import NAMESPACE
from services.billing.errors import BillingError, Conflict
from services.billing.tariff_entries import Entry, entry_from_record, entry_record
from services.billing.tariffs import Catalogue

TARIFF_BOOK_ID = uuid5(NAMESPACE, "tariff-book")


class TariffBook(Aggregate):
    """Every tariff entry and call-off billing has recorded, in order; one per store."""

    @staticmethod
    def create_id(**_: object) -> UUID:
        return TARIFF_BOOK_ID

    @event("Opened")
    def __init__(self, entries: list[dict[str, Any]], reason: str, recorded_at: datetime) -> None:
        self.records: list[dict[str, Any]] = list(entries)
        self.call_offs: list[dict[str, Any]] = []

    def catalogue(self) -> Catalogue:
        return catalogue_of(self.records)

    def record(
        self,
        entries: Sequence[Entry],
        *,
        reason: str,
        reference: str | None,
        recorded_by: str | None,
        recorded_at: datetime,
    ) -> None:
        """Add entries; the catalogue refuses duplicates and overlaps (TariffError) first."""
        self.catalogue().with_entries(*entries)
        self._record(
            entries=[entry_record(e) for e in entries],
            reason=reason,
            reference=reference,
            recorded_by=recorded_by,
            recorded_at=recorded_at,
        )

    @event("EntriesRecorded")
    def _record(
        self,
        entries: list[dict[str, Any]],
        reason: str,
        reference: str | None,
        recorded_by: str | None,
        recorded_at: datetime,
    ) -> None:
        self.records.extend(entries)

    def record_call_off(
        self,
        *,
        reference: str,
        programme: str,
        year: int,
        hours: Decimal,
        effective_from: date,
        recorded_by: str | None,
        recorded_at: datetime,
    ) -> None:
        if any(c["reference"] == reference for c in self.call_offs):
            raise Conflict(f"call-off {reference} is already recorded")
        if effective_from.year != year:
            raise BillingError(f"call-off {reference}: effective_from must fall in {year}")
        self._record_call_off(
            reference=reference,
            programme=programme,
            year=year,
            hours=hours,
            effective_from=effective_from,
            recorded_by=recorded_by,
            recorded_at=recorded_at,
        )

    @event("CallOffRecorded")
    def _record_call_off(
        self,
        reference: str,
        programme: str,
        year: int,
        hours: Decimal,
        effective_from: date,
        recorded_by: str | None,
        recorded_at: datetime,
    ) -> None:
        self.call_offs.append(
            {
                "reference": reference,
                "programme": programme,
                "year": year,
                "hours": hours,
                "effective_from": effective_from,
            }
        )


def catalogue_of(records: Sequence[dict[str, Any]]) -> Catalogue:
    """The catalogue made of recorded entries (as :func:`entry_record` wrote them)."""
    return Catalogue().with_entries(*(entry_from_record(r) for r in records))
