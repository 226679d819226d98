"""The Stockholm business calendar: local dates, business days and 24-hour deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from holidays.countries.sweden import Sweden
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.calendar import (
    STOCKHOLM,
    CalendarPolicy,
    add_business_hours,
    add_calendar_days,
    de_facto_days_off,
    is_business_day,
    legal_holidays,
    local_date,
    midsummer_eve,
    month_of,
)

LEGAL_ONLY = CalendarPolicy(de_facto_days_off=False)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=STOCKHOLM)


# --- local dates and months ----------------------------------------------------------------


def test_half_past_midnight_on_first_of_april_belongs_to_april() -> None:
    instant = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)  # 00:30 CEST on 1 April
    assert local_date(instant) == date(2026, 4, 1)
    assert month_of(instant) == "2026-04"


def test_winter_evening_in_utc_is_already_next_month_in_stockholm() -> None:
    assert month_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "2027-01"
    assert month_of(datetime(2026, 1, 31, 22, 59, tzinfo=UTC)) == "2026-01"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        local_date(datetime(2026, 4, 1, 0, 30))
    with pytest.raises(ValueError):
        month_of(datetime(2026, 4, 1, 0, 30))
    with pytest.raises(ValueError):
        add_business_hours(datetime(2026, 4, 1, 0, 30), 24)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2099, 12, 31),
        timezones=st.sampled_from([UTC, STOCKHOLM, timezone(timedelta(hours=-5))]),
    )
)
@settings(max_examples=300, deadline=None)
def test_month_is_the_month_of_the_stockholm_date(instant: datetime) -> None:
    assert month_of(instant) == local_date(instant).strftime("%Y-%m")
    assert local_date(instant) == instant.astimezone(STOCKHOLM).date()


# --- business days -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (date(2026, 4, 2), True),  # Maundy Thursday is a working day
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 4, 7), True),
        (date(2026, 1, 6), False),  # Epiphany
        (date(2026, 5, 1), False),  # May Day
        (date(2026, 5, 14), False),  # Ascension Day
        (date(2025, 6, 6), False),  # National Day on a Friday
        (date(2026, 6, 19), False),  # Midsummer Eve (de facto)
        (date(2026, 12, 24), False),  # Christmas Eve (de facto)
        (date(2026, 12, 25), False),  # Christmas Day
        (date(2026, 12, 31), False),  # New Year's Eve (de facto)
        (date(2027, 1, 1), False),  # New Year's Day
        (date(2026, 11, 2), True),  # an ordinary Monday
        (date(2026, 11, 7), False),  # Saturday
        (date(2026, 11, 8), False),  # Sunday
    ],
)
def test_business_days_are_weekdays_that_are_not_days_off(day: date, business: bool) -> None:
    assert is_business_day(day) is business


@pytest.mark.parametrize("day", [date(2026, 6, 19), date(2026, 12, 24), date(2026, 12, 31)])
def test_de_facto_days_off_are_business_days_when_the_policy_says_so(day: date) -> None:
    assert not is_business_day(day)
    assert is_business_day(day, LEGAL_ONLY)


def test_legal_holidays_stay_off_whatever_the_policy() -> None:
    assert not is_business_day(date(2026, 4, 3), LEGAL_ONLY)
    assert not is_business_day(date(2026, 12, 25), LEGAL_ONLY)


def test_sundays_are_not_listed_as_holidays() -> None:
    # The package lists every Sunday unless told not to; only real holidays belong here.
    assert date(2026, 11, 8) not in legal_holidays(2026)


@pytest.mark.parametrize(
    ("year", "eve"),
    [
        (2024, date(2024, 6, 21)),
        (2025, date(2025, 6, 20)),
        (2026, date(2026, 6, 19)),
        (2027, date(2027, 6, 25)),
    ],
)
def test_midsummer_eve_is_the_friday_between_19_and_25_june(year: int, eve: date) -> None:
    assert midsummer_eve(year) == eve


def test_de_facto_days_off_agree_with_the_holidays_package() -> None:
    # Guards the hand-written list against the package's own idea of "de facto" drifting.
    for year in range(1953, 2101):
        package = Sweden(years=year, include_sundays=False, categories=("de_facto",))
        assert de_facto_days_off(year) == frozenset(package), year


def test_years_without_holiday_data_are_refused_not_treated_as_holiday_free() -> None:
    with pytest.raises(ValueError):
        is_business_day(date(2101, 1, 3))


# --- 24 hours counted on weekdays ----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (local(2026, 11, 6, 15), local(2026, 11, 9, 15)),  # Friday 15:00 → Monday 15:00
        (local(2026, 11, 7, 10), local(2026, 11, 10)),  # Saturday → Monday 24:00
        (local(2026, 11, 8, 23, 59), local(2026, 11, 10)),  # late Sunday → Monday 24:00
        (local(2026, 11, 2, 9, 14), local(2026, 11, 3, 9, 14)),  # Monday → Tuesday
        (local(2026, 11, 6), local(2026, 11, 7)),  # Friday 00:00 → Friday 24:00
        (local(2026, 4, 2, 12), local(2026, 4, 7, 12)),  # Maundy Thursday over Easter
        (local(2026, 4, 3, 12), local(2026, 4, 8)),  # Good Friday → Tuesday 24:00
        (local(2026, 6, 18, 10), local(2026, 6, 22, 10)),  # over Midsummer
        (local(2026, 12, 23, 14), local(2026, 12, 28, 14)),  # over Christmas
        (local(2026, 12, 30, 16), local(2027, 1, 4, 16)),  # over New Year
    ],
)
def test_deadline_counts_only_business_days(start: datetime, due: datetime) -> None:
    assert add_business_hours(start, 24) == due


def test_midsummer_eve_counts_when_de_facto_days_are_working_days() -> None:
    assert add_business_hours(local(2026, 6, 18, 10), 24, LEGAL_ONLY) == local(2026, 6, 19, 10)


def test_spring_clock_change_keeps_the_wall_clock_time() -> None:
    # Clocks go forward on Sunday 29 March 2026: the deadline stays at 15:00, now CEST.
    due = add_business_hours(local(2026, 3, 27, 15), 24)
    assert due == local(2026, 3, 30, 15)
    assert due.utcoffset() == timedelta(hours=2)
    assert add_business_hours(local(2026, 3, 28, 10), 24) == local(2026, 3, 31)
    # 02:30 on that Sunday does not exist on the wall clock; it still counts nothing.
    assert add_business_hours(local(2026, 3, 29, 2, 30), 24) == local(2026, 3, 31)


def test_autumn_clock_change_keeps_the_wall_clock_time() -> None:
    # Clocks go back on Sunday 25 October 2026: 02:30 happens twice, neither counts.
    due = add_business_hours(local(2026, 10, 23, 15), 24)
    assert due == local(2026, 10, 26, 15)
    assert due.utcoffset() == timedelta(hours=1)
    assert add_business_hours(local(2026, 10, 25, 2, 30).replace(fold=1), 24) == local(2026, 10, 27)


def test_deadline_is_in_stockholm_time_whatever_the_start_zone() -> None:
    due = add_business_hours(datetime(2026, 11, 6, 14, tzinfo=UTC), 24)
    assert due.tzinfo == STOCKHOLM
    assert due == local(2026, 11, 9, 15)


def test_zero_hours_is_the_start_and_negative_hours_are_refused() -> None:
    start = datetime(2026, 11, 7, 9, tzinfo=UTC)
    assert add_business_hours(start, 0) == start
    with pytest.raises(ValueError):
        add_business_hours(start, -1)


def business_time_between(start: datetime, end: datetime, policy: CalendarPolicy) -> timedelta:
    """Independent oracle: the wall-clock time between two instants that lies on business days."""
    a, b = (
        start.astimezone(STOCKHOLM).replace(tzinfo=None),
        end.astimezone(STOCKHOLM).replace(tzinfo=None),
    )
    total = timedelta(0)
    day = a.date()
    while day <= b.date():
        if is_business_day(day, policy):
            lo = max(a, datetime.combine(day, time()))
            hi = min(b, datetime.combine(day + timedelta(days=1), time()))
            total += max(hi - lo, timedelta(0))
        day += timedelta(days=1)
    return total


starts = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=st.sampled_from([STOCKHOLM, UTC, timezone(timedelta(hours=9))]),
)
dst_weekends = st.datetimes(
    min_value=datetime(2026, 3, 25), max_value=datetime(2026, 4, 1), timezones=st.just(STOCKHOLM)
) | st.datetimes(
    min_value=datetime(2026, 10, 21), max_value=datetime(2026, 10, 28), timezones=st.just(STOCKHOLM)
)


@given(start=starts | dst_weekends, hours=st.integers(1, 24 * 12), de_facto=st.booleans())
@settings(max_examples=600, deadline=None)
def test_deadline_properties(start: datetime, hours: int, de_facto: bool) -> None:
    policy = CalendarPolicy(de_facto_days_off=de_facto)
    due = add_business_hours(start, hours, policy)
    assert due.tzinfo == STOCKHOLM
    # In elapsed time (UTC arithmetic: adding to an aware local time would add wall-clock time).
    assert due >= start.astimezone(UTC) + timedelta(hours=hours)
    # It lands inside a business day, or exactly at the end of one.
    if due.time() == time(0):
        assert is_business_day(due.date() - timedelta(days=1), policy)
    else:
        assert is_business_day(due.date(), policy)
    # Exactly the promised business time lies between receipt and deadline.
    assert business_time_between(start, due, policy) == timedelta(hours=hours)


@given(start=starts | dst_weekends)
@settings(max_examples=300, deadline=None)
def test_one_more_hour_always_moves_the_deadline_later(start: datetime) -> None:
    assert add_business_hours(start, 25) > add_business_hours(start, 24)


# --- calendar days -------------------------------------------------------------------------


def test_two_weeks_are_fourteen_calendar_days() -> None:
    assert add_calendar_days(date(2026, 11, 2), 14) == date(2026, 11, 16)
    assert add_calendar_days(date(2026, 12, 24), 14) == date(2027, 1, 7)  # holidays count too
    assert add_calendar_days(date(2028, 2, 20), 14) == date(2028, 3, 5)  # leap year
