"""Scheduling's application: its commands, its queries and its deadline checks.

Every command runs under the application's lock in one unit of work saved in one transaction.
When another instance of the service wrote one of the same aggregates first (the store accepts
one event per aggregate version), the command is run again from a fresh read; so a double
booking is impossible, not merely unlikely, however many instances book at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from infra.batches import Handler, Lookup
from infra.calendar import local_date
from infra.outbox import Translator
from infra.unit_of_work import UnitOfWork
from services.scheduling import booking, monitor, outcomes, registry
from services.scheduling.booking import BookingRun, MeetingRequest
from services.scheduling.desk import Desk
from services.scheduling.domain import FieldActivity, WaitingCase
from services.scheduling.domain_meeting import Meeting
from services.scheduling.errors import (
    BusyElsewhere,
    Conflict,
    Invalid,
    SchedulingError,
    UnknownCase,
)
from services.scheduling.monitor import DeadlineCheck
from services.scheduling.policy import COMPETENCES, SchedulingPolicy
from services.scheduling.roster import Roster, StaffWeek, booked_while_away, checked_record
from services.scheduling.steering_app import SteeringCommands
from services.scheduling.timeplan import week_of
from services.scheduling.view import CaseView

T = TypeVar("T")


@dataclass(frozen=True)
class QueueRow:
    place: int
    case: WaitingCase
    #: The live meeting offered as first contact, if one is booked.
    first_contact: Meeting | None


class Scheduling(SteeringCommands):
    name = "scheduling"
    handlers: ClassVar[Mapping[str, Handler]] = registry.HANDLERS
    lookups: ClassVar[Mapping[str, Lookup]] = registry.LOOKUPS
    public_events: ClassVar[Mapping[type[Any], Translator]] = registry.PUBLIC_EVENTS

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        policy: SchedulingPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(env)
        self.policy = policy or SchedulingPolicy()
        self.calendar = self.policy.working_time.calendar
        self.steering_term = self.policy.steering_term
        self.clock = clock
        self.view = CaseView(self)

    def transact(self, command: Callable[[Desk], T]) -> T:  # type: ignore[override]
        """Run ``command`` at the desk of a fresh unit of work, through the one way every
        service runs a command (:meth:`infra.application.ServiceApplication.transact`); a
        refusal is confirmed from a fresh read when another instance wrote meanwhile."""
        return super().transact(
            lambda uow: command(Desk(uow, self.policy, self.clock())),
            busy=lambda: BusyElsewhere(
                "the schedule kept changing while this was booked; send it again"
            ),
            confirm=(SchedulingError,),
        )

    def query(self, read: Callable[[Desk], T]) -> T:
        """Run ``read`` at the desk of a fresh unit of work under the lock; nothing is saved."""
        with self.lock:
            return read(Desk(UnitOfWork(self), self.policy, self.clock()))

    # --- the roster ----------------------------------------------------------------------

    def register_staff(self, record: dict[str, Any]) -> dict[str, Any]:
        record = checked_record(record, self.policy.providers)
        self.transact(lambda desk: desk.roster().register(record))
        return record

    def change_staff(self, record: dict[str, Any]) -> dict[str, Any]:
        """Replace a staff member's record; refused while new absences cover booked meetings."""
        record = checked_record(record, self.policy.providers)

        def change(desk: Desk) -> None:
            clashes = booked_while_away(desk.uow, record, desk.now)
            if clashes:
                raise Conflict(
                    f"{record['staff_id']} has meetings booked while away; move or cancel "
                    f"them first: {', '.join(str(m) for m in clashes)}"
                )
            desk.roster().change(record)

        self.transact(change)
        return record

    def roster(self) -> list[dict[str, Any]]:
        with self.lock:
            roster = UnitOfWork(self).get(Roster.create_id(), Roster)
        return [r for _, r in sorted(roster.staff.items())] if roster else []

    # --- cases, field activities and meetings ----------------------------------------------

    def record_wishes(
        self, case_id: UUID, needs: Sequence[str], evenings: bool, weekends: bool
    ) -> WaitingCase:
        """Record the competences a case needs and whether the family asks for evening or
        weekend times; the first contact and every later booking follow them."""
        if not set(needs) <= COMPETENCES:
            raise Invalid(f"needs are competences: {', '.join(sorted(COMPETENCES))}")

        def record(desk: Desk) -> WaitingCase:
            case = desk.subject(case_id)
            if not isinstance(case, WaitingCase):
                raise UnknownCase(f"{case_id} is a field activity, not a case")
            if (case.needs, case.evenings, case.weekends) != (
                sorted(set(needs)),
                evenings,
                weekends,
            ):
                case.record_wishes(sorted(set(needs)), evenings, weekends)
            return case

        return self.transact(record)

    def open_field_activity(self, area: str, first_day: date, last_day: date) -> FieldActivity:
        if not first_day <= last_day <= first_day + timedelta(weeks=12):
            raise Invalid("a field activity runs 1 day to 12 weeks; extend it for longer")
        activity = FieldActivity(area=area, first_day=first_day, last_day=last_day)
        with self.lock:
            self.save(activity)
        return activity

    def extend_field_activity(self, activity_id: UUID, last_day: date) -> FieldActivity:
        def extend(desk: Desk) -> FieldActivity:
            activity = desk.subject(activity_id)
            if not isinstance(activity, FieldActivity):
                raise UnknownCase(f"{activity_id} is a case, not a field activity")
            if last_day < activity.last_day:
                raise Invalid(f"the activity already runs to {activity.last_day}")
            if last_day > activity.last_day:
                activity.extend(last_day)
            return activity

        return self.transact(extend)

    def book_first_contacts(
        self, limit: int | None = None, programme: str | None = None
    ) -> BookingRun:
        def book(desk: Desk) -> BookingRun:
            self.view.catch_up()
            return booking.book_first_contacts(desk, self.view.queue(programme), limit)

        return self.transact(book)

    def book_meeting(self, request: MeetingRequest) -> Meeting:
        return self.transact(lambda desk: booking.book_meeting(desk, request))

    def book_network_plan(
        self, case_id: UUID, staff: Sequence[str] = (), not_before: datetime | None = None
    ) -> list[Meeting]:
        return self.transact(lambda d: booking.book_network_plan(d, case_id, staff, not_before))

    def reschedule(self, meeting_id: UUID, by: str, reason: str, **when: Any) -> Meeting:
        return self.transact(lambda d: outcomes.reschedule(d, meeting_id, by, reason, **when))

    def cancel(self, meeting_id: UUID, by: str, reason: str) -> Meeting:
        return self.transact(lambda desk: outcomes.cancel(desk, meeting_id, by, reason))

    def record_no_show(self, meeting_id: UUID) -> Meeting:
        return self.transact(lambda desk: outcomes.record_no_show(desk, meeting_id))

    def record_held(self, meeting_id: UUID, **held: Any) -> Meeting:
        return self.transact(lambda desk: outcomes.record_held(desk, meeting_id, **held))

    # --- queries ------------------------------------------------------------------------------

    def queue(self, programme: str | None = None) -> list[QueueRow]:
        with self.lock:
            self.view.catch_up()
            uow = UnitOfWork(self)
            rows = []
            for place, entry in enumerate(self.view.queue(programme), start=1):
                case = uow.get(entry.case_id, WaitingCase)
                assert case is not None, "the view only lists stored cases"
                live = [m for m in (uow.get(i, Meeting) for i in case.live) if m is not None]
                first = min(live, key=lambda m: m.starts_at) if live else None
                rows.append(QueueRow(place, case, first))
            return rows

    def subject(self, case_id: UUID) -> WaitingCase | FieldActivity:
        return self.query(lambda desk: desk.subject(case_id))

    def meeting(self, meeting_id: UUID) -> Meeting:
        return self.query(lambda desk: desk.meeting(meeting_id))

    def meetings_of(self, case_id: UUID) -> list[Meeting]:
        subject = self.subject(case_id)
        return sorted((self.meeting(m) for m in subject.meetings), key=lambda m: m.starts_at)

    def staff_meetings(self, staff_id: str, first: date, last: date) -> list[Meeting]:
        """The meetings reserved in a staff member's time between two local dates."""
        with self.lock:
            uow = UnitOfWork(self)
            Desk(uow, self.policy, self.clock()).roster().record(staff_id)
            ids: list[UUID] = []
            week = week_of(first)
            while week <= last:
                diary = uow.get(StaffWeek.create_id(staff_id, week), StaffWeek)
                for meeting_id, (start, _) in (diary.bookings if diary else {}).items():
                    if first <= local_date(start) <= last:
                        ids.append(UUID(meeting_id))
                week += timedelta(days=7)
            meetings = [m for m in (uow.get(i, Meeting) for i in ids) if m is not None]
        return sorted(meetings, key=lambda m: m.starts_at)

    def case_of(self, event: DomainEventProtocol[UUID]) -> UUID | None:
        """For the case index: a case's own events and its meetings' belong to it (a field
        activity counts as the case of its night walks); staff weeks and monitors to none."""
        if isinstance(event, WaitingCase.Event | FieldActivity.Event):
            return UUID(str(event.originator_id))
        if isinstance(event, Roster.Event | StaffWeek.Event | monitor.WaitMonitor.Event):
            return None
        return super().case_of(event)  # meetings and early closures carry their case_id

    def service_levels(self) -> dict[str, int]:
        """What operators see (``lots status``, ``/metrics``): waits and breaches right now."""
        today = local_date(self.clock())
        threshold = self.policy.wait_threshold_days
        with self.lock:
            self.view.catch_up()
            waiting = self.view.queue()
            uow = UnitOfWork(self)
            monitors = [
                uow.get(monitor.WaitMonitor.create_id(p), monitor.WaitMonitor)
                for p in self.policy.wait_programmes
            ]
        return {
            "first_contacts_waiting": len(waiting),
            "first_contacts_overdue": sum(1 for c in waiting if c.case_id in self.view.overdue),
            "waits_above_threshold": sum(
                1 for c in waiting if (today - c.received_on).days > threshold
            ),
            "wait_time_reports_open": sum(1 for m in monitors if m and m.breached_since),
        }

    def notices(self) -> list[dict[str, str]]:
        return self.steering_notices()

    def wait_times(self, on: date | None = None) -> dict[str, tuple[float | None, int]]:
        """Per monitored programme: the median wait judged on ``on`` (today), and its sample."""
        return monitor.wait_times(self, on or local_date(self.clock()))

    def check_deadlines(self) -> DeadlineCheck:
        """Judge every first-contact deadline whose day is over, and the waits of the day."""
        return monitor.check_deadlines(self)
