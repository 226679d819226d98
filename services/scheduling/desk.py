"""The booking desk: what one command reads and reserves, read once through its unit of work.

Every command (a booking, a move, a cancellation, a held meeting) works through a
:class:`Desk`: it loads the roster, the case, the meetings and the staff weeks it needs, checks
that the staff may hold the meeting, finds or checks the time, and reserves it in every staff
member's week. The application then saves all of it in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate

from infra.calendar import STOCKHOLM, local_date
from infra.unit_of_work import UnitOfWork
from services.scheduling.domain import FieldActivity, WaitingCase
from services.scheduling.domain_meeting import Meeting
from services.scheduling.errors import (
    Conflict,
    NotBookable,
    OverCapacity,
    TimeTaken,
    UnknownCase,
    UnknownMeeting,
    WrongStaff,
)
from services.scheduling.matching import required
from services.scheduling.policy import KindRule, SchedulingPolicy
from services.scheduling.roster import ROSTER_ID, Roster, StaffWeek, member_of
from services.scheduling.timeplan import Interval, StaffTime, Wishes, find_slot, week_of, why_not

Subject = WaitingCase | FieldActivity


@dataclass
class Desk:
    """The booking desk of one unit of work: what it reads, it reads once, through the uow."""

    uow: UnitOfWork
    policy: SchedulingPolicy
    now: datetime

    def roster(self) -> Roster:
        roster = self.uow.get(ROSTER_ID, Roster)
        if roster is None:
            roster = Roster()
            self.uow.add(roster)
        return roster

    def subject(self, case_id: UUID) -> Subject:
        found = self.uow.get(case_id, Aggregate)
        if not isinstance(found, WaitingCase | FieldActivity):
            raise UnknownCase(f"no case or field activity {case_id} in scheduling")
        return found

    def meeting(self, meeting_id: UUID) -> Meeting:
        found = self.uow.get(meeting_id, Aggregate)
        if not isinstance(found, Meeting):
            raise UnknownMeeting(f"no meeting {meeting_id}")
        return found

    def staff_time(self, staff_id: str, first: date, last: date) -> StaffTime:
        member = member_of(self.roster().record(staff_id))
        busy: list[Interval] = []
        booked: dict[date, int] = {}
        week = week_of(first)
        while week <= last:
            diary = self.uow.get(StaffWeek.create_id(staff_id, week), StaffWeek)
            if diary is not None:
                busy.extend(diary.intervals())
                booked[week] = diary.booked_minutes
            week += timedelta(days=7)
        return StaffTime(member.availability, tuple(busy), member.weekly_capacity, booked)

    def family_busy(self, subject: Subject, leave_out: UUID | None = None) -> list[Interval]:
        if not isinstance(subject, WaitingCase):
            return []
        meetings = [self.meeting(m) for m in subject.live if m != leave_out]
        return [Interval(m.starts_at, m.ends_at) for m in meetings]

    def reserve(self, staff: Sequence[str], meeting_id: UUID, slot: Interval) -> None:
        roster = self.roster()
        week = week_of(local_date(slot.start))
        for staff_id in staff:
            diary = self.uow.get(StaffWeek.create_id(staff_id, week), StaffWeek)
            if diary is None:
                diary = StaffWeek(staff_id=staff_id, week=week)
                self.uow.add(diary)
            capacity = roster.record(staff_id)["weekly_capacity_minutes"]
            diary.reserve(meeting_id, slot, capacity)

    def release(self, meeting: Meeting) -> None:
        week = week_of(local_date(meeting.starts_at))
        for staff_id in meeting.staff:
            diary = self.uow.get(StaffWeek.create_id(staff_id, week), StaffWeek)
            if diary is not None:
                diary.release(meeting.id)

    def check_roster(self, programme: str, staff: Sequence[str]) -> str:
        """The one provider of ``staff``, all on the roster and working in ``programme``."""
        if not staff:
            raise WrongStaff("name the staff: the case has none yet")
        records = [self.roster().record(s) for s in staff]
        if any(programme not in r["programmes"] for r in records):
            raise WrongStaff(f"every staff member of the meeting must work in {programme}")
        providers = {r["provider"] for r in records}
        if len(providers) != 1:
            raise WrongStaff("the staff of one meeting come from one provider")
        return str(providers.pop())

    def check_staff(self, subject: Subject, staff: Sequence[str]) -> str:
        """The provider of a meeting to be booked with ``staff``, if they may hold it: they
        have the competences the case needs, and a counselling case's meetings after its
        first contact stay with the provider it was given to (003 §2.3)."""
        provider = self.check_roster(subject.programme, staff)
        if isinstance(subject, WaitingCase):
            later = bool(subject.live) or subject.first_held_at is not None
            if subject.programme == "counselling" and later and subject.provider != provider:
                raise WrongStaff(f"the case is with {subject.provider}")
            skills = {c for s in staff for c in self.roster().record(s)["competences"]}
            missing = required(subject.programme, frozenset(subject.needs)) - skills
            if missing:
                raise WrongStaff(f"the case needs {', '.join(sorted(missing))}")
        return provider

    def book(
        self, subject: Subject, kind: str, fmt: str, staff: Sequence[str], slot: Interval,
        meeting_id: UUID, provider: str,
    ) -> Meeting:  # fmt: skip
        first_contact = isinstance(subject, WaitingCase) and subject.waiting and not subject.live
        meeting = Meeting(
            meeting_id=meeting_id, case_id=subject.id, programme=subject.programme, kind=kind,
            format=fmt, provider=provider, staff=list(staff),
            starts_at=slot.start.astimezone(STOCKHOLM), ends_at=slot.end.astimezone(STOCKHOLM),
            first_contact=first_contact, booked_at=self.now,
        )  # fmt: skip
        self.uow.add(meeting)
        self.reserve(staff, meeting_id, slot)
        if isinstance(subject, WaitingCase):
            day = local_date(slot.start)
            subject.note_booked(meeting_id, day, provider, list(staff), first_contact)
        else:
            subject.note_booked(meeting_id)
        return meeting

    def slot_for(
        self, subject: Subject, rule: KindRule, staff: Sequence[str], minutes: int,
        starts_at: datetime | None, not_before: datetime | None, leave_out: UUID | None = None,
    ) -> Interval:  # fmt: skip
        """The requested time if it can be booked, else the earliest free one; or say why not."""
        wishes = Wishes(getattr(subject, "evenings", False), getattr(subject, "weekends", False))
        family = self.family_busy(subject, leave_out)
        wt = self.policy.working_time
        earliest = starts_at or max(not_before or self.now + self.policy.notice, self.now)
        first_day = local_date(earliest)
        last_day = first_day + timedelta(days=self.policy.search_days)
        if isinstance(subject, FieldActivity):  # night walks only while the activity runs
            opens = datetime.combine(subject.first_day, datetime.min.time(), STOCKHOLM)
            earliest = max(earliest, opens) if starts_at is None else earliest
            first_day, last_day = max(first_day, subject.first_day), subject.last_day
        times = [self.staff_time(s, first_day, last_day) for s in staff]
        if starts_at is None:
            slot = find_slot(times, wishes, rule.night, minutes, earliest, last_day, wt, family)
            if slot is None:
                raise Conflict(f"no common free time for {', '.join(staff)} by {last_day}")
            return slot
        slot = Interval(starts_at, starts_at + timedelta(minutes=minutes))
        if starts_at < self.now:
            raise NotBookable("the time has passed")
        if not first_day <= local_date(starts_at) <= last_day:
            raise NotBookable(f"the time lies outside {first_day}..{last_day}")
        refusal = why_not(times, wishes, rule.night, slot, wt, family)
        if refusal is not None:
            code, text = refusal
            error = {"taken": TimeTaken, "capacity": OverCapacity}.get(code, NotBookable)
            raise error(text)
        return slot
