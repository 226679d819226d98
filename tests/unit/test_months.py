"""infra/months.py: the one reading, writing and stepping of ``YYYY-MM`` months."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.months import (
    MonthError,
    add_months,
    check,
    end_of_month,
    first_day,
    last_day,
    month_end,
    month_of_date,
    months_before,
    months_between,
    months_through,
    next_month,
    previous_month,
)

days = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
months = days.map(month_of_date)
near_days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
# Months with a year on either side, so that stepping by up to twelve never leaves 0001..9999.
inner_months = st.dates(min_value=date(2, 1, 1), max_value=date(9998, 12, 31)).map(month_of_date)


@given(days)
def test_a_day_lies_between_its_months_first_and_last_day(day: date) -> None:
    month = month_of_date(day)
    assert first_day(month) <= day <= month_end(month) == end_of_month(day)
    assert month_of_date(first_day(month)) == month == month_of_date(month_end(month))


@given(months)
def test_a_month_written_is_read_back_the_same(month: str) -> None:
    assert check(month) == month
    assert month_of_date(first_day(month)) == month
    assert first_day(month).isoformat()[:7] == month


@given(months)
def test_the_next_month_begins_the_day_after_the_last(month: str) -> None:
    if month == "9999-12":
        with pytest.raises(MonthError):
            next_month(month)
        return
    assert first_day(next_month(month)) == month_end(month) + timedelta(days=1)


@given(inner_months)
def test_next_and_previous_undo_each_other(month: str) -> None:
    assert previous_month(next_month(month)) == month
    assert next_month(previous_month(month)) == month
    assert next_month(month) > month > previous_month(month)


@given(inner_months, st.integers(min_value=-12, max_value=12), st.integers(-12, 12))
def test_steps_add_up(month: str, a: int, b: int) -> None:
    assert add_months(add_months(month, a), b) == add_months(month, a + b)
    later = add_months(month, a)
    assert months_between(first_day(month), first_day(later)) == a


@given(near_days, near_days)
def test_months_between_counts_the_months_walked_through(first: date, later: date) -> None:
    start, end = month_of_date(first), month_of_date(later)
    walked = list(months_through(start, end))
    if start <= end:
        assert months_between(first, later) == len(walked) - 1
        assert (walked[0], walked[-1]) == (start, end)
        assert all(next_month(a) == b for a, b in pairwise(walked))
    else:
        assert walked == [] and months_between(first, later) < 0
    assert months_between(first, later) == -months_between(later, first)


@given(days, st.integers(min_value=-24, max_value=24))
def test_the_same_day_months_earlier_is_clamped_to_a_shorter_month(day: date, n: int) -> None:
    if not date(3, 1, 1) <= day <= date(9997, 12, 31):
        return
    earlier = months_before(day, n)
    assert months_between(earlier, day) == n
    assert earlier.day == min(day.day, end_of_month(earlier).day)


@pytest.mark.parametrize(
    ("month", "following"), [("2022-05", "2022-06"), ("2022-12", "2023-01"), ("0999-09", "0999-10")]
)
def test_the_month_after(month: str, following: str) -> None:
    assert next_month(month) == following


def test_february_ends_on_the_leap_day_in_a_leap_year() -> None:
    assert (last_day(2024, 2), last_day(2023, 2), last_day(1900, 2)) == (
        date(2024, 2, 29),
        date(2023, 2, 28),
        date(1900, 2, 28),
    )
    assert months_before(date(2024, 5, 31), 3) == date(2024, 2, 29)


@pytest.mark.parametrize("bad", ["2024-13", "2024-00", "0000-01", "2024-5", "24-05", "x", ""])
def test_a_month_not_written_yyyy_mm_is_refused(bad: str) -> None:
    with pytest.raises(MonthError, match="month must be YYYY-MM"):
        first_day(bad)


def test_there_is_no_month_before_the_first_or_after_the_last() -> None:
    with pytest.raises(MonthError):
        previous_month("0001-01")
    with pytest.raises(MonthError):
        next_month("9999-12")
