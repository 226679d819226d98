"""Seed 004's "läsårsvis rekrytera ... 20 ungdomar": at most 20 polare active at once in a
school year; a drop-out's place may be taken by a replacement from the day they left."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.polare_roll import (
    AT_ONCE,
    Period,
    active_on,
    busiest_from,
    full_message,
    room_from,
)

START = date(2026, 7, 1)


def day(n: int) -> date:
    return START + timedelta(days=n)


def test_the_seed_recruits_twenty_at_once() -> None:
    assert AT_ONCE == 20


def test_a_polar_is_active_from_enrolment_until_the_day_they_left() -> None:
    period = Period(day(10), day(20))
    assert [period.active_on(day(n)) for n in (9, 10, 19, 20, 21)] == [
        False, True, True, False, False,
    ]  # fmt: skip
    assert Period(day(10)).active_on(day(10_000))


def test_twenty_active_refuse_a_twenty_first_and_a_drop_out_frees_a_place_from_its_day() -> None:
    full = [Period(day(50)) for _ in range(19)] + [Period(day(50), day(100))]
    assert room_from(full, day(60)) == (False, 20, day(60))
    assert room_from(full, day(99)) == (False, 20, day(99))
    assert room_from(full, day(100)) == (True, 19, day(100))  # the replacement, from that day
    replaced = [*full, Period(day(100))]
    assert room_from(replaced, day(101)) == (False, 20, day(101))
    assert active_on(replaced, day(120)) == 20 and len(replaced) == 21


def test_an_enrolment_dated_back_counts_the_replacements_enrolled_after_it() -> None:
    # One left on day 100 and was replaced on day 110: from day 100 on, one place was free
    # only until day 110, so a polar enrolled back on day 100 would make 21 from day 110.
    roll = [Period(day(50)) for _ in range(19)] + [Period(day(50), day(100)), Period(day(110))]
    assert room_from(roll, day(100)) == (False, 20, day(110))
    assert busiest_from(roll, day(100)) == (20, day(110))
    assert room_from(roll, day(105), limit=21) == (True, 20, day(110))


def test_the_refusal_says_why_in_words() -> None:
    said = full_message("2026/27", 20, date(2026, 9, 1))
    assert said.startswith("school year 2026/27 has 20 active polare on 2026-09-01, the most it")
    assert "at once (20: seed 004 recruits 20 youths per school year)" in said
    assert "lots polare leave" in said


periods = st.lists(
    st.builds(
        lambda start, length: Period(day(start), None if length is None else day(start + length)),
        st.integers(0, 60),
        st.none() | st.integers(0, 30),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(periods, st.integers(0, 100), st.integers(1, 6))
def test_room_is_exactly_no_day_from_then_on_at_the_limit(
    roll: list[Period], start: int, limit: int
) -> None:
    room, busiest, when = room_from(roll, day(start), limit)
    every_day = [active_on(roll, day(n)) for n in range(start, 130)]
    assert busiest == max(every_day) and active_on(roll, when) == busiest
    assert room == all(count < limit for count in every_day)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 300)), max_size=60), st.integers(1, 5))
def test_enrolments_and_drop_outs_the_rule_accepts_never_exceed_the_limit(
    steps: list[tuple[bool, int]], limit: int
) -> None:
    roll: list[Period] = []
    for enrol, on in steps:
        if enrol:
            if room_from(roll, day(on), limit)[0]:
                roll.append(Period(day(on)))
        else:
            open_ = [n for n, p in enumerate(roll) if p.end is None and p.start <= day(on)]
            if open_:
                roll[open_[0]] = Period(roll[open_[0]].start, day(on))
    assert all(active_on(roll, day(n)) <= limit for n in range(0, 302))
