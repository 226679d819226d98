"""The steering group's warning rule (seed 002: at least three meetings a year, with social
services, education and the provider), over every day around two years (one a leap year) and
every combination of four meetings' states; and the part of a year a contract term covers."""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta
from fractions import Fraction
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.calendar import CalendarPolicy, is_business_day
from services.scheduling.steering_rule import (
    MEMBERS,
    MINIMUM_PER_YEAR,
    NOTICE_BUSINESS_DAYS,
    Planned,
    Status,
    Term,
    covered_months,
    outlook,
    required,
)

RANK = {"met": 0, "on_track": 1, "short": 2, "too_late": 3}
STATES: tuple[Status | None, ...] = (None, "planned", "held", "cancelled")
WHOLE = Term(date(2000, 1, 1))


def meeting(day: date, status: Status, organisations: frozenset[str] = MEMBERS) -> Planned:
    return Planned(day, status, organisations if status == "held" else frozenset())


def reference(
    year: int, today: date, meetings: list[Planned], policy: CalendarPolicy, term: Term = WHOLE
) -> str:
    """The rule said another way: list the days a meeting convened today could still be held."""
    span = term.within(year)
    if span is None:
        return "no_term"
    first, last = span
    need = required(year, term)
    inside = [m for m in meetings if first <= m.day <= last]
    held = sum(1 for m in inside if m.status == "held" and m.organisations >= MEMBERS)
    if held >= need:
        return "met"
    if today > last:
        return "fell_short"
    ahead = sum(1 for m in inside if m.status == "planned" and m.day >= today)
    missing = need - held - ahead
    if missing <= 0:
        return "on_track"
    return "short" if len(_possible(first, last, today, policy)) >= missing else "too_late"


@cache
def _possible(first: date, last: date, today: date, policy: CalendarPolicy) -> list[date]:
    """The covered days a meeting convened today with its notice could be held."""
    day, counted, possible = max(today, first - timedelta(days=1)), 0, []
    while day < last:
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
        [meeting(d, s) for d, s in zip(dates, states, strict=True) if s is not None]
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
    held = [meeting(date(2026, 2, 1 + i), "held") for i in range(MINIMUM_PER_YEAR - missing)]
    seen = outlook(2026, today, held)
    assert (seen.missing, seen.level) == (missing, level)
    assert seen.warning
    assert f"{missing} more needed" in seen.message()


def test_a_past_meeting_not_recorded_counts_neither_held_nor_planned() -> None:
    meetings = [meeting(date(2026, 3, 10), "planned"), meeting(date(2026, 9, 1), "held")]
    seen = outlook(2026, date(2026, 4, 1), meetings)
    assert (seen.held, seen.planned, seen.unrecorded, seen.missing) == (1, 0, 1, 2)
    assert seen.level == "short"
    assert "not recorded held or cancelled" in seen.message()


def test_three_held_is_met_and_planned_ones_on_track() -> None:
    held = [meeting(date(2026, m, 5), "held") for m in (2, 5, 9)]
    assert outlook(2026, date(2026, 9, 30), held).level == "met"
    plan = [meeting(date(2026, m, 5), "planned") for m in (2, 5, 9)]
    assert outlook(2026, date(2026, 1, 15), plan).level == "on_track"
    assert not outlook(2026, date(2026, 1, 15), plan).warning


def test_meetings_of_other_years_do_not_count() -> None:
    meetings = [meeting(date(2025, 12, 10), "held"), meeting(date(2027, 1, 12), "planned")]
    seen = outlook(2026, date(2026, 6, 1), meetings)
    assert (seen.held, seen.planned, seen.missing) == (0, 0, 3)


# --- who must attend ---------------------------------------------------------------------------


@pytest.mark.parametrize("absent", sorted(MEMBERS))
def test_a_meeting_without_one_of_the_three_organisations_is_not_counted(absent: str) -> None:
    others = frozenset({"labour_market", "region"})
    meetings = [
        meeting(date(2026, 2, 5), "held", MEMBERS | others),  # guests do not matter
        meeting(date(2026, 5, 5), "held", (MEMBERS - {absent}) | others),
        meeting(date(2026, 9, 5), "held"),
    ]
    seen = outlook(2026, date(2027, 1, 4), meetings)
    assert (seen.held, seen.incomplete, seen.missing, seen.level) == (2, 1, 1, "fell_short")
    assert "1 held without social services, education and the provider" in seen.message()


