"""The staff roster (what a record may hold) and each staff member's week: the aggregates that
make double booking impossible.

Every booking reserves its time in the :class:`StaffWeek` of each staff member in it, in the
same transaction as the meeting itself. A week checks that the new time overlaps none of its
reservations and fits the weekly capacity; two bookings made at once from stale copies of the
same week cannot both be stored, because the event store accepts only one event per aggregate
version. Bookings never span two dates (working windows end by midnight), so the week of a
booking's start holds all of it. A week also notes the meetings its staff member held, as
recorded, so that nobody is recorded holding two at once (:mod:`services.scheduling.held`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from events.types import PROGRAMMES
from infra.calendar import STOCKHOLM, local_date
from infra.unit_of_work import UnitOfWork
from services.scheduling.domain import NAMESPACE
from services.scheduling.errors import (
    Conflict,
    Invalid,
    OverCapacity,
    StaffAlreadyRegistered,
    TimeTaken,
    UnknownStaff,
)
from services.scheduling.matching import Member
from services.scheduling.policy import COMPETENCES, LEANLINK
from services.scheduling.timeplan import Availability, Interval, week_of

ROSTER_ID = uuid5(NAMESPACE, "roster")


class Roster(Aggregate):
    """Every staff member's provider, programmes, competences, capacity and time.

    One aggregate: the roster of a provider's family-support staff is a few dozen records that
    change seldom, and a booking must see all of it at once.
    """

    @staticmethod
    def create_id(**_: object) -> UUID:
        return ROSTER_ID

    @event("Started")
    def __init__(self) -> None:
        self.staff: dict[str, dict[str, Any]] = {}

    def record(self, staff_id: str) -> dict[str, Any]:
        try:
            return self.staff[staff_id]
        except KeyError:
            raise UnknownStaff(f"no staff member {staff_id!r} on the roster") from None

    def register(self, record: dict[str, Any]) -> bool:
        """Add a staff member; False if this exact record was registered before."""
        existing = self.staff.get(record["staff_id"])
        if existing == record:
            return False
        if existing is not None:
            raise StaffAlreadyRegistered(
                f"{record['staff_id']!r} is already on the roster; change the record instead"
            )
        self._registered(record)
        return True

    @event("StaffRegistered")
    def _registered(self, record: dict[str, Any]) -> None:
        self.staff[record["staff_id"]] = record

    def change(self, record: dict[str, Any]) -> bool:
        """Replace a staff member's record; False if nothing changed."""
        if self.record(record["staff_id"]) == record:
            return False
        self._changed(record)
        return True

    @event("StaffChanged")
    def _changed(self, record: dict[str, Any]) -> None:
        self.staff[record["staff_id"]] = record

    def members(self) -> list[Member]:
        return [member_of(r) for _, r in sorted(self.staff.items())]


def checked_record(record: dict[str, Any], providers: Sequence[str]) -> dict[str, Any]:
    """A roster record in its stored form (sorted, no repeats), or why it is refused."""
    if record["provider"] not in providers:
        raise Invalid(f"provider must be one of {', '.join(providers)}")
    if record["provider"] != LEANLINK and set(record["programmes"]) - {"counselling"}:
        raise Invalid(f"{record['provider']} provides counselling only")  # 003 §2.3
    if not set(record["programmes"]) <= set(PROGRAMMES):
        raise Invalid(f"programmes are {', '.join(PROGRAMMES)}")
    if not set(record["competences"]) <= COMPETENCES:
        raise Invalid(f"competences are {', '.join(sorted(COMPETENCES))}")
    if not 0 <= record["weekly_capacity_minutes"] <= 60 * 60:
        raise Invalid("weekly capacity is 0 to 60 hours")
    if any(first > last for first, last in record["absences"]):
        raise Invalid("an absence ends on or after the day it starts")
    return {
        **record,
        "programmes": sorted(set(record["programmes"])),
        "competences": sorted(set(record["competences"])),
        "absences": sorted([first, last] for first, last in record["absences"]),
    }


