"""The per-source rate limit: never more than burst + rate x elapsed, exact waits, staging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.app import limiter
from services.intake.limits import Rate, SourceLimiter
from services.intake.reasons import rate_limited
from services.intake.settings import IntakeSettings

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def admitted_at(limits: SourceLimiter, source: str, times: list[datetime]) -> list[datetime]:
    out = []
    for at in times:
        limits.begin()
        if limits.admit(source, at) is None:
            out.append(at)
        limits.commit(at)
    return out


@settings(max_examples=300, deadline=None)
@given(
    per_minute=st.integers(1, 10_000),
    burst=st.integers(1, 50),
    gaps=st.lists(st.integers(0, 5_000_000), min_size=1, max_size=300),
)
def test_never_more_than_burst_plus_rate_times_elapsed(
    per_minute: int, burst: int, gaps: list[int]
) -> None:
    limits = SourceLimiter(default=Rate(per_minute, burst))
    times, at = [], T0
    for gap in gaps:
        at += timedelta(microseconds=gap)
        times.append(at)
    admitted = admitted_at(limits, "s", times)
    # Every window between two admissions (both included) holds at most this many.
    for i, start in enumerate(admitted):
        for j in range(i, len(admitted)):
            elapsed_us = (admitted[j] - start) / timedelta(microseconds=1)
            assert (j - i + 1) * 60_000_000 <= burst * 60_000_000 + per_minute * elapsed_us


@settings(max_examples=200, deadline=None)
@given(
    per_minute=st.integers(1, 600),
    burst=st.integers(1, 20),
    extra=st.integers(1, 30),
)
def test_a_refusal_names_the_exact_moment_the_next_one_fits(
    per_minute: int, burst: int, extra: int
) -> None:
    limits = SourceLimiter(default=Rate(per_minute, burst))
    assert len(admitted_at(limits, "s", [T0] * (burst + extra))) == burst
    wait = limits.admit("s", T0)
    assert wait is not None and wait > timedelta(0)
    assert limits.admit("s", T0 + wait - timedelta(microseconds=1)) is not None
    assert limits.admit("s", T0 + wait) is None


def test_a_steady_source_at_its_rate_is_never_refused() -> None:
    limits = SourceLimiter(default=Rate(per_minute=60, burst=1))
    times = [T0 + timedelta(seconds=n) for n in range(500)]
    assert admitted_at(limits, "s", times) == times


def test_sources_are_counted_apart_and_overrides_apply() -> None:
    limits = SourceLimiter(
        default=Rate(per_minute=60, burst=2),
        overrides={"flood": Rate(per_minute=1, burst=1), "trusted": None},
    )
    assert len(admitted_at(limits, "flood", [T0] * 5)) == 1
    assert len(admitted_at(limits, "other", [T0] * 5)) == 2
    assert len(admitted_at(limits, "trusted", [T0] * 500)) == 500


def test_a_rolled_back_unit_of_work_admits_nothing() -> None:
    limits = SourceLimiter(default=Rate(per_minute=60, burst=2))
    limits.begin()
    assert limits.admit("s", T0) is None
    assert limits.admit("s", T0) is None
    assert limits.admit("s", T0) is not None  # staged admissions count within the unit
    limits.rollback()
    limits.begin()
    assert limits.admit("s", T0) is None  # ... and not after it failed
    limits.commit(T0)


def test_rates_need_a_positive_pace_and_burst() -> None:
    with pytest.raises(ValueError):
        Rate(0, 1)
    with pytest.raises(ValueError):
        Rate(1, 0)


def test_settings_give_the_default_and_per_source_limits() -> None:
    built = limiter(
        IntakeSettings(
            intake_rate_per_minute=120,
            intake_rate_burst=10,
            intake_rate_overrides={"a": {"per_minute": 6, "burst": 2}, "b": {"per_minute": 0}},
        )
    )
    assert built.rate_of("x") == Rate(120, 10)
    assert built.rate_of("a") == Rate(6, 2)
    assert built.rate_of("b") is None
    assert limiter(IntakeSettings(intake_rate_per_minute=0)).rate_of("x") is None


def test_the_reason_names_limit_and_wait_and_never_the_input() -> None:
    reason = rate_limited(60, 5, timedelta(milliseconds=1500))
    assert (reason.code, reason.field) == ("rate_limited", "source")
    assert "60 referrals a minute" in reason.message and "in 2 s" in reason.message
