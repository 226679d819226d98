"""Scheduling's aggregates for cases and meetings: the waiting case, the meeting, and the field
activity night walks belong to.

A case's first-contact deadline is judged once, on the first check after its due date: it was
met if a first contact was offered on or before that date. An offer the family declined
(cancelled, moved, or did not come to) still counts as offered; a time the provider withdrew
(cancelled or moved) does not.

:class:`~services.scheduling.domain_meeting.Meeting` lives in its own module under its first
stored topics (``services.scheduling.domain:Meeting...``); this module imports it so that a
process which has not imported it yet still resolves those topics by their module path.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.calendar import local_date
from services.scheduling.domain_meeting import Meeting

__all__ = ["NAMESPACE", "EarlyClosure", "FieldActivity", "Meeting", "WaitingCase", "is_acute"]

NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/scheduling")


class WaitingCase(Aggregate):
    """A case as scheduling knows it: its place in the queue, its needs and its meetings."""

    @staticmethod
    def create_id(case_id: UUID, **_: object) -> UUID:
        return case_id

    @event("Queued")
    def __init__(
        self,
        case_id: UUID,
        programme: str,
        priority: int,
        received_at: datetime,
        first_contact_due: date,
        causation_id: str | None,
        adults: int = 1,
        urgency: str | None = None,
    ) -> None:
        self.programme = programme
        #: Intake's priority by the programme's order (services/intake/priority.py).
        self.priority = priority
        self.urgency = urgency
        self.received_at = received_at
        self.first_contact_due = first_contact_due
        self.adults = adults
        self.needs: list[str] = []
        self.evenings = False
        self.weekends = False
        self.meetings: list[UUID] = []
        #: Booked and not yet held, cancelled or missed.
        self.live: list[UUID] = []
        #: Meeting id -> local date of the time currently offered; and dates the family declined.
        self.offers: dict[str, date] = {}
        self.declined: list[date] = []
        self.provider: str | None = None
        self.staff: list[str] = []
        self.first_held_at: datetime | None = None
        self.judged = False
        self.overdue = False
        self.closed_at: datetime | None = None

    @property
    def waiting(self) -> bool:
        return self.first_held_at is None and self.closed_at is None

    @property
    def acute(self) -> bool:
        return is_acute(self.urgency, self.priority)

    def offered_in_time(self) -> bool:
        due = self.first_contact_due
        held = self.first_held_at is not None and local_date(self.first_held_at) <= due
        return held or any(d <= due for d in [*self.declined, *self.offers.values()])

    @event("WishesRecorded")
    def record_wishes(self, needs: list[str], evenings: bool, weekends: bool) -> None:
        self.needs, self.evenings, self.weekends = sorted(needs), evenings, weekends

    @event("MeetingBooked")
    def note_booked(
        self, meeting_id: UUID, starts_on: date, provider: str, staff: list[str],
        first_contact: bool,
    ) -> None:  # fmt: skip
        self.meetings.append(meeting_id)
        self.live.append(meeting_id)
        self.offers[str(meeting_id)] = starts_on
        if first_contact:  # later meetings are with the provider and staff of the first contact
            self.provider, self.staff = provider, list(staff)

    @event("MeetingMoved")
    def note_moved(self, meeting_id: UUID, starts_on: date, by: str) -> None:
        key = str(meeting_id)
        if by == "family" and key in self.offers:
            self.declined.append(self.offers[key])
        self.offers[key] = starts_on

    def _end(self, meeting_id: UUID) -> None:
        if meeting_id in self.live:
            self.live.remove(meeting_id)

    @event("MeetingCancelled")
    def note_cancelled(self, meeting_id: UUID, by: str) -> None:
        self._end(meeting_id)
        withdrawn = self.offers.pop(str(meeting_id), None)
        if by == "family" and withdrawn is not None:
            self.declined.append(withdrawn)

    @event("MeetingMissed")
    def note_missed(self, meeting_id: UUID) -> None:
        self._end(meeting_id)
        missed = self.offers.pop(str(meeting_id), None)
        if missed is not None:
            self.declined.append(missed)

    @event("MeetingHeld")
    def note_held(self, meeting_id: UUID, started_at: datetime) -> None:
        self._end(meeting_id)
        self.offers.pop(str(meeting_id), None)
        if self.first_held_at is None:
            self.first_held_at = started_at

    def judge_deadline(self, today: date, now: datetime) -> bool:
        """Judge the first-contact deadline once its day is over; True if judged now."""
        if self.judged or today <= self.first_contact_due:
            return False
        if self.closed_at is not None and local_date(self.closed_at) <= self.first_contact_due:
            return False
        self._judged(self.offered_in_time(), self.programme, self.first_contact_due, now)
        return True

    @event("DeadlineJudged")
    def _judged(
        self, met: bool, programme: str, first_contact_due: date, judged_at: datetime
    ) -> None:
        self.judged, self.overdue = True, not met

    @event("Closed")
    def close(self, closed_at: datetime, outcome: str, causation_id: str | None) -> None:
        self.closed_at = closed_at


def is_acute(urgency: str | None, priority: int) -> bool:
    """Whether a queued case is acute. Cases queued before scheduling kept the urgency have
    none: intake then gave priority 1 to acute cases and to no others."""
    return urgency == "acute" if urgency is not None else priority == 1


class EarlyClosure(Aggregate):
    """A CaseClosed that arrived before the case's ReferralReceived: applied when it comes."""

    @staticmethod
    def create_id(case_id: UUID, **_: object) -> UUID:
        return uuid5(NAMESPACE, f"early-closure/{case_id}")

    @event("Recorded")
    def __init__(
        self, case_id: UUID, closed_at: datetime, outcome: str, causation_id: str | None
    ) -> None:
        self.closed_at = closed_at
        self.outcome = outcome


class FieldActivity(Aggregate):
    """Field work's night walks in an area for a period (1-12 weeks, extendable; 004): what its
    night walks are booked and billed against, in place of a referred case."""

    @event("Opened")
    def __init__(self, area: str, first_day: date, last_day: date) -> None:
        self.programme = "field"
        self.area = area
        self.first_day = first_day
        self.last_day = last_day
        self.meetings: list[UUID] = []

    @event("Extended")
    def extend(self, last_day: date) -> None:
        self.last_day = last_day

    @event("MeetingBooked")
    def note_booked(self, meeting_id: UUID) -> None:
        self.meetings.append(meeting_id)