def booked_while_away(uow: UnitOfWork, record: dict[str, Any], now: datetime) -> list[UUID]:
    """The meetings still to come that the record's absences would cover."""
    clashes: list[UUID] = []
    for first, last in record["absences"]:
        week = week_of(max(first, local_date(now)))
        while week <= last:
            diary = uow.get(StaffWeek.create_id(record["staff_id"], week), StaffWeek)
            for meeting_id, (start, _) in (diary.bookings if diary else {}).items():
                if first <= local_date(start) <= last and start > now:
                    clashes.append(UUID(meeting_id))
            week += timedelta(days=7)
    return clashes


def member_of(record: dict[str, Any]) -> Member:
    return Member(
        staff_id=record["staff_id"],
        provider=record["provider"],
        programmes=frozenset(record["programmes"]),
        competences=frozenset(record["competences"]),
        weekly_capacity=record["weekly_capacity_minutes"],
        availability=Availability(
            evenings=record["evenings"],
            weekends=record["weekends"],
            absences=tuple((first, last) for first, last in record["absences"]),
        ),
    )


class StaffWeek(Aggregate):
    """One staff member's reservations in one ISO week (Monday to Sunday, local dates)."""

    @staticmethod
    def create_id(staff_id: str, week: date, **_: object) -> UUID:
        return uuid5(NAMESPACE, f"staff-week/{staff_id}/{week.isoformat()}")

    @event("Opened")
    def __init__(self, staff_id: str, week: date) -> None:
        self.staff_id = staff_id
        self.week = week
        #: Meeting id -> [start, end].
        self.bookings: dict[str, list[datetime]] = {}
        #: Meeting id -> [started, ended]: what this staff member held, as recorded (also a
        #: meeting booked for someone else that they held in that person's place).
        self.held: dict[str, list[datetime]] = {}

    def intervals(self) -> list[Interval]:
        return sorted(Interval(start, end) for start, end in self.bookings.values())

    @property
    def booked_minutes(self) -> int:
        return sum(i.minutes for i in self.intervals())

    def reserve(self, meeting_id: UUID, slot: Interval, capacity_minutes: int) -> None:
        """Reserve ``slot`` for the meeting, or say why it cannot be."""
        first, last = local_date(slot.start), local_date(slot.end - timedelta(microseconds=1))
        if first != last or week_of(first) != self.week:
            raise ValueError("a reservation lies within one day of its own week")
        key = str(meeting_id)
        if key in self.bookings:
            if Interval(*self.bookings[key]) == slot:
                return
            raise Conflict(f"meeting {meeting_id} already holds another time")
        for other, (start, end) in self.bookings.items():
            if Interval(start, end).overlaps(slot):
                when = start.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
                raise TimeTaken(f"{self.staff_id} is already booked from {when} (meeting {other})")
        if self.booked_minutes + slot.minutes > capacity_minutes:
            raise OverCapacity(
                f"{self.staff_id} has {capacity_minutes - self.booked_minutes} minutes left "
                f"in the week of {self.week}; the meeting needs {slot.minutes}"
            )
        self._reserved(meeting_id, slot.start, slot.end)

    @event("Reserved")
    def _reserved(self, meeting_id: UUID, starts_at: datetime, ends_at: datetime) -> None:
        self.bookings[str(meeting_id)] = [starts_at, ends_at]

    def release(self, meeting_id: UUID) -> None:
        if str(meeting_id) in self.bookings:
            self._released(meeting_id)

    @event("Released")
    def _released(self, meeting_id: UUID) -> None:
        del self.bookings[str(meeting_id)]

    def note_held(self, meeting_id: UUID, started_at: datetime, ended_at: datetime) -> None:
        """Record that the staff member held the meeting then (checked by the caller)."""
        if self.held.get(str(meeting_id)) != [started_at, ended_at]:
            self._held_noted(meeting_id, started_at, ended_at)

    @event("HeldNoted")
    def _held_noted(self, meeting_id: UUID, started_at: datetime, ended_at: datetime) -> None:
        self.held[str(meeting_id)] = [started_at, ended_at]
