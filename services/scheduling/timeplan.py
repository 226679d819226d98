"""Working time and free times: pure functions of availability, the calendar and the bookings.

A staff member can be booked on a local date only inside the windows of
:class:`~services.scheduling.policy.WorkingTime` that apply to them and the family; never on a
legal holiday or (by calendar policy) a de-facto day off; never on a day of absence; never over
another booking; never beyond their weekly capacity. Times are aware datetimes; windows are laid
out on the Stockholm wall clock, so 08:00 stays 08:00 across the daylight-saving changes, while
durations are real elapsed minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NamedTuple

from infra.calendar import STOCKHOLM, de_facto_days_off, legal_holidays, local_date
from services.scheduling.policy import WorkingTime

DAY = timedelta(days=1)


class Interval(NamedTuple):
    """A half-open span of time ``[start, end)`` between aware datetimes."""

    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    @property
    def minutes(self) -> int:
        # Through UTC: Python subtracts datetimes of one zone on the wall clock.
        return int((self.end.astimezone(UTC) - self.start.astimezone(UTC)).total_seconds() // 60)


@dataclass(frozen=True)
class Availability:
    """What a staff member offers beyond office hours, and the days they are away (inclusive)."""

    evenings: bool = False
    weekends: bool = False
    absences: tuple[tuple[date, date], ...] = ()

    def absent_on(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.absences)


@dataclass(frozen=True)
class Wishes:
    """Whether the family asks for evening or weekend times (night walks ignore this)."""

    evenings: bool = False
    weekends: bool = False


@dataclass(frozen=True)
class StaffTime:
    """One staff member's time as a booking sees it."""

    availability: Availability
    busy: tuple[Interval, ...] = ()
    weekly_capacity: int = 40 * 60
    #: Minutes already booked per ISO week, keyed by the week's Monday.
    booked: Mapping[date, int] = field(default_factory=dict)


def utc(interval: Interval) -> Interval:
    return Interval(interval.start.astimezone(UTC), interval.end.astimezone(UTC))


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week: the unit of weekly capacity."""
    return day - timedelta(days=day.weekday())


def is_day_off(day: date, working_time: WorkingTime) -> bool:
    """A legal holiday, or a de-facto day off when the calendar policy says so."""
    if day in legal_holidays(day.year):
        return True
    return working_time.calendar.de_facto_days_off and day in de_facto_days_off(day.year)


def at_local(day: date, minute: int) -> datetime:
    """The instant (in UTC) at ``minute`` minutes past local midnight of ``day`` on the wall
    clock (1440 is the next midnight).

    UTC, because Python subtracts two datetimes of the same zone on the wall clock: working in
    UTC keeps every duration and grid step real elapsed time, also on a clock-change night.
    """
    wall = datetime.combine(day + timedelta(days=minute // 1440), time(), tzinfo=STOCKHOLM)
    return wall.replace(hour=(minute % 1440) // 60, minute=minute % 60).astimezone(UTC)


def windows(
    day: date, availability: Availability, wishes: Wishes, night: bool, wt: WorkingTime
) -> list[Interval]:
    """The times on ``day`` a meeting of this staff member and family may be booked in."""
    if is_day_off(day, wt) or availability.absent_on(day):
        return []
    weekend = day.weekday() >= 5
    spans: list[tuple[int, int]] = []
    if night:
        # A night walk needs someone who works evenings, and on a Saturday also weekends.
        offered = availability.evenings and (availability.weekends or not weekend)
        if day.weekday() in wt.night_weekdays and offered:
            spans.append(wt.night)
    elif not weekend:
        spans.append(wt.day)
        if availability.evenings and wishes.evenings:
            spans.append(wt.evening)
    elif availability.weekends and wishes.weekends:
        spans.append(wt.weekend)
    return merge(Interval(at_local(day, a), at_local(day, b)) for a, b in spans)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined."""
    out: list[Interval] = []
    for current in sorted(intervals):
        if out and current.start <= out[-1].end:
            out[-1] = Interval(out[-1].start, max(out[-1].end, current.end))
        else:
            out.append(current)
    return out


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The times in both (each list sorted and disjoint)."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i].start, b[j].start), min(a[i].end, b[j].end)
        if start < end:
            out.append(Interval(start, end))
        if a[i].end < b[j].end:
            i += 1
        else:
            j += 1
    return out


