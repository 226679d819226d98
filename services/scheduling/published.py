"""Scheduling's domain events as the public messages of ``scheduling.events``: the one place
they are translated. Every message about a case carries the case id as its correlation id, as
intake's do, so a referral's whole story can be followed across services."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from events.scheduling import (
    FirstContactOverdue,
    MeetingCancelled,
    MeetingHeld,
    MeetingNoShow,
    MeetingRescheduled,
    MeetingScheduled,
    WaitTimeReportDue,
)
from events.types import MeetingFormat, MeetingKind, Message, Programme
from infra.outbox import Outgoing, Translator
from infra.topology import SCHEDULING_EVENTS
from services.scheduling.domain import WaitingCase
from services.scheduling.domain_meeting import Meeting
from services.scheduling.monitor import WaitMonitor
from services.scheduling.steering_app import STEERING_EVENTS

_MEETING = ("case_id", "programme", "kind", "format", "provider", "staff")
#: Who asked for a meeting to move or cancelled it.
Party = Literal["family", "provider", "administration"]


# The events as the translators read them: what the ``@event`` methods of
# :mod:`services.scheduling.domain` (and :class:`~services.scheduling.monitor.WaitMonitor`) record,
# whose generated classes (``Meeting.Booked`` ...) a type checker cannot see.


class MeetingCancelledEvent(Protocol):
    """``Meeting.Cancelled``."""

    originator_id: UUID
    case_id: UUID
    cancelled_by: Party
    reason: str
    cancelled_at: datetime
    causation_id: str | None


class MeetingEvent(Protocol):
    """The facts every other ``Meeting`` event carries (:data:`_MEETING`)."""

    originator_id: UUID
    case_id: UUID
    programme: Programme
    kind: MeetingKind
    format: MeetingFormat
    provider: str
    staff: list[str]


class MeetingTimedEvent(MeetingEvent, Protocol):
    """A ``Meeting`` event with its time: ``Booked``; ``NoShowRecorded`` and ``Rescheduled``
    carry more."""

    starts_at: datetime
    ends_at: datetime


class MeetingMissedEvent(MeetingTimedEvent, Protocol):
    recorded_at: datetime


class MeetingRescheduledEvent(MeetingTimedEvent, Protocol):
    previous_starts_at: datetime
    previous_ends_at: datetime
    requested_by: Party
    reason: str
    rescheduled_at: datetime


class MeetingHeldEvent(MeetingEvent, Protocol):
    started_at: datetime
    ended_at: datetime
    participants: int
    client_visits: int


class DeadlineJudgedEvent(Protocol):
    """``WaitingCase.DeadlineJudged``."""

    originator_id: UUID
    met: bool
    programme: Programme
    first_contact_due: date
    judged_at: datetime


class WaitReportDueEvent(Protocol):
    """``WaitMonitor.ReportDue``."""

    programme: Programme
    median_wait_days: int
    window_days: int
    detected_at: datetime


def _facts(event: MeetingEvent, *names: str) -> dict[str, Any]:
    return {name: getattr(event, name) for name in (*_MEETING, *names)}


def _out(message: Message, case_id: object, causation_id: str | None = None) -> Outgoing:
    return Outgoing(
        SCHEDULING_EVENTS, message, correlation_id=str(case_id), causation_id=causation_id
    )


def meeting_scheduled(event: MeetingTimedEvent) -> Outgoing:
    message = MeetingScheduled(
        meeting_id=event.originator_id, **_facts(event, "starts_at", "ends_at")
    )
    return _out(message, event.case_id)


def meeting_rescheduled(event: MeetingRescheduledEvent) -> Outgoing:
    names = ("starts_at", "ends_at", "previous_starts_at", "previous_ends_at", "requested_by")
    message = MeetingRescheduled(
        meeting_id=event.originator_id,
        reason=event.reason,
        rescheduled_at=event.rescheduled_at,
        **_facts(event, *names),
    )
    return _out(message, event.case_id)


def meeting_held(event: MeetingHeldEvent) -> Outgoing:
    names = ("started_at", "ended_at", "participants", "client_visits")
    return _out(MeetingHeld(meeting_id=event.originator_id, **_facts(event, *names)), event.case_id)


def meeting_cancelled(event: MeetingCancelledEvent) -> Outgoing:
    message = MeetingCancelled(
        meeting_id=event.originator_id,
        case_id=event.case_id,
        cancelled_by=event.cancelled_by,
        reason=event.reason,
        cancelled_at=event.cancelled_at,
    )
    return _out(message, event.case_id, event.causation_id)


def meeting_missed(event: MeetingMissedEvent) -> Outgoing:
    names = ("starts_at", "ends_at", "recorded_at")
    message = MeetingNoShow(meeting_id=event.originator_id, **_facts(event, *names))
    return _out(message, event.case_id)


def first_contact_overdue(event: DeadlineJudgedEvent) -> Outgoing | None:
    if event.met:
        return None  # a deadline met is recorded for the audit, not announced
    message = FirstContactOverdue(
        case_id=event.originator_id,
        programme=event.programme,
        first_contact_due=event.first_contact_due,
        detected_at=event.judged_at,
    )
    return _out(message, event.originator_id)


def wait_time_report_due(event: WaitReportDueEvent) -> Outgoing:
    message = WaitTimeReportDue(
        programme=event.programme,
        median_wait_days=event.median_wait_days,
        window_days=event.window_days,
        detected_at=event.detected_at,
    )
    return Outgoing(SCHEDULING_EVENTS, message)


PUBLIC_EVENTS: Mapping[type[Any], Translator] = {
    Meeting.Booked: meeting_scheduled,  # type: ignore[attr-defined]
    Meeting.Rescheduled: meeting_rescheduled,  # type: ignore[attr-defined]
    Meeting.Held: meeting_held,  # type: ignore[attr-defined]
    Meeting.Cancelled: meeting_cancelled,  # type: ignore[attr-defined]
    Meeting.NoShowRecorded: meeting_missed,  # type: ignore[attr-defined]
    WaitingCase.DeadlineJudged: first_contact_overdue,  # type: ignore[attr-defined]
    WaitMonitor.ReportDue: wait_time_report_due,  # type: ignore[attr-defined]
    **STEERING_EVENTS,
}
