"""One meeting at a time: which held meeting a new held record clashes with, and the days a
held meeting touches, as pure functions."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from infra.calendar import STOCKHOLM
from services.scheduling.held import days_of, first_clash
from services.scheduling.roster import StaffWeek
from services.scheduling.timeplan import Interval

BASE = datetime(2026, 3, 3, 8, tzinfo=STOCKHOLM)
ME = uuid.UUID(int=0)


def span(start: int, minutes: int) -> Interval:
    return Interval(BASE + timedelta(minutes=start), BASE + timedelta(minutes=start + minutes))


spans = st.tuples(st.integers(0, 600), st.integers(1, 180))


@given(st.lists(spans, max_size=8), spans)
def test_a_clash_is_the_earliest_other_held_meeting_sharing_a_minute(
    others: list[tuple[int, int]], mine: tuple[int, int]
) -> None:
    held = {str(uuid.UUID(int=n + 1)): span(*s) for n, s in enumerate(others)}
    held[str(ME)] = span(*mine)  # its own earlier record is never a clash
    new = span(*mine)
    minutes = set(range(mine[0], mine[0] + mine[1]))
    sharing = [
        (s[0], str(uuid.UUID(int=n + 1)))
        for n, s in enumerate(others)
        if minutes & set(range(s[0], s[0] + s[1]))
    ]
    clash = first_clash(held, ME, new)
    if not sharing:
        assert clash is None
    else:
        assert clash is not None and held[clash[0]] == clash[1]
        assert clash[1].start == BASE + timedelta(minutes=min(sharing)[0])


def test_meetings_that_touch_do_not_clash() -> None:
    assert first_clash({"a": span(0, 60)}, ME, span(60, 60)) is None
    assert first_clash({"a": span(0, 61)}, ME, span(60, 60)) == ("a", span(0, 61))


def test_a_meeting_past_midnight_touches_two_days_and_ending_at_midnight_one() -> None:
    evening = datetime(2026, 3, 8, 23, tzinfo=STOCKHOLM)  # a Sunday: the next day is a new week
    assert days_of(Interval(evening, evening + timedelta(hours=1))) == [date(2026, 3, 8)]
    assert days_of(Interval(evening, evening + timedelta(hours=2))) == [
        date(2026, 3, 8),
        date(2026, 3, 9),
    ]


def test_a_staff_week_notes_a_held_meeting_once() -> None:
    week = StaffWeek(staff_id="anna", week=date(2026, 3, 2))
    meeting = uuid.uuid4()
    week.note_held(meeting, BASE, BASE + timedelta(hours=1))
    week.note_held(meeting, BASE, BASE + timedelta(hours=1))
    assert week.held == {str(meeting): [BASE, BASE + timedelta(hours=1)]}
    assert [type(e).__name__ for e in week.collect_events()] == ["Opened", "HeldNoted"]
