"""One billable session: a held meeting or logged time, from flagged to priced and logged.

Stored under its first module's topics (``services.billing.domain:Session...``): an explicit
``TOPIC`` on the class and on each event keeps them, and :mod:`services.billing.domain` still
imports the class, so stored events resolve and new ones are written under the same names.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.billing.errors import Conflict


class Session(Aggregate):
    """One billable session: a held meeting or logged time, until it is priced and logged."""

    TOPIC = "services.billing.domain:Session"

    class Event(Aggregate.Event):
        TOPIC = "services.billing.domain:Session.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "services.billing.domain:Session.Created"

    @staticmethod
    def create_id(session_id: UUID, **_: object) -> UUID:
        return session_id

    @event("Opened", topic="services.billing.domain:Session.Opened")
    def __init__(
        self,
        session_id: UUID,
        case_id: UUID,
        meeting: dict[str, Any] | None,
        time_entry: dict[str, Any] | None,
        causation_id: str | None,
    ) -> None:
        self.case_id = case_id
        self.meeting = meeting
        self.time_entry = time_entry
        self.status = "received"
        self.waiting_in: str | None = None
        self.decision: str | None = None
        self.logged: dict[str, Any] | None = None
        #: Another provider's meeting: what is reported apart (providers.py), never billed.
        self.apart: dict[str, Any] | None = None

    def flag(
        self,
        *,
        settlement_month: str,
        reason: str,
        minutes: int,
        participants: int,
        performed_on: date,
    ) -> None:
        self._check_not_logged()
        assert self.meeting is not None  # only held group meetings are ever flagged
        self._flag(
            meeting_id=UUID(str(self.meeting["meeting_id"])),
            case_id=self.case_id,
            programme=str(self.meeting["programme"]),
            settlement_month=settlement_month,
            reason=reason,
            minutes=minutes,
            participants=participants,
            performed_on=performed_on,
        )

    @event("Flagged", topic="services.billing.domain:Session.Flagged")
    def _flag(
        self,
        meeting_id: UUID,
        case_id: UUID,
        programme: str,
        settlement_month: str,
        reason: str,
        minutes: int,
        participants: int,
        performed_on: date,
    ) -> None:
        self.status = "awaiting_decision"
        self.waiting_in = settlement_month

    def await_price(self, *, settlement_month: str, reason: str) -> None:
        self._check_not_logged()
        self._await_price(settlement_month=settlement_month, reason=reason)

    @event("PriceAwaited", topic="services.billing.domain:Session.PriceAwaited")
    def _await_price(self, settlement_month: str, reason: str) -> None:
        self.status = "awaiting_price"
        self.waiting_in = settlement_month

    def decide(
        self, *, decision: str, decided_by: str, note: str | None, decided_at: datetime
    ) -> None:
        if self.status != "awaiting_decision":
            if self.decision is not None:
                raise Conflict(f"session {self.id} was already decided: {self.decision}")
            raise Conflict(f"session {self.id} is not waiting for a decision")
        assert self.meeting is not None
        self._decide(
            meeting_id=UUID(str(self.meeting["meeting_id"])),
            case_id=self.case_id,
            decision=decision,
            decided_by=decided_by,
            note=note,
            decided_at=decided_at,
        )

    @event("Decided", topic="services.billing.domain:Session.Decided")
    def _decide(
        self,
        meeting_id: UUID,
        case_id: UUID,
        decision: str,
        decided_by: str,
        note: str | None,
        decided_at: datetime,
    ) -> None:
        self.decision = decision
        self.status = "decided"

    def dismiss(self, *, reason: str, decided_by: str, decided_at: datetime) -> None:
        """A person rules out billing a session whose price is not known (e.g. no contract)."""
        if self.status != "awaiting_price":
            raise Conflict(f"session {self.id} is not waiting for a price; it cannot be dismissed")
        meeting_id = None if self.meeting is None else UUID(str(self.meeting["meeting_id"]))
        self._dismiss(
            meeting_id=meeting_id,
            case_id=self.case_id,
            reason=reason,
            decided_by=decided_by,
            decided_at=decided_at,
        )

    @event("Dismissed", topic="services.billing.domain:Session.Dismissed")
    def _dismiss(
        self,
        meeting_id: UUID | None,
        case_id: UUID,
        reason: str,
        decided_by: str,
        decided_at: datetime,
    ) -> None:
        self.status = "dismissed"

    def report_apart(self, *, record: dict[str, Any], causation_id: str | None) -> None:
        """Record that another provider held the meeting: reported apart, never billed."""
        self._check_not_logged()
        if self.status != "received":
            raise Conflict(f"session {self.id} is {self.status}; it cannot be reported apart")
        self._report_apart(record=record, causation_id=causation_id)

    @event("ReportedApart", topic="services.billing.domain:Session.ReportedApart")
    def _report_apart(self, record: dict[str, Any], causation_id: str | None) -> None:
        self.status = "reported_apart"
        self.apart = record

    def log(
        self,
        *,
        session: dict[str, Any],
        tariff_book_version: int,
        billed_before: Decimal,
        over_cap_hours: Decimal,
        causation_id: str | None,
    ) -> None:
        self._check_not_logged()
        self._log(
            session=session,
            tariff_book_version=tariff_book_version,
            billed_before=billed_before,
            over_cap_hours=over_cap_hours,
            causation_id=causation_id,
        )

    @event("Logged", topic="services.billing.domain:Session.Logged")
    def _log(
        self,
        session: dict[str, Any],
        tariff_book_version: int,
        billed_before: Decimal,
        over_cap_hours: Decimal,
        causation_id: str | None,
    ) -> None:
        self.logged = session
        self.status = "logged"
        self.waiting_in = None

    def recut(self, *, session: dict[str, Any], given_to: UUID, reason: str) -> None:
        """Re-book the logged session with fewer hours: it gave way at the yearly cap to a
        session performed before it that was recorded after it (cap_order.py)."""
        if self.logged is None:
            raise Conflict(f"session {self.id} is not logged; it has no hours to give way")
        self._recut(session=session, given_to=given_to, reason=reason)

    @event("Recut", topic="services.billing.domain:Session.Recut")
    def _recut(self, session: dict[str, Any], given_to: UUID, reason: str) -> None:
        self.logged = session

    def _check_not_logged(self) -> None:
        if self.logged is not None:
            raise Conflict(f"session {self.id} is already logged")
        if self.status == "dismissed":
            raise Conflict(f"session {self.id} was dismissed")