# --- the part of a year a contract covers ------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "year", "months", "meetings"),
    [
        (Term(date(2018, 9, 1)), 2018, 4, 1),  # 002 from 2018-09-01
        (Term(date(2018, 9, 1), date(2021, 8, 31)), 2021, 8, 2),  # 002 as first agreed
        (Term(date(2018, 9, 1)), 2021, 12, 3),
        (Term(date(2018, 9, 1), date(2021, 8, 31)), 2022, 0, 0),
        (Term(date(2026, 1, 1), date(2026, 1, 31)), 2026, 1, 0),  # 0.25: down
        (Term(date(2026, 1, 1), date(2026, 2, 28)), 2026, 2, 1),  # 0.5: a half up
        (Term(date(2026, 7, 1)), 2026, 6, 2),  # 1.5
        (Term(date(2026, 3, 1)), 2026, 10, 3),  # 2.5
        (Term(date(2026, 9, 16)), 2026, Fraction(15, 30) + 3, 1),  # 0.875
    ],
)
def test_a_term_inside_a_year_requires_its_share_of_three_rounded_half_up(
    term: Term, year: int, months: Fraction | int, meetings: int
) -> None:
    assert covered_months(year, term) == months
    assert required(year, term) == meetings


@given(
    first=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
    days=st.integers(0, 1200),
    year=st.integers(2024, 2027),
)
def test_the_share_is_the_nearest_whole_meeting_and_never_more_than_three(
    first: date, days: int, year: int
) -> None:
    term = Term(first, first + timedelta(days=days))
    exact = MINIMUM_PER_YEAR * covered_months(year, term) / 12
    assert 0 <= covered_months(year, term) <= 12
    assert required(year, term) == math.floor(exact + Fraction(1, 2)) <= MINIMUM_PER_YEAR
    assert abs(required(year, term) - exact) <= Fraction(1, 2)


def test_only_the_covered_days_are_judged_and_their_end_closes_the_year() -> None:
    term = Term(date(2018, 9, 1), date(2021, 8, 31))
    before = [meeting(date(2018, 3, 1), "held")]  # before the team existed: not counted
    seen = outlook(2018, date(2018, 5, 2), before, term=term)
    assert (seen.required, seen.held, seen.missing, seen.level) == (1, 0, 1, "short")
    assert seen.business_days_left == sum(
        is_business_day(date(2018, 9, 1) + timedelta(days=n)) for n in range(122)
    )
    assert "the contract covers 2018-09-01 to 2018-12-31: 1 required" in seen.message()
    last_year = [meeting(date(2021, 3, 1), "held"), meeting(date(2021, 10, 1), "held")]
    assert outlook(2021, date(2021, 9, 1), last_year, term=term).level == "fell_short"
    assert outlook(2021, date(2021, 7, 1), last_year, term=term).level == "short"
    last_year.append(meeting(date(2021, 6, 1), "held"))
    assert outlook(2021, date(2021, 9, 1), last_year, term=term).level == "met"
    after = outlook(2022, date(2022, 6, 1), [], term=term)
    assert (after.level, after.required, after.warning) == ("no_term", 0, False)


@pytest.mark.parametrize(
    "term",
    [Term(date(2026, 9, 1)), Term(date(2025, 1, 1), date(2026, 4, 30)), WHOLE],
)
def test_every_day_of_a_partly_covered_year_follows_the_rule(term: Term) -> None:
    dates = [date(2026, 2, 10), date(2026, 4, 14), date(2026, 10, 12), date(2026, 12, 15)]
    policy = CalendarPolicy()
    for states in itertools.product(STATES, repeat=len(dates)):
        meetings = [meeting(d, s) for d, s in zip(dates, states, strict=True) if s is not None]
        today = date(2025, 12, 20)
        while today <= date(2027, 1, 5):
            seen = outlook(2026, today, meetings, policy, term)
            assert seen.level == reference(2026, today, meetings, policy, term), (today, states)
            today += timedelta(days=3)


@given(
    today=st.dates(date(2025, 12, 1), date(2027, 2, 1)),
    meetings=st.lists(
        st.builds(
            Planned,
            st.dates(date(2025, 11, 1), date(2027, 2, 1)),
            st.sampled_from(["planned", "held", "cancelled"]),
            st.frozensets(st.sampled_from(sorted(MEMBERS | {"region"}))),
        ),
        max_size=8,
    ),
    first=st.dates(date(2025, 6, 1), date(2026, 12, 31)),
)
def test_any_meetings_on_any_day_agree_with_the_reference(
    today: date, meetings: list[Planned], first: date
) -> None:
    term = Term(first)
    seen = outlook(2026, today, meetings, term=term)
    assert seen.level == reference(2026, today, meetings, CalendarPolicy(), term)
    assert 0 <= seen.missing <= seen.required <= MINIMUM_PER_YEAR
