"""Scheduling's commands for the steering group, and their public messages.

A mixin of :class:`services.scheduling.application.Scheduling`: the steering group's meetings
concern no case, so they are their own small aggregate rather than a case's meeting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from events.scheduling import (
    SteeringMeetingCancelled,
    SteeringMeetingHeld,
    SteeringMeetingPlanned,
    SteeringOrganisation,
)
from events.types import Message
from infra.application import ServiceApplication
from infra.calendar import DEFAULT_CALENDAR, CalendarPolicy, local_date
from infra.commands import Busy
from infra.outbox import Outgoing, Translator
from infra.refusals import Refused
from infra.topology import SCHEDULING_EVENTS
from infra.unit_of_work import UnitOfWork
from services.scheduling.steering import SteeringError, SteeringMeeting
from services.scheduling.steering_rule import DEFAULT_TERM, Outlook, Term, outlook


class SteeringNotFound(Refused, LookupError):
    """No such steering meeting (answered 404)."""

    status = 404


class SteeringCommands(ServiceApplication):
    """Convene, hold and cancel steering-group meetings; judge the year's plan."""

    clock: Callable[[], datetime]
    calendar: CalendarPolicy = DEFAULT_CALENDAR
    #: The contract term the year is judged within (``LOTS_SCHEDULING_STEERING_TERM_*``).
    steering_term: Term = DEFAULT_TERM

    def plan_steering_meeting(
        self, starts_at: datetime, ends_at: datetime, by: str
    ) -> SteeringMeeting:
        if ends_at <= starts_at:
            raise SteeringError("a meeting ends after it starts")
        now = self.clock()
        if starts_at <= now:
            raise SteeringError("a steering meeting is convened ahead of its time")
        with self.lock:
            try:
                return self.steering_meeting(SteeringMeeting.create_id(starts_at))
            except SteeringNotFound:
                pass
            meeting = SteeringMeeting(starts_at=starts_at, ends_at=ends_at, planned_at=now, by=by)
            self.save(meeting)
            return meeting

    def hold_steering_meeting(
        self,
        meeting_id: UUID,
        started_at: datetime,
        ended_at: datetime,
        organisations: list[str],
        by: str,
    ) -> SteeringMeeting:
        return self._steering_change(
            meeting_id, lambda m: m.hold(started_at, ended_at, organisations, self.clock(), by)
        )

    def cancel_steering_meeting(self, meeting_id: UUID, by: str) -> SteeringMeeting:
        return self._steering_change(meeting_id, lambda m: m.cancel(self.clock(), by))

    def steering_meeting(self, meeting_id: UUID) -> SteeringMeeting:
        try:
            found: Any = self.repository.get(meeting_id)
        except AggregateNotFoundError as exc:
            raise SteeringNotFound(f"no steering meeting {meeting_id}") from exc
        if not isinstance(found, SteeringMeeting):
            raise SteeringNotFound(f"{meeting_id} is not a steering meeting")
        return found

    def steering_meetings(self) -> list[SteeringMeeting]:
        topics = [get_topic(SteeringMeeting.Planned)]  # type: ignore[attr-defined]
        with self.lock:
            ids = {
                n.originator_id
                for n in self.recorder.select_notifications(start=1, limit=1_000_000, topics=topics)
            }
            meetings = [self.steering_meeting(UUID(str(i))) for i in ids]
        return sorted(meetings, key=lambda m: m.starts_at)

    def steering_outlook(self, year: int | None = None) -> Outlook:
        today = local_date(self.clock())
        meetings = [m.as_planned() for m in self.steering_meetings()]
        return outlook(year or today.year, today, meetings, self.calendar, self.steering_term)

    def steering_notices(self) -> list[dict[str, str]]:
        seen = self.steering_outlook()
        if not seen.warning:
            return []
        return [
            {
                "level": "critical" if seen.level != "short" else "warning",
                "code": f"steering_group_{seen.level}",
                "message": seen.message(),
            }
        ]

    def _steering_change(
        self, meeting_id: UUID, change: Callable[[SteeringMeeting], None]
    ) -> SteeringMeeting:

        def on_meeting(uow: UnitOfWork) -> SteeringMeeting:
            meeting = self.steering_meeting(meeting_id)
            uow.add(meeting)
            change(meeting)
            return meeting

        # The base's transact (on a unit of work): Scheduling's own takes a booking desk.
        return super().transact(
            on_meeting,
            busy=lambda: Busy(f"steering meeting {meeting_id} kept changing; try again"),
        )


# The steering meeting's events as the translators read them (what the ``@event`` methods of
# :class:`~services.scheduling.steering.SteeringMeeting` record; a type checker cannot see
# their generated classes).


class SteeringPlannedEvent(Protocol):
    originator_id: UUID
    starts_at: datetime
    ends_at: datetime
    planned_at: datetime


class SteeringHeldEvent(Protocol):
    originator_id: UUID
    started_at: datetime
    ended_at: datetime
    organisations: list[SteeringOrganisation]
    at: datetime


class SteeringCancelledEvent(Protocol):
    originator_id: UUID
    starts_at: datetime
    at: datetime


def _out(message: Message) -> Outgoing:
    return Outgoing(SCHEDULING_EVENTS, message)


def steering_planned(event: SteeringPlannedEvent) -> Outgoing:
    return _out(
        SteeringMeetingPlanned(
            meeting_id=event.originator_id,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            planned_at=event.planned_at,
        )
    )


def steering_held(event: SteeringHeldEvent) -> Outgoing:
    return _out(
        SteeringMeetingHeld(
            meeting_id=event.originator_id,
            started_at=event.started_at,
            ended_at=event.ended_at,
            organisations=event.organisations,
            recorded_at=event.at,
        )
    )


def steering_cancelled(event: SteeringCancelledEvent) -> Outgoing:
    return _out(
        SteeringMeetingCancelled(
            meeting_id=event.originator_id, starts_at=event.starts_at, cancelled_at=event.at
        )
    )


STEERING_EVENTS: Mapping[type[Any], Translator] = {
    SteeringMeeting.Planned: steering_planned,  # type: ignore[attr-defined]
    SteeringMeeting.Held: steering_held,  # type: ignore[attr-defined]
    SteeringMeeting.Cancelled: steering_cancelled,  # type: ignore[attr-defined]
}
