"""Working time and free times: office hours, evenings and weekends on request, night walks,
no holidays (Easter, Midsummer), and local times that survive the autumn clock change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.calendar import STOCKHOLM, CalendarPolicy, legal_holidays, local_date
from services.scheduling.policy import WorkingTime
from services.scheduling.timeplan import (
    Availability,
    Interval,
    StaffTime,
    Wishes,
    find_slot,
    first_free,
    intersect,
    is_day_off,
    merge,
    week_of,
    why_not,
    windows,
)

WT = WorkingTime()
OFFICE = Availability()
EVERYTHING = Availability(evenings=True, weekends=True)
ASKS_ALL = Wishes(evenings=True, weekends=True)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=STOCKHOLM)


def span(day: date, start_h: float, end_h: float) -> Interval:
    base = datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM)
    return Interval(base + timedelta(hours=start_h), base + timedelta(hours=end_h))


# --- windows ---------------------------------------------------------------------------------


def test_a_weekday_offers_office_hours_only() -> None:
    monday = date(2026, 3, 30)
    assert windows(monday, OFFICE, Wishes(), False, WT) == [span(monday, 8, 17)]
    assert windows(monday, EVERYTHING, Wishes(), False, WT) == [span(monday, 8, 17)]


@pytest.mark.parametrize(
    ("evenings", "asks", "end"),
    [(False, False, 17), (True, False, 17), (False, True, 17), (True, True, 20)],
)
def test_evenings_are_booked_only_when_the_staff_offers_and_the_family_asks(
    evenings: bool, asks: bool, end: int
) -> None:
    day = date(2026, 3, 31)
    got = windows(day, Availability(evenings=evenings), Wishes(evenings=asks), False, WT)
    assert got == [span(day, 8, end)]


@pytest.mark.parametrize(("offers", "asks"), [(False, False), (True, False), (False, True)])
def test_a_weekend_is_closed_unless_the_staff_offers_it_and_the_family_asks(
    offers: bool, asks: bool
) -> None:
    saturday = date(2026, 4, 11)
    assert windows(saturday, Availability(weekends=offers), Wishes(weekends=asks), False, WT) == []


def test_a_weekend_day_offered_and_asked_for_is_open_from_ten_to_four() -> None:
    saturday = date(2026, 4, 11)
    got = windows(saturday, Availability(weekends=True), Wishes(weekends=True), False, WT)
    assert got == [span(saturday, 10, 16)]


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 5),  # Easter Sunday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),  # May Day
        date(2026, 5, 14),  # Ascension Day
        date(2026, 6, 6),  # National Day (a Saturday)
        date(2026, 6, 19),  # Midsummer Eve: a day off in practice
        date(2026, 6, 20),  # Midsummer Day
        date(2026, 10, 31),  # All Saints' Day
        date(2026, 12, 24),  # Christmas Eve
        date(2026, 12, 25),
        date(2027, 1, 6),  # Epiphany
    ],
)
def test_no_time_is_ever_offered_on_a_public_holiday_or_day_off(day: date) -> None:
    assert is_day_off(day, WT)
    for night in (False, True):
        assert windows(day, EVERYTHING, ASKS_ALL, night, WT) == []


def test_midsummer_eve_is_a_working_day_when_the_calendar_policy_says_so() -> None:
    legal_only = WorkingTime(calendar=CalendarPolicy(de_facto_days_off=False))
    eve = date(2026, 6, 19)
    assert windows(eve, OFFICE, Wishes(), False, legal_only) == [span(eve, 8, 17)]
    assert windows(date(2026, 6, 20), EVERYTHING, ASKS_ALL, False, legal_only) == []


def test_a_staff_member_is_never_offered_on_a_day_of_absence() -> None:
    away = Availability(absences=((date(2026, 4, 7), date(2026, 4, 9)),))
    assert windows(date(2026, 4, 8), away, Wishes(), False, WT) == []
    assert windows(date(2026, 4, 10), away, Wishes(), False, WT) != []


def test_night_walks_are_friday_and_saturday_nights_for_staff_who_work_evenings() -> None:
    friday, saturday, tuesday = date(2026, 4, 10), date(2026, 4, 11), date(2026, 4, 14)
    assert windows(friday, Availability(evenings=True), Wishes(), True, WT) == [
        span(friday, 18, 24)
    ]
    assert windows(saturday, Availability(evenings=True), Wishes(), True, WT) == []
    assert windows(saturday, EVERYTHING, Wishes(), True, WT) == [span(saturday, 18, 24)]
    assert windows(tuesday, EVERYTHING, Wishes(), True, WT) == []
    assert windows(friday, OFFICE, Wishes(), True, WT) == []


# --- the autumn clock change (Sunday 25 October 2026, 03:00 CEST -> 02:00 CET) ------------------


def test_office_hours_keep_their_local_time_across_the_autumn_clock_change() -> None:
    friday_late = local(2026, 10, 23, 16, 30)
    slot = find_slot([StaffTime(OFFICE)], Wishes(), False, 60, friday_late, date(2026, 10, 30), WT)
    assert slot is not None
    assert slot.start.astimezone(STOCKHOLM) == local(2026, 10, 26, 8)
    assert slot.start == datetime(2026, 10, 26, 7, tzinfo=UTC)  # CET: one hour behind UTC
    friday = find_slot(
        [StaffTime(OFFICE)], Wishes(), False, 60, local(2026, 10, 23, 7), date(2026, 10, 23), WT
    )
    assert friday is not None and friday.start == datetime(2026, 10, 23, 6, tzinfo=UTC)  # CEST


def test_a_weekend_meeting_on_the_night_the_clocks_go_back_lasts_its_real_minutes() -> None:
    sunday = date(2026, 10, 25)
    got = windows(sunday, EVERYTHING, ASKS_ALL, False, WT)
    assert got == [
        Interval(datetime(2026, 10, 25, 9, tzinfo=UTC), datetime(2026, 10, 25, 15, tzinfo=UTC))
    ]
    slot = find_slot(
        [StaffTime(EVERYTHING)], ASKS_ALL, False, 90, local(2026, 10, 25, 0), sunday, WT
    )
    assert slot is not None and slot.minutes == 90
    assert slot.start.astimezone(STOCKHOLM).hour == 10


def test_the_night_walk_before_the_clock_change_ends_at_local_midnight() -> None:
    saturday = date(2026, 10, 24)
    (night,) = windows(saturday, EVERYTHING, Wishes(), True, WT)
    assert night.end == datetime(2026, 10, 24, 22, tzinfo=UTC)  # 00:00 CEST on Sunday
    assert night.minutes == 6 * 60


# --- finding a free time ----------------------------------------------------------------------


def test_the_earliest_free_time_skips_bookings_and_stays_on_the_grid() -> None:
    day = date(2026, 3, 31)
    busy = (span(day, 8, 9.5), span(day, 9.75, 10.1))
    slot = first_free(
        [span(day, 8, 17)], busy, timedelta(hours=1), local(2026, 3, 31, 7), timedelta(minutes=15)
    )
    assert slot == span(day, 10.25, 11.25)


def test_not_before_is_rounded_up_onto_the_grid() -> None:
    day = date(2026, 3, 31)
    slot = first_free(
        [span(day, 8, 17)], (), timedelta(hours=1), local(2026, 3, 31, 9, 7), timedelta(minutes=15)
    )
    assert slot == span(day, 9.25, 10.25)


def test_no_time_is_offered_beyond_the_last_day() -> None:
    full = (span(date(2026, 3, 31), 8, 17),)
    time = StaffTime(OFFICE, busy=full)
    assert (
        find_slot([time], Wishes(), False, 60, local(2026, 3, 31, 8), date(2026, 3, 31), WT) is None
    )
    later = find_slot([time], Wishes(), False, 60, local(2026, 3, 31, 8), date(2026, 4, 1), WT)
    assert later == span(date(2026, 4, 1), 8, 9)


def test_a_used_up_week_moves_the_time_to_the_next_week() -> None:
    time = StaffTime(OFFICE, weekly_capacity=120, booked={date(2026, 3, 30): 90})
    slot = find_slot([time], Wishes(), False, 60, local(2026, 3, 31, 8), date(2026, 4, 30), WT)
    assert slot == span(date(2026, 4, 7), 8, 9)  # Monday 6 April is Easter Monday


def test_two_staff_meet_when_both_are_free() -> None:
    day = date(2026, 3, 31)
    a = StaffTime(OFFICE, busy=(span(day, 8, 10),))
    b = StaffTime(OFFICE, busy=(span(day, 10, 12),))
    assert find_slot([a, b], Wishes(), False, 60, local(2026, 3, 31, 8), day, WT) == span(
        day, 12, 13
    )


def test_the_familys_other_meetings_are_avoided_too() -> None:
    day = date(2026, 3, 31)
    slot = find_slot(
        [StaffTime(OFFICE)], Wishes(), False, 60, local(2026, 3, 31, 8), day, WT, [span(day, 8, 9)]
    )
    assert slot == span(day, 9, 10)


@pytest.mark.parametrize(
    ("slot", "code"),
    [
        (span(date(2026, 4, 3), 9, 10), "day_off"),
        (span(date(2026, 3, 31), 16.5, 17.5), "outside"),
        (span(date(2026, 3, 31), 9.1, 10.1), "grid"),
        (span(date(2026, 3, 31), 8.5, 9.5), "taken"),
        (span(date(2026, 4, 1), 8, 9), "capacity"),
        (span(date(2026, 4, 1), 16, 17), None),
    ],
)
def test_why_a_time_cannot_be_booked_is_named(slot: Interval, code: str | None) -> None:
    time = StaffTime(OFFICE, busy=(span(date(2026, 3, 31), 8, 9),), weekly_capacity=150,
                     booked={date(2026, 3, 30): 60})  # fmt: skip
    small = StaffTime(OFFICE, weekly_capacity=30) if code == "capacity" else time
    refusal = why_not([small], Wishes(), False, slot, WT)
    assert (refusal[0] if refusal else None) == code


def test_merge_and_intersect_of_spans() -> None:
    day = date(2026, 3, 31)
    assert merge([span(day, 9, 10), span(day, 8, 9), span(day, 12, 13)]) == [
        span(day, 8, 10),
        span(day, 12, 13),
    ]
    assert intersect([span(day, 8, 12)], [span(day, 9, 10), span(day, 11, 14)]) == [
        span(day, 9, 10),
        span(day, 11, 12),
    ]


# --- property: a found time is free, inside working time, and the earliest --------------------

days = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 20))


@st.composite
def bookings(draw: st.DrawFn, first: date) -> tuple[Interval, ...]:
    out = []
    for _ in range(draw(st.integers(0, 8))):
        day = first + timedelta(days=draw(st.integers(0, 9)))
        start = draw(st.integers(6 * 4, 22 * 4)) / 4
        out.append(span(day, start, start + draw(st.integers(1, 12)) / 4))
    return tuple(out)


def brute_force(
    time: StaffTime, wishes: Wishes, night: bool, minutes: int, not_before: datetime, last: date
) -> Interval | None:
    """Every grid time of every window, day by day: the first that is free."""
    day = local_date(not_before)
    while day <= last:
        if time.booked.get(week_of(day), 0) + minutes <= time.weekly_capacity:
            for window in windows(day, time.availability, wishes, night, WT):
                start = window.start
                while start + timedelta(minutes=minutes) <= window.end:
                    slot = Interval(start, start + timedelta(minutes=minutes))
                    if start >= not_before and not any(b.overlaps(slot) for b in time.busy):
                        return slot
                    start += timedelta(minutes=WT.step_minutes)
        day += timedelta(days=1)
    return None


@settings(max_examples=300, deadline=None)
@given(
    first=days,
    hour=st.integers(0, 23),
    evenings=st.booleans(),
    weekends=st.booleans(),
    wishes=st.builds(Wishes, st.booleans(), st.booleans()),
    night=st.booleans(),
    minutes=st.sampled_from([15, 30, 45, 60, 90, 120, 180]),
    data=st.data(),
)
def test_a_found_time_is_free_inside_working_time_never_on_a_holiday_and_the_earliest(
    first: date,
    hour: int,
    evenings: bool,
    weekends: bool,
    wishes: Wishes,
    night: bool,
    minutes: int,
    data: st.DataObject,
) -> None:
    staff_time = StaffTime(Availability(evenings, weekends), busy=data.draw(bookings(first)))
    not_before = local(first.year, first.month, first.day, hour)
    last = first + timedelta(days=9)
    slot = find_slot([staff_time], wishes, night, minutes, not_before, last, WT)
    assert slot == brute_force(staff_time, wishes, night, minutes, not_before, last)
    if slot is None:
        return
    day = local_date(slot.start)
    assert day not in legal_holidays(day.year) and not is_day_off(day, WT)
    assert local_date(slot.end - timedelta(microseconds=1)) == day
    assert slot.start >= not_before and slot.minutes == minutes
    assert why_not([staff_time], wishes, night, slot, WT) is None
    start, end = slot.start.astimezone(STOCKHOLM), slot.end.astimezone(STOCKHOLM)
    if night:
        assert start.weekday() in (4, 5) and evenings and time(18) <= start.time()
    elif start.weekday() >= 5:
        assert weekends and wishes.weekends
        assert time(10) <= start.time() and end.time() <= time(16)
    else:
        latest = time(20) if evenings and wishes.evenings else time(17)
        assert time(8) <= start.time() and end.time() <= latest