def first_free(
    spans: Sequence[Interval],
    busy: Sequence[Interval],
    duration: timedelta,
    not_before: datetime,
    step: timedelta,
) -> Interval | None:
    """The earliest ``duration`` inside one of ``spans``, clear of ``busy``, not before
    ``not_before``, starting on the window's grid of ``step`` (08:00, 08:15, ...)."""
    for span in spans:
        start = span.start
        if start < not_before:
            start += -((start - not_before) // step) * step  # round up onto the grid
        while start + duration <= span.end:
            slot = Interval(start, start + duration)
            clash = [b for b in busy if b.overlaps(slot)]
            if not clash:
                return slot
            latest = max(b.end for b in clash)
            start += -((start - latest) // step) * step
    return None


def combined(
    day: date, staff: Sequence[StaffTime], wishes: Wishes, night: bool, wt: WorkingTime
) -> list[Interval]:
    """The windows on ``day`` that every one of ``staff`` can be booked in together."""
    spans: list[Interval] | None = None
    for person in staff:
        own = windows(day, person.availability, wishes, night, wt)
        spans = own if spans is None else intersect(spans, own)
    return spans or []


def has_room(person: StaffTime, day: date, minutes: int) -> bool:
    return person.booked.get(week_of(day), 0) + minutes <= person.weekly_capacity


def find_slot(
    staff: Sequence[StaffTime],
    wishes: Wishes,
    night: bool,
    minutes: int,
    not_before: datetime,
    last_day: date,
    wt: WorkingTime,
    also_busy: Sequence[Interval] = (),
) -> Interval | None:
    """The earliest time all of ``staff`` can meet for ``minutes``, starting no later than on
    ``last_day`` (local), clear of ``also_busy`` (the family's other meetings), or None."""
    if not staff or minutes <= 0:
        return None
    duration, step = timedelta(minutes=minutes), timedelta(minutes=wt.step_minutes)
    busy = sorted(utc(b) for b in [*also_busy, *(b for person in staff for b in person.busy)])
    not_before = not_before.astimezone(UTC)
    day = local_date(not_before)
    while day <= last_day:
        if all(has_room(person, day, minutes) for person in staff):
            spans = combined(day, staff, wishes, night, wt)
            slot = first_free(spans, busy, duration, not_before, step)
            if slot is not None:
                return slot
        day += DAY
    return None


Refusal = Literal["grid", "day_off", "outside", "taken", "capacity"]


def why_not(
    staff: Sequence[StaffTime],
    wishes: Wishes,
    night: bool,
    slot: Interval,
    wt: WorkingTime,
    also_busy: Sequence[Interval] = (),
) -> tuple[Refusal, str] | None:
    """Why ``slot`` cannot be booked for all of ``staff``, or None if it can."""
    slot = utc(slot)
    day = local_date(slot.start)
    local = slot.start.astimezone(STOCKHOLM)
    if local.second or local.microsecond or local.minute % wt.step_minutes:
        return "grid", f"times start on the {wt.step_minutes}-minute grid"
    if is_day_off(day, wt):
        return "day_off", f"{day} is a public holiday or a day off"
    if not any(w.contains(slot) for w in combined(day, staff, wishes, night, wt)):
        return "outside", "outside the working time of the staff or the times the family asked for"
    if any(b.overlaps(slot) for b in also_busy):
        return "taken", "the family has another meeting at that time"
    if any(b.overlaps(slot) for person in staff for b in person.busy):
        return "taken", "the staff are already booked at that time"
    if not all(has_room(person, day, slot.minutes) for person in staff):
        return "capacity", "the week's capacity of the staff is used up"
    return None
