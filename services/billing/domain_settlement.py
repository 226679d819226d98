"""A month's settlement: what was booked on it and, once closed, its document.

Stored under its first module's topics (``services.billing.domain:Settlement...``): an explicit
``TOPIC`` on the class and on each event keeps them, and :mod:`services.billing.domain` still
imports the class, so stored events resolve and new ones are written under the same names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.words import counted
from services.billing.domain_keys import NAMESPACE
from services.billing.errors import BillingError, Conflict, MonthClosed


class Settlement(Aggregate):
    """A month's settlement: what was booked on it, and, once closed, its document."""

    TOPIC = "services.billing.domain:Settlement"

    class Event(Aggregate.Event):
        TOPIC = "services.billing.domain:Settlement.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "services.billing.domain:Settlement.Created"

    @staticmethod
    def create_id(month: str) -> UUID:
        return uuid5(NAMESPACE, f"settlement/{month}")

    @event("Opened", topic="services.billing.domain:Settlement.Opened")
    def __init__(self, month: str) -> None:
        self.month = month
        self.sessions: dict[str, dict[str, Any]] = {}
        self.adjustments: dict[str, dict[str, Any]] = {}
        self.awaiting_decision: dict[str, dict[str, Any]] = {}
        self.awaiting_price: dict[str, str] = {}
        #: Meetings other providers held, reported apart on this month (never billed).
        self.apart: dict[str, dict[str, Any]] = {}
        self.closed: dict[str, Any] | None = None

    @property
    def is_closed(self) -> bool:
        return self.closed is not None

    def book_session(self, session: dict[str, Any]) -> None:
        self._check_open()
        if session["settlement_month"] != self.month:
            raise BillingError(f"a session of {session['settlement_month']} is not {self.month}'s")
        self._book_session(session=session)

    @event("SessionBooked", topic="services.billing.domain:Settlement.SessionBooked")
    def _book_session(self, session: dict[str, Any]) -> None:
        self.sessions[str(session["session_id"])] = session

    def book_adjustment(self, adjustment: dict[str, Any]) -> None:
        self._check_open()
        self._book_adjustment(adjustment=adjustment)

    @event("AdjustmentBooked", topic="services.billing.domain:Settlement.AdjustmentBooked")
    def _book_adjustment(self, adjustment: dict[str, Any]) -> None:
        self.adjustments[str(adjustment["adjustment_id"])] = adjustment

    def adjust(self, adjustment: dict[str, Any]) -> None:
        """Book a manual adjustment (adjustments.py) on this open month; the same one twice is
        refused. Booked as late sessions' adjustments are, so it is one of the month's lines."""
        self._check_open()
        if adjustment["month"] != self.month:
            raise BillingError(f"an adjustment for {adjustment['month']} is not {self.month}'s")
        if str(adjustment["adjustment_id"]) in self.adjustments:
            raise Conflict(
                f"an adjustment with reference {adjustment['reference']} for "
                f"{adjustment['belongs_to_month']} is already booked on {self.month}"
            )
        self._book_adjustment(adjustment=adjustment)

    def report_apart(self, record: dict[str, Any]) -> None:
        self._check_open()
        if record["settlement_month"] != self.month:
            raise BillingError(f"a record of {record['settlement_month']} is not {self.month}'s")
        self._report_apart(record=record)

    @event("TimeReportedApart", topic="services.billing.domain:Settlement.TimeReportedApart")
    def _report_apart(self, record: dict[str, Any]) -> None:
        self.apart[str(record["session_id"])] = record

    def record_separately(self, record: dict[str, Any]) -> None:
        """Record a premises share or a state grant on this open month (separate.py)."""
        self._check_open()
        if record["settlement_month"] != self.month:
            raise BillingError(f"an amount for {record['settlement_month']} is not {self.month}'s")
        if str(record["item_id"]) in self.separate:
            raise Conflict(
                f"{record['kind']} {record['reference']} is already recorded on {self.month}"
            )
        self._record_separately(record=record)

    @event(
        "AmountRecordedSeparately",
        topic="services.billing.domain:Settlement.AmountRecordedSeparately",
    )
    def _record_separately(self, record: dict[str, Any]) -> None:
        self.separate[str(record["item_id"])] = record

    @property
    def separate(self) -> dict[str, dict[str, Any]]:
        """Premises shares and state grants recorded on this month (never lines)."""
        found: dict[str, dict[str, Any]] = self.__dict__.setdefault("_separate", {})
        return found

    def await_decision(self, pending: dict[str, Any]) -> None:
        self._check_open()
        self._await_decision(pending=pending)

    @event("DecisionAwaited", topic="services.billing.domain:Settlement.DecisionAwaited")
    def _await_decision(self, pending: dict[str, Any]) -> None:
        self.awaiting_decision[str(pending["meeting_id"])] = pending

    def resolve_decision(self, meeting_id: UUID) -> None:
        """Take a decided session off the pending list; a closed month's list stays as closed."""
        if self.closed is None and str(meeting_id) in self.awaiting_decision:
            self._resolve_decision(meeting_id=meeting_id)

    @event("DecisionResolved", topic="services.billing.domain:Settlement.DecisionResolved")
    def _resolve_decision(self, meeting_id: UUID) -> None:
        self.awaiting_decision.pop(str(meeting_id), None)

    def await_price(self, session_id: UUID, reason: str) -> None:
        self._check_open()
        self._await_price(session_id=session_id, reason=reason)

    @event("PriceAwaited", topic="services.billing.domain:Settlement.PriceAwaited")
    def _await_price(self, session_id: UUID, reason: str) -> None:
        self.awaiting_price[str(session_id)] = reason

    def resolve_price(self, session_id: UUID) -> None:
        if self.closed is None and str(session_id) in self.awaiting_price:
            self._resolve_price(session_id=session_id)

    @event("PriceResolved", topic="services.billing.domain:Settlement.PriceResolved")
    def _resolve_price(self, session_id: UUID) -> None:
        self.awaiting_price.pop(str(session_id), None)

    def close(
        self,
        *,
        document: str,
        documents: dict[str, str],
        digest: str,
        closed_at: datetime,
        closed_by: str | None,
        tariff_book_version: int,
        cap_usage: list[dict[str, Any]],
        grace: dict[str, Any] | None = None,
    ) -> None:
        self._check_open()
        if self.awaiting_price:
            reasons = "; ".join(sorted(set(self.awaiting_price.values())))
            raise Conflict(
                f"{self.month} cannot be closed: {counted(len(self.awaiting_price), 'session')} "
                f"{'waits' if len(self.awaiting_price) == 1 else 'wait'} for "
                f"a price ({reasons}); record the missing tariff first"
            )
        self._close(
            document=document,
            documents=documents,
            digest=digest,
            closed_at=closed_at,
            closed_by=closed_by,
            tariff_book_version=tariff_book_version,
            cap_usage=cap_usage,
            grace=grace,
        )

    @event("Closed", topic="services.billing.domain:Settlement.Closed")
    def _close(
        self,
        document: str,
        documents: dict[str, str],
        digest: str,
        closed_at: datetime,
        closed_by: str | None,
        tariff_book_version: int,
        cap_usage: list[dict[str, Any]],
        grace: dict[str, Any] | None = None,
    ) -> None:
        # ``grace`` (the grace window in force and how the month closed) was added later; a
        # month closed before it has none.
        self.closed = {
            "document": document,
            "documents": documents,
            "digest": digest,
            "closed_at": closed_at,
            "closed_by": closed_by,
            "tariff_book_version": tariff_book_version,
            "cap_usage": cap_usage,
            "grace": grace,
        }

    def _check_open(self) -> None:
        if self.closed is not None:
            raise MonthClosed(f"{self.month} is closed; a closed month never changes")
