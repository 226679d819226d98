"""Polare fees per night walk by age and years in the activity, from dated rate tables: every
age, years in the activity and boundary date against the table written out by hand, and random
tables against a second, independent reading of the rule."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.billing import PolareRate
from infra.schoolyear import SchoolYearError, parse, school_year_of
from services.billing.polare_rates import (
    NoRate,
    RateTable,
    check_rates,
    fee,
    table_in_force,
    walk_fee_for,
)
from services.billing.tariff_entries import TariffError

# The hand-written tables: ages 13-15, 16-17, 18-25; columns: 1st, 2nd, 3rd+ year (öre).
BRACKETS = ((13, 15), (16, 17), (18, 25))
AUTUMN_2026 = {
    0: (25_000, 27_500, 30_000),
    1: (30_000, 33_000, 36_000),
    2: (40_000, 44_000, 48_000),
}
AUTUMN_2027 = {
    0: (26_000, 28_500, 31_000),
    1: (31_000, 34_000, 37_000),
    2: (41_000, 45_000, 49_000),
}


def table(table_id: str, effective_from: date, grid: dict[int, tuple[int, ...]]) -> RateTable:
    rows = tuple(
        PolareRate(age_from=lo, age_to=hi, years_from=years, ore_per_walk=grid[b][years - 1])
        for b, (lo, hi) in enumerate(BRACKETS)
        for years in (1, 2, 3)
    )
    check_rates(rows)
    return RateTable(table_id, effective_from, rows)


TABLES = [
    table("a", date(2026, 7, 1), AUTUMN_2026),
    table("b", date(2027, 7, 1), AUTUMN_2027),
]


def expected(on: date, age: int, years: int) -> tuple[int, str] | None:
    if on < date(2026, 7, 1):
        return None
    grid, name = (AUTUMN_2026, "a") if on < date(2027, 7, 1) else (AUTUMN_2027, "b")
    for b, (lo, hi) in enumerate(BRACKETS):
        if lo <= age <= hi:
            return grid[b][min(years, 3) - 1], name
    return None


BOUNDARIES = [
    date(2026, 6, 30), date(2026, 7, 1), date(2026, 12, 31), date(2027, 1, 1),
    date(2027, 6, 30), date(2027, 7, 1), date(2028, 2, 29),
]  # fmt: skip


@pytest.mark.parametrize("on", BOUNDARIES)
def test_every_age_and_year_on_every_boundary_date(on: date) -> None:
    for age in range(10, 31):
        for years in range(1, 8):
            want = expected(on, age, years)
            if want is None:
                with pytest.raises(NoRate):
                    fee(TABLES, on, age, years)
            else:
                assert fee(TABLES, on, age, years) == want, (on, age, years)


def test_every_day_of_two_school_years_uses_the_table_in_force() -> None:
    day = date(2026, 6, 1)
    while day <= date(2028, 7, 31):
        want = expected(day, 16, 2)
        if want is None:
            with pytest.raises(NoRate, match="no polare rate table"):
                fee(TABLES, day, 16, 2)
        else:
            assert fee(TABLES, day, 16, 2) == want
        day += timedelta(days=1)


def test_a_later_recording_with_the_same_date_wins() -> None:
    correction = table("a2", date(2026, 7, 1), AUTUMN_2027)
    assert table_in_force([*TABLES, correction], date(2026, 9, 1)).table_id == "a2"
    assert table_in_force([correction, *TABLES], date(2026, 9, 1)).table_id == "a"


def test_an_age_the_table_does_not_cover_names_it() -> None:
    with pytest.raises(NoRate, match="no rate for age 12 in year 1"):
        walk_fee_for(TABLES[0], 12, 1)


def test_ambiguous_or_backward_tables_are_refused() -> None:
    with pytest.raises(TariffError, match="cover the same ages"):
        check_rates([
            PolareRate(age_from=13, age_to=17, years_from=1, ore_per_walk=1),
            PolareRate(age_from=17, age_to=20, years_from=1, ore_per_walk=2),
        ])  # fmt: skip
    with pytest.raises(TariffError, match="backwards"):
        check_rates([PolareRate(age_from=18, age_to=13, years_from=1, ore_per_walk=1)])
    check_rates([  # the same ages from another year on is what the table is for
        PolareRate(age_from=13, age_to=17, years_from=1, ore_per_walk=1),
        PolareRate(age_from=13, age_to=17, years_from=2, ore_per_walk=2),
    ])  # fmt: skip


@st.composite
def tables(draw: st.DrawFn) -> list[PolareRate]:
    """Random unambiguous tables: for each years_from, a partition of ages into brackets."""
    rows: list[PolareRate] = []
    for years in sorted(draw(st.sets(st.integers(1, 6), min_size=1, max_size=4))):
        cuts = sorted(draw(st.sets(st.integers(11, 27), min_size=2, max_size=6)))
        for lo, hi in itertools.pairwise(cuts):
            if draw(st.booleans()):  # leave some gaps
                rows.append(
                    PolareRate(age_from=lo, age_to=hi - 1, years_from=years,
                               ore_per_walk=draw(st.integers(0, 200_000)))
                )  # fmt: skip
    return rows or [PolareRate(age_from=13, age_to=25, years_from=1, ore_per_walk=1)]


def oracle(rows: list[PolareRate], age: int, years: int) -> int | None:
    """The rule read another way: from the polar's own year downwards, the first year that has
    a row for the age gives the fee."""
    for y in range(years, 0, -1):
        for row in rows:
            if row.years_from == y and row.age_from <= age <= row.age_to:
                return row.ore_per_walk
    return None


@given(tables(), st.integers(0, 40), st.integers(1, 10))
def test_random_tables_price_as_the_rule_reads(
    rows: list[PolareRate], age: int, years: int
) -> None:
    check_rates(rows)
    want = oracle(rows, age, years)
    t = RateTable("t", date(2026, 7, 1), tuple(rows))
    if want is None:
        with pytest.raises(NoRate):
            walk_fee_for(t, age, years)
    else:
        assert walk_fee_for(t, age, years) == want


@given(
    st.lists(st.dates(date(2020, 1, 1), date(2030, 12, 31)), min_size=1, max_size=6),
    st.dates(date(2019, 1, 1), date(2031, 12, 31)),
)
def test_the_table_in_force_is_the_latest_recorded_on_or_before_the_date(
    dates: list[date], on: date
) -> None:
    recorded = [
        RateTable(str(i), d, (PolareRate(age_from=0, age_to=99, years_from=1, ore_per_walk=i),))
        for i, d in enumerate(dates)
    ]
    candidates = [(t.effective_from, i) for i, t in enumerate(recorded) if t.effective_from <= on]
    if not candidates:
        with pytest.raises(NoRate):
            table_in_force(recorded, on)
        return
    assert table_in_force(recorded, on).table_id == str(max(candidates)[1])


def test_school_years_run_from_1_july_to_30_june() -> None:
    day = date(2024, 1, 1)
    while day <= date(2028, 12, 31):
        name = school_year_of(day)
        first, last = parse(name)
        assert first <= day <= last and (first.month, first.day, last.month, last.day) == (
            7, 1, 6, 30,
        )  # fmt: skip
        day += timedelta(days=1)
    assert school_year_of(date(2026, 6, 30)) == "2025/26"
    assert school_year_of(date(2026, 7, 1)) == "2026/27"
    assert school_year_of(date(2099, 7, 1)) == "2099/00"
    for bad in ("2026/28", "2026-27", "26/27", "2026/2027"):
        with pytest.raises(SchoolYearError):
            parse(bad)
