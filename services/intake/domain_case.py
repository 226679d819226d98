"""A case opened by an accepted referral, followed until it is closed with an outcome.

Stored under its first module's topics (``services.intake.domain:Case...``): an explicit
``TOPIC`` on the class and on each event keeps them, and :mod:`services.intake.domain` still
imports the class, so stored events resolve and new ones are written under the same names.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.intake.case_figures import CaseFigures
from services.intake.case_refusals import OUTCOMES, CaseClosedError, CaseError


class Case(CaseFigures, Aggregate):
    """A case opened by an accepted referral, followed until it is closed with an outcome; what
    it shows of the work done is :class:`~services.intake.case_figures.CaseFigures`."""

    TOPIC = "services.intake.domain:Case"

    class Event(Aggregate.Event):
        TOPIC = "services.intake.domain:Case.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "services.intake.domain:Case.Created"

    @staticmethod
    def create_id(case_id: UUID, **_: object) -> UUID:
        return case_id

    @event("Opened", topic="services.intake.domain:Case.Opened")
    def __init__(
        self,
        case_id: UUID,
        source: str,
        referral_id: str,
        programme: str,
        basis: str,
        urgency: str,
        priority: int,
        received_at: datetime,
        first_contact_due: date,
        ack_due: datetime,
        household: list[dict[str, Any]],
        indicators_met: list[str],
        consent: bool,
        causation_id: str | None,
        fingerprint: str | None = None,
        decision_ref: str | None = None,
        consent_form_ref: str | None = None,
        consent_given_at: str | None = None,
        note: str | None = None,
        residency_exception_id: UUID | None = None,
        supersedes: UUID | None = None,
        no_contract_in_force: dict[str, Any] | None = None,
    ) -> None:
        # What the referral said beside its persons (the decision's reference, the consent
        # form's reference and date, the note) is in the event only sealed with the key of the
        # person the case is about (:mod:`services.intake.records`): erased with them.
        # ``residency_exception_id``: the exception whose recording accepted a referral first
        # rejected as not resident, replacing the answer ``supersedes``
        # (:mod:`services.intake.reevaluation`).
        self.source = source
        self.referral_id = referral_id
        #: The message that opened the case (or the residency exception that did), and its
        #: content's fingerprint (:mod:`services.intake.resubmission`; None if opened before
        #: fingerprints were kept).
        self.causation_id = causation_id
        self.fingerprint = fingerprint
        self.programme = programme
        self.basis = basis
        self.urgency = urgency
        self.priority = priority
        self.received_at = received_at
        self.first_contact_due = first_contact_due
        self.ack_due = ack_due
        self.household = household
        self.indicators_met = indicators_met
        #: Set when no contract of the programme was in force on the day received (rules.py).
        self.no_contract_in_force = no_contract_in_force
        self.acknowledged_at: datetime | None = None
        self.ack_overdue_noted = False
        self.first_contact_at: datetime | None = None
        self.meetings: dict[str, dict[str, Any]] = {}
        self.logged_minutes = 0
        # Lists and dicts, not sets: the state is snapshotted as JSON every 50 events.
        self.sessions: dict[str, int] = {}
        self.closed_at: datetime | None = None
        self.outcome: str | None = None

    # --- the acknowledgement within 24 weekday hours -----------------------------------------

    def acknowledge(self, at: datetime, by: str) -> None:
        if self.acknowledged_at is not None:
            return  # acknowledging twice changes nothing
        self._acknowledged(at=at, by=by, within_deadline=at <= self.ack_due, ack_due=self.ack_due)

    @event("Acknowledged", topic="services.intake.domain:Case.Acknowledged")
    def _acknowledged(
        self, at: datetime, by: str, within_deadline: bool, ack_due: datetime
    ) -> None:
        self.acknowledged_at = at

    def note_ack_overdue(self, now: datetime) -> bool:
        """Record the breach once, when the deadline has passed unacknowledged."""
        if self.acknowledged_at is not None or self.ack_overdue_noted or now <= self.ack_due:
            return False
        self._acknowledgement_overdue(detected_at=now, ack_due=self.ack_due)
        return True

    @event("AcknowledgementOverdue", topic="services.intake.domain:Case.AcknowledgementOverdue")
    def _acknowledgement_overdue(self, detected_at: datetime, ack_due: datetime) -> None:
        self.ack_overdue_noted = True

    # --- kept up to date from scheduling and billing -----------------------------------------

    def record_meeting(
        self,
        meeting_id: str,
        kind: str,
        started_at: datetime,
        ended_at: datetime,
        client_visits: int,
        causation_id: str,
    ) -> None:
        if meeting_id in self.meetings:
            return
        minutes = max(0, int((ended_at - started_at).total_seconds() // 60))
        self._meeting_recorded(
            meeting_id=meeting_id,
            kind=kind,
            started_at=started_at,
            minutes=minutes,
            client_visits=client_visits,
            causation_id=causation_id,
        )

    @event("MeetingRecorded", topic="services.intake.domain:Case.MeetingRecorded")
    def _meeting_recorded(
        self,
        meeting_id: str,
        kind: str,
        started_at: datetime,
        minutes: int,
        client_visits: int,
        causation_id: str,
    ) -> None:
        self.meetings[meeting_id] = {
            "kind": kind,
            "minutes": minutes,
            "client_visits": client_visits,
            "started_at": started_at,
        }
        if self.first_contact_at is None or started_at < self.first_contact_at:
            self.first_contact_at = started_at

    def record_logged_time(self, session_id: str, minutes: int, causation_id: str) -> None:
        """Preparation and follow-up time logged in billing (sessions without a meeting)."""
        if session_id in self.sessions:
            return
        self._time_logged(session_id=session_id, minutes=minutes, causation_id=causation_id)

    @event("TimeLogged", topic="services.intake.domain:Case.TimeLogged")
    def _time_logged(self, session_id: str, minutes: int, causation_id: str) -> None:
        self.sessions[session_id] = minutes
        self.logged_minutes += minutes

    # --- closing -------------------------------------------------------------------------------

    def close(self, outcome: str, at: datetime, by: str, note: str | None) -> None:
        if outcome not in OUTCOMES:
            raise CaseError(f"unknown outcome {outcome!r}; known: {', '.join(OUTCOMES)}")
        if self.closed_at is not None:
            raise CaseClosedError(f"case {self.id} was closed on {self.closed_at.isoformat()}")
        if at < self.received_at:
            raise CaseError("a case cannot close before its referral was received")
        self._closed(outcome=outcome, closed_at=at, by=by, note=note)

    @event("Closed", topic="services.intake.domain:Case.Closed")
    def _closed(self, outcome: str, closed_at: datetime, by: str, note: str | None) -> None:
        self.outcome = outcome
        self.closed_at = closed_at
