"""The grace window's end, exhaustively around month ends, holidays and clock changes; and the
cap forecast's date as a function of the pace (hypothesis)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.calendar import STOCKHOLM, CalendarPolicy, is_business_day
from services.billing.forecast import business_days, forecast
from services.billing.grace import (
    grace_ends,
    grace_over,
    grace_record,
    in_grace,
    last_grace_day,
)
from services.billing.settings import BillingSettings
from services.billing.settlement import month_start, next_month

LEGAL_ONLY = CalendarPolicy(de_facto_days_off=False)
MONTHS = [f"{y:04d}-{m:02d}" for y in range(2020, 2031) for m in range(1, 13)]


# --- the end of the grace window ----------------------------------------------------------------


@pytest.mark.parametrize("policy", [CalendarPolicy(), LEGAL_ONLY])
def test_every_month_of_eleven_years_and_every_window_up_to_ten_days(
    policy: CalendarPolicy,
) -> None:
    """The window holds exactly ``days`` business days after the month, ends on a business
    day's 24:00 (as the next day's 00:00 Stockholm), and never before the month is over."""
    for month in MONTHS:
        first_after = month_start(next_month(month))
        assert grace_ends(month, 0, policy) == datetime.combine(first_after, time(), STOCKHOLM)
        for days in range(1, 11):
            ends = grace_ends(month, days, policy)
            assert ends.tzinfo is STOCKHOLM and ends.timetz().replace(tzinfo=None) == time()
            last = ends.date() - timedelta(days=1)
            assert last == last_grace_day(month, days, policy)
            assert is_business_day(last, policy)
            assert business_days(first_after, last, policy) == days
            assert ends > grace_ends(month, days - 1, policy)


@pytest.mark.parametrize(
    ("month", "days", "last_day_in_grace"),
    [
        # December: Christmas Eve .. Epiphany. 2026-12-31 is New Year's Eve (de facto off),
        # 1 January a holiday, 2-3 January a weekend, 6 January Epiphany.
        ("2026-12", 1, date(2027, 1, 4)),
        ("2026-12", 2, date(2027, 1, 5)),
        ("2026-12", 3, date(2027, 1, 7)),
        ("2025-12", 3, date(2026, 1, 7)),  # 1 Jan Thu off, 2 Fri, 5 Mon, 6 Tue off, 7 Wed
        # November ends before Christmas: nothing special.
        ("2026-11", 5, date(2026, 12, 7)),
        # March 2026 (clocks forward on 29 March): Good Friday 3 April, Easter Monday 6 April.
        ("2026-03", 3, date(2026, 4, 7)),
        ("2024-03", 1, date(2024, 4, 2)),  # 2024: Easter Monday is 1 April
        # October 2026 (clocks back on 25 October); 31 October is All Saints' Day (Saturday).
        ("2026-10", 1, date(2026, 11, 2)),
        ("2025-10", 1, date(2025, 11, 3)),  # 31 Oct 2025 a Friday: the window starts 1 Nov
        # May: Ascension Day and 6 June (National Day) near the end of the month.
        ("2026-05", 3, date(2026, 6, 3)),
        ("2025-05", 5, date(2025, 6, 9)),  # 6 June 2025 is a Friday
        # June: Midsummer is earlier; a plain month end.
        ("2026-06", 2, date(2026, 7, 2)),
    ],
)
def test_the_window_skips_weekends_holidays_and_days_off(
    month: str, days: int, last_day_in_grace: date
) -> None:
    assert last_grace_day(month, days) == last_day_in_grace
    assert grace_ends(month, days) == datetime.combine(
        last_day_in_grace + timedelta(days=1), time(), STOCKHOLM
    )


def test_christmas_eve_counts_when_the_policy_keeps_to_legal_holidays_only() -> None:
    # 17 business days of December 2026 end on the 23rd; the 18th is Christmas Eve, or, when
    # it is a day off, Monday 28 December (25 and 26 December are holidays, the 27th a Sunday).
    assert last_grace_day("2026-11", 17) == last_grace_day("2026-11", 17, LEGAL_ONLY)
    assert last_grace_day("2026-11", 18, LEGAL_ONLY) == date(2026, 12, 24)
    assert last_grace_day("2026-11", 18) == date(2026, 12, 28)


@pytest.mark.parametrize(
    ("month", "days", "utc_end"),
    [
        ("2026-03", 3, datetime(2026, 4, 7, 22, tzinfo=UTC)),  # CEST: 00:00 is 22:00 UTC
        ("2026-03", 0, datetime(2026, 3, 31, 22, tzinfo=UTC)),
        ("2026-02", 0, datetime(2026, 2, 28, 23, tzinfo=UTC)),  # CET: 00:00 is 23:00 UTC
        ("2026-10", 1, datetime(2026, 11, 2, 23, tzinfo=UTC)),  # after the clocks went back
        ("2026-09", 0, datetime(2026, 9, 30, 22, tzinfo=UTC)),
        ("2026-12", 3, datetime(2027, 1, 7, 23, tzinfo=UTC)),
    ],
)
def test_the_boundary_instant_in_utc_across_clock_changes(
    month: str, days: int, utc_end: datetime
) -> None:
    assert grace_ends(month, days) == utc_end
    tick = timedelta(microseconds=1)
    if days:
        assert in_grace(month, utc_end - tick, days) and not in_grace(month, utc_end, days)
        assert not grace_over(month, utc_end - tick, days) and grace_over(month, utc_end, days)
    over = datetime.combine(month_start(next_month(month)), time(), STOCKHOLM)
    assert not in_grace(month, over - tick, days)  # the month itself is not its grace
    assert not grace_over(month, utc_end + timedelta(days=400), 0)  # 0: no window at all


@settings(max_examples=300, deadline=None)
@given(
    month=st.sampled_from(MONTHS),
    days=st.integers(1, 15),
    offset=st.integers(-40 * 24 * 3600, 40 * 24 * 3600),
)
def test_in_grace_and_grace_over_partition_the_time_after_the_month(
    month: str, days: int, offset: int
) -> None:
    now = grace_ends(month, days) + timedelta(seconds=offset)
    over = datetime.combine(month_start(next_month(month)), time(), STOCKHOLM)
    states = (now < over, in_grace(month, now, days), grace_over(month, now, days))
    assert sum(states) == 1


def test_the_close_records_the_window_and_how_it_closed() -> None:
    assert grace_record("2026-03", 3, "early") == {
        "grace_days": 3,
        "grace_ends": "2026-04-08T00:00:00+02:00",
        "close": "early",
    }


def test_the_settings_refuse_a_negative_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTS_BILLING_GRACE_DAYS", "-1")
    with pytest.raises(ValueError, match="grace_days"):
        BillingSettings()
    monkeypatch.setenv("LOTS_BILLING_GRACE_DAYS", "5")
    monkeypatch.setenv("LOTS_BILLING_PACE_WEEKS", "4")
    assert (BillingSettings().grace_days, BillingSettings().pace_weeks) == (5, 4)
    with pytest.raises(ValueError, match="negative"):
        grace_ends("2026-03", -1)


# --- the cap forecast -----------------------------------------------------------------------


def flat(limit: int) -> Callable[[date], Decimal]:
    return lambda _: Decimal(limit)


def spread(today: date, per_day: Decimal, weeks: int) -> dict[date, Decimal]:
    """``per_day`` hours on every business day of the window ending ``today``."""
    first = max(date(today.year, 1, 1), today - timedelta(weeks=weeks) + timedelta(days=1))
    out, day = {}, first
    while day <= today:
        if is_business_day(day):
            out[day] = per_day
        day += timedelta(days=1)
    return out


def brute_force(
    today: date, billed: Decimal, hours: Decimal, days: int, limit: Callable[[date], Decimal]
) -> date | None:
    """Day by day, accruing the pace on business days, until the limit is met."""
    accrued, day = Fraction(billed), today
    rate = Fraction(hours) / days
    while True:
        day += timedelta(days=1)
        if day.year != today.year:
            return None
        if is_business_day(day):
            accrued += rate
            if accrued >= Fraction(limit(day)):
                return day


quarters = st.integers(0, 4 * 400).map(lambda q: Decimal(q) / 4)
days_of_2026 = st.dates(date(2026, 1, 1), date(2026, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    today=days_of_2026,
    billed=st.integers(0, 4 * 2590).map(lambda q: Decimal(q) / 4),
    slow=quarters,
    extra=quarters,
    weeks=st.integers(1, 12),
)
def test_a_faster_pace_never_reaches_the_cap_later(
    today: date, billed: Decimal, slow: Decimal, extra: Decimal, weeks: int
) -> None:
    def when(per_day: Decimal) -> dict[str, object]:
        return forecast(
            today=today, year=2026, billed=billed, limit_on=flat(2590),
            hours_by_day=spread(today, per_day, weeks), pace_weeks=weeks,
        )  # fmt: skip

    a, b = when(slow), when(slow + extra)
    if a["status"] == "reached":
        assert b["status"] == "reached"
        return
    for found in (a, b):
        if found["status"] == "forecast":
            reached = date.fromisoformat(str(found["reached_on"]))
            assert reached > today and reached.year == 2026 and is_business_day(reached)
    if a["status"] == "forecast":
        assert b["status"] == "forecast"
        assert str(b["reached_on"]) <= str(a["reached_on"])
    if b["status"] == "no_forecast":
        assert a["status"] == "no_forecast"


@settings(max_examples=300, deadline=None)
@given(
    today=days_of_2026,
    billed=st.integers(0, 4 * 2590).map(lambda q: Decimal(q) / 4),
    daily=st.dictionaries(days_of_2026, quarters.filter(bool), max_size=40),
    weeks=st.integers(1, 12),
    call_off=st.tuples(days_of_2026, st.integers(0, 600)),
)
def test_the_date_is_exactly_the_day_the_accrued_pace_meets_the_limit(
    today: date,
    billed: Decimal,
    daily: dict[date, Decimal],
    weeks: int,
    call_off: tuple[date, int],
) -> None:
    effective, hours_off = call_off

    def limit(day: date) -> Decimal:
        return Decimal(2590 + (hours_off if day >= effective else 0))

    found = forecast(
        today=today, year=2026, billed=billed, limit_on=limit, hours_by_day=daily,
        pace_weeks=weeks,
    )  # fmt: skip
    first = max(date(2026, 1, 1), today - timedelta(weeks=weeks) + timedelta(days=1))
    days = business_days(first, today)
    hours = sum((h for d, h in daily.items() if first <= d <= today), Decimal(0))
    assert found["window_business_days"] == days and Decimal(str(found["window_hours"])) == hours
    if billed >= limit(today):
        assert found["status"] == "reached"
    elif days == 0 or hours == 0:
        assert found["status"] == "no_forecast" and found["reached_on"] is None
    else:
        expected = brute_force(today, billed, hours, days, limit)
        assert found["reached_on"] == (expected.isoformat() if expected else None)
        assert found["status"] == ("forecast" if expected else "no_forecast")


def test_a_forecast_over_easter_counts_business_days_only() -> None:
    # 10 hours a business day, 50 hours short, on Thursday 2 April 2026: 3 April (Good Friday)
    # to 6 April (Easter Monday) do not count; the 5th business day after is 13 April.
    found = forecast(
        today=date(2026, 4, 2), year=2026, billed=Decimal(2540), limit_on=flat(2590),
        hours_by_day=spread(date(2026, 4, 2), Decimal(10), 1), pace_weeks=1,
    )  # fmt: skip
    assert found["window_business_days"] == 5 and found["hours_per_business_day"] == "10.00"
    assert found["reached_on"] == "2026-04-13"


def test_no_forecast_for_another_year_or_without_hours() -> None:
    past = forecast(
        today=date(2027, 2, 1), year=2026, billed=Decimal(10), limit_on=flat(2590),
        hours_by_day={date(2026, 12, 1): Decimal(10)}, pace_weeks=8,
    )  # fmt: skip
    assert past["status"] == "no_forecast" and "2026 is over" in str(past["reason"])
    new_year = forecast(
        today=date(2026, 1, 1), year=2026, billed=Decimal(0), limit_on=flat(2590),
        hours_by_day={}, pace_weeks=8,
    )  # fmt: skip
    assert new_year["window_business_days"] == 0 and new_year["status"] == "no_forecast"
    with pytest.raises(ValueError, match="one week"):
        forecast(
            today=date(2026, 5, 1), year=2026, billed=Decimal(0), limit_on=flat(1),
            hours_by_day={}, pace_weeks=0,
        )  # fmt: skip
