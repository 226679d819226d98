"""One meeting at a time: the meetings a staff member is recorded to have held never overlap.

A person cannot hold two meetings at the same minutes, and billing pays every held meeting in
full, so a held record that overlaps another held meeting of one of its staff is refused
(:class:`~services.scheduling.errors.HeldElsewhere`, 409, naming the other meeting). Held
intervals are half-open: a meeting may start the minute the previous one ended.

When a meeting ran longer than booked into the next booking of the same staff member, that
booking is **recorded as started late**: its held record starts when the longer meeting ended
(or later), on its booked date, and says how long it actually lasted. It is not moved: it has
already begun, and a move is for meetings that have not. Records are taken in the order the
meetings took place; a held record is final, so recording the later meeting at its booked time
first would refuse the longer one.

Each held record is noted in the :class:`~services.scheduling.roster.StaffWeek` of every staff
member who held it (for each week its minutes touch), in the same transaction as the meeting:
two instances recording clashing meetings at once collide on that week and the second is judged
again on a fresh read. Meetings recorded held before the weeks kept what was held are found
through the bookings of the same days (:func:`held_by`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from uuid import UUID

from infra.calendar import STOCKHOLM, local_date
from services.scheduling.desk import Desk
from services.scheduling.domain_meeting import Meeting
from services.scheduling.errors import HeldElsewhere
from services.scheduling.roster import StaffWeek
from services.scheduling.timeplan import Interval, week_of


def days_of(span: Interval) -> list[date]:
    """The local dates ``span``'s minutes touch (a held meeting may run past midnight)."""
    first, last = local_date(span.start), local_date(span.end - timedelta(microseconds=1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def when_free(
    booked: datetime, staff: Iterable[str], free_from: Mapping[str, datetime]
) -> datetime:
    """When a meeting booked to start at ``booked`` can start: once each of its staff is free
    (``free_from``: when the last meeting each held ended). Later than booked: started late."""
    return max([booked, *(free_from[s] for s in staff if s in free_from)])


def first_clash(
    held: Mapping[str, Interval], meeting_id: UUID, span: Interval
) -> tuple[str, Interval] | None:
    """The earliest other meeting in ``held`` that overlaps ``span``, or None."""
    clashes = sorted(
        (other.start, key, other)
        for key, other in held.items()
        if key != str(meeting_id) and other.overlaps(span)
    )
    return (clashes[0][1], clashes[0][2]) if clashes else None


def held_by(desk: Desk, staff_id: str, days: Iterable[date]) -> dict[str, Interval]:
    """The meetings ``staff_id`` is recorded to have held, in the weeks of ``days``."""
    wanted = set(days)
    found: dict[str, Interval] = {}
    for week in sorted({week_of(day) for day in wanted}):
        diary = desk.uow.get(StaffWeek.create_id(staff_id, week), StaffWeek)
        if diary is None:
            continue
        found.update({key: Interval(*span) for key, span in diary.held.items()})
        for key, (start, _) in diary.bookings.items():
            if key in diary.held or local_date(start) not in wanted:
                continue
            meeting = desk.meeting(UUID(key))  # held before the week kept what was held
            if meeting.status == "held" and staff_id in meeting.outcome["staff"]:
                found[key] = Interval(meeting.outcome["started_at"], meeting.outcome["ended_at"])
    return found


def check_one_at_a_time(desk: Desk, meeting: Meeting, staff: Sequence[str], span: Interval) -> None:
    """Refuse a held record of ``meeting`` that overlaps another held meeting of its staff."""
    days = days_of(span)
    for staff_id in staff:
        clash = first_clash(held_by(desk, staff_id, days), meeting.id, span)
        if clash is None:
            continue
        other, when = clash
        start, end = (t.astimezone(STOCKHOLM) for t in when)
        if when.start <= span.start:
            advice = f"if this meeting started late, record it as started at {end:%H:%M} or later"
        else:  # the other, later meeting was recorded first, and a held record is final
            advice = f"this meeting must have ended by {start:%H:%M}, when that one started"
        raise HeldElsewhere(
            f"{staff_id} already held meeting {other} from {start:%Y-%m-%d %H:%M} to "
            f"{end:%H:%M}; one person holds one meeting at a time: {advice}"
        )


def note_held(desk: Desk, meeting: Meeting, staff: Sequence[str], span: Interval) -> None:
    """Note the held meeting in the week of each of its staff, for each week it touches."""
    for staff_id in staff:
        for week in sorted({week_of(day) for day in days_of(span)}):
            diary = desk.uow.get(StaffWeek.create_id(staff_id, week), StaffWeek)
            if diary is None:
                diary = StaffWeek(staff_id=staff_id, week=week)
                desk.uow.add(diary)
            diary.note_held(meeting.id, span.start, span.end)
