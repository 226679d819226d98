"""The steering group's warning rule (seed 002: at least three meetings a year), over every day
around two years (one a leap year) and every combination of four meetings' states."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.calendar import CalendarPolicy, is_business_day
from services.scheduling.steering import (
    MINIMUM_PER_YEAR,
    NOTICE_BUSINESS_DAYS,
    Planned,
    Status,
    outlook,
)

RANK = {"met": 0, "on_track": 1, "short": 2, "too_late": 3}
STATES: tuple[Status | None, ...] = (None, "planned", "held", "cancelled")


def reference(year: int, today: date, meetings: list[Planned], policy: CalendarPolicy) -> str:
    """The rule said another way: list the days a meeting convened today could still be held."""
    held = sum(1 for m in meetings if m.day.year == year and m.status == "held")
    if today > date(year, 12, 31):
        return "met" if held >= MINIMUM_PER_YEAR else "fell_short"
    ahead = sum(
        1 for m in meetings if m.day.year == year and m.status == "planned" and m.day >= today
    )
    if held >= MINIMUM_PER_YEAR:
        return "met"
    missing = MINIMUM_PER_YEAR - held - ahead
    if missing <= 0:
        return "on_track"
    return "short" if len(_possible(year, today, policy)) >= missing else "too_late"


@cache
def _possible(year: int, today: date, policy: CalendarPolicy) -> list[date]:
    """The days of the year a meeting convened today with its notice could be held."""
    day, counted, possible = max(today, date(year, 1, 1) - timedelta(days=1)), 0, []
    while day < date(year, 12, 31):
        day += timedelta(days=1)
        if is_business_day(day, policy):
            counted += 1
            if counted >= NOTICE_BUSINESS_DAYS:
                possible.append(day)
    return possible


@pytest.mark.parametrize("year", [2026, 2028])
@pytest.mark.parametrize("days_off", [True, False])
def test_every_day_and_every_combination_follows_the_rule(year: int, days_off: bool) -> None:
    policy = CalendarPolicy(de_facto_days_off=days_off)
    dates = [date(year, 3, 10), date(year, 6, 10), date(year, 10, 12), date(year, 12, 15)]
    first, last = date(year - 1, 12, 20), date(year + 1, 1, 5)
    combinations = [
        [Planned(d, s) for d, s in zip(dates, states, strict=True) if s is not None]
        for states in itertools.product(STATES, repeat=len(dates))
    ]
    for meetings in combinations:
        held = sum(1 for m in meetings if m.status == "held")
        previous = -1
        today = first
        while today <= last:
            seen = outlook(year, today, meetings, policy)
            assert seen.level == reference(year, today, meetings, policy), (today, meetings)
            assert seen.warning == (seen.level in ("short", "too_late", "fell_short"))
            assert seen.held == held
            if today <= date(year, 12, 31):
                assert seen.missing == max(0, MINIMUM_PER_YEAR - seen.held - seen.planned)
                # With the same meetings, time only makes things worse, never better.
                assert RANK[seen.level] >= previous, (today, meetings)
                previous = RANK[seen.level]
            else:
                assert seen.level == ("met" if held >= MINIMUM_PER_YEAR else "fell_short")
            today += timedelta(days=1)


@pytest.mark.parametrize(
    ("today", "missing", "level"),
    [
        # After Fri 11 Dec 2026: 14-18, 21-23, 28-30 Dec are business days (24, 25 and 31
        # are not): 11, so meetings can still be held on the 10th and 11th of them.
        (date(2026, 12, 11), 1, "short"),
        (date(2026, 12, 11), 2, "short"),
        (date(2026, 12, 11), 3, "too_late"),
        (date(2026, 12, 14), 1, "short"),
        (date(2026, 12, 14), 2, "too_late"),
        (date(2026, 12, 15), 1, "too_late"),
    ],
)
def test_the_last_days_to_convene_in_december(today: date, missing: int, level: str) -> None:
    held = [Planned(date(2026, 2, 1 + i), "held") for i in range(MINIMUM_PER_YEAR - missing)]
    seen = outlook(2026, today, held)
    assert (seen.missing, seen.level) == (missing, level)
    assert seen.warning
    assert f"{missing} more needed" in seen.message()


def test_a_past_meeting_not_recorded_counts_neither_held_nor_planned() -> None:
    meetings = [Planned(date(2026, 3, 10), "planned"), Planned(date(2026, 9, 1), "held")]
    seen = outlook(2026, date(2026, 4, 1), meetings)
    assert (seen.held, seen.planned, seen.unrecorded, seen.missing) == (1, 0, 1, 2)
    assert seen.level == "short"
    assert "not recorded held or cancelled" in seen.message()


def test_three_held_is_met_and_planned_ones_on_track() -> None:
    held = [Planned(date(2026, m, 5), "held") for m in (2, 5, 9)]
    assert outlook(2026, date(2026, 9, 30), held).level == "met"
    plan = [Planned(date(2026, m, 5), "planned") for m in (2, 5, 9)]
    assert outlook(2026, date(2026, 1, 15), plan).level == "on_track"
    assert not outlook(2026, date(2026, 1, 15), plan).warning


def test_meetings_of_other_years_do_not_count() -> None:
    meetings = [Planned(date(2025, 12, 10), "held"), Planned(date(2027, 1, 12), "planned")]
    seen = outlook(2026, date(2026, 6, 1), meetings)
    assert (seen.held, seen.planned, seen.missing) == (0, 0, 3)


@given(
    today=st.dates(date(2025, 12, 1), date(2027, 2, 1)),
    meetings=st.lists(
        st.builds(
            Planned,
            st.dates(date(2025, 11, 1), date(2027, 2, 1)),
            st.sampled_from(["planned", "held", "cancelled"]),
        ),
        max_size=8,
    ),
)
def test_any_meetings_on_any_day_agree_with_the_reference(
    today: date, meetings: list[Planned]
) -> None:
    seen = outlook(2026, today, meetings)
    assert seen.level == reference(2026, today, meetings, CalendarPolicy())
    assert 0 <= seen.missing <= MINIMUM_PER_YEAR
