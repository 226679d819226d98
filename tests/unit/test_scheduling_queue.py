"""The queue's order (acute, decided assistance, service; then due date) and the wait-time
rule (the median wait of the last four weeks above 14 days) as pure functions."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.calendar import STOCKHOLM
from services.scheduling.queue import (
    MonitorState,
    QueuedCase,
    judge_waits,
    median_days,
    ordered,
    place_of,
    reported_days,
    wait_sample,
)

RECEIVED = datetime(2026, 3, 2, 9, tzinfo=STOCKHOLM)


def case(
    priority: int = 3,
    due: date = date(2026, 3, 16),
    received: datetime = RECEIVED,
    n: int = 0,
    **kw: object,
) -> QueuedCase:
    return QueuedCase(
        case_id=uuid.UUID(int=n),
        programme=str(kw.pop("programme", "counselling")),
        priority=priority,
        first_contact_due=due,
        received_at=received,
        received_on=received.date(),
        **kw,  # type: ignore[arg-type]
    )


def test_acute_cases_come_first_then_decided_assistance_then_service() -> None:
    service = case(3, date(2026, 3, 10), n=1)
    decided = case(2, date(2026, 3, 20), n=2)
    acute = case(1, date(2026, 3, 25), n=3)
    assert [c.case_id.int for c in ordered([service, decided, acute])] == [3, 2, 1]


def test_within_a_priority_the_earlier_due_date_comes_first() -> None:
    late = case(3, date(2026, 3, 20), n=1)
    early = case(3, date(2026, 3, 12), n=2)
    assert ordered([late, early]) == [early, late]


def test_equal_due_dates_are_served_in_order_of_receipt_then_by_case_id() -> None:
    second = case(received=RECEIVED + timedelta(minutes=5), n=1)
    first = case(n=9)
    tie = case(n=2)
    assert ordered([second, first, tie]) == [tie, first, second]


def test_a_case_leaves_the_queue_when_its_first_contact_is_held_or_it_is_closed() -> None:
    held = case(n=1, held_on=date(2026, 3, 9))
    closed = case(n=2, closed_on=date(2026, 3, 5))
    waiting = case(n=3)
    assert ordered([held, closed, waiting]) == [waiting]
    assert place_of(held.case_id, [held, closed, waiting]) is None
    assert place_of(waiting.case_id, [held, closed, waiting]) == 1


@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),
            st.dates(date(2026, 1, 1), date(2026, 12, 31)),
            st.integers(0, 10_000),
            st.booleans(),
        ),
        max_size=40,
    )
)
def test_the_queue_is_sorted_by_priority_then_due_date_and_holds_only_waiting_cases(
    rows: list[tuple[int, date, int, bool]],
) -> None:
    cases = [
        case(p, due, RECEIVED + timedelta(minutes=m), n=i, held_on=due if held else None)
        for i, (p, due, m, held) in enumerate(rows)
    ]
    queue = ordered(cases)
    assert {c.case_id for c in queue} == {c.case_id for c in cases if c.held_on is None}
    for a, b in itertools.pairwise(queue):
        assert (a.priority, a.first_contact_due) <= (b.priority, b.first_contact_due)
    for place, c in enumerate(queue, start=1):
        assert place_of(c.case_id, cases) == place


# --- the waits sampled -------------------------------------------------------------------------

ON = date(2026, 4, 30)  # judged on 30 April: the window is 2..29 April


def received(days_before_on: int) -> datetime:
    return datetime.combine(ON - timedelta(days=days_before_on), datetime.min.time(), STOCKHOLM)


def test_a_first_contact_held_in_the_window_counts_with_its_wait() -> None:
    held = case(received=received(30), held_on=ON - timedelta(days=10))  # waited 20 days
    assert wait_sample([held], ON, 28, 14) == [20]


def test_first_contacts_held_before_the_window_or_on_the_day_itself_do_not_count_as_held() -> None:
    before = case(received=received(60), held_on=ON - timedelta(days=29), n=1)
    today = case(received=received(5), held_on=ON, n=2)  # still waiting at the end of yesterday
    assert wait_sample([before, today], ON, 28, 14) == []


def test_a_case_still_waiting_counts_once_its_wait_so_far_exceeds_the_threshold() -> None:
    long = case(received=received(20), n=1)  # 19 days by the end of yesterday
    fresh = case(received=received(10), n=2)  # its final wait is unknown: not counted
    exactly = case(received=received(15), n=3)  # 14 days so far: not above the threshold
    assert wait_sample([long, fresh, exactly], ON, 28, 14) == [19]


def test_closed_cases_and_cases_received_today_are_not_waiting() -> None:
    closed = case(received=received(40), closed_on=ON - timedelta(days=3), n=1)
    new = case(received=received(0), n=2)
    assert wait_sample([closed, new], ON, 28, 14) == []


@pytest.mark.parametrize(
    ("sample", "median", "reported"),
    [([], None, None), ([14], 14, 14), ([14, 15], 14.5, 15), ([3, 20, 30], 20, 20)],
)
def test_the_median_is_exact_and_reported_rounded_up(
    sample: list[int], median: float | None, reported: int | None
) -> None:
    assert median_days(sample) == median
    if median is not None:
        assert reported_days(median) == reported


# --- when a report is due ----------------------------------------------------------------------

DAY = date(2026, 5, 1)


def test_a_report_is_due_when_the_median_first_rises_above_the_threshold() -> None:
    assert judge_waits(MonitorState(), DAY, 14.5, 14, 28) == "report"
    assert judge_waits(MonitorState(), DAY, 14, 14, 28) is None
    assert judge_waits(MonitorState(), DAY, None, 14, 28) is None


def test_while_waits_stay_long_the_report_is_repeated_every_report_period() -> None:
    state = MonitorState(breached_since=DAY, last_reported_on=DAY)
    assert judge_waits(state, DAY + timedelta(days=1), 20, 14, 28) is None
    assert judge_waits(state, DAY + timedelta(days=27), 20, 14, 28) is None
    assert judge_waits(state, DAY + timedelta(days=28), 20, 14, 28) == "report"


def test_the_end_of_long_waits_is_noted_once() -> None:
    state = MonitorState(breached_since=DAY, last_reported_on=DAY)
    assert judge_waits(state, DAY + timedelta(days=3), 14, 14, 28) == "recovered"
    assert judge_waits(state, DAY + timedelta(days=3), None, 14, 28) == "recovered"
    after = MonitorState(breached_since=None, last_reported_on=DAY)
    assert judge_waits(after, DAY + timedelta(days=4), 10, 14, 28) is None
    assert judge_waits(after, DAY + timedelta(days=5), 16, 14, 28) == "report"


def test_the_monitor_gives_at_most_one_verdict_a_day() -> None:
    state = MonitorState(breached_since=DAY, last_reported_on=DAY)
    assert judge_waits(state, DAY, 3, 14, 28) is None
    assert judge_waits(MonitorState(None, DAY), DAY, 30, 14, 28) is None


@given(
    breached=st.booleans(),
    reported_days_ago=st.none() | st.integers(0, 90),
    median=st.none() | st.floats(0, 60, allow_nan=False),
)
def test_a_report_is_due_exactly_when_waits_are_long_and_none_was_made_recently(
    breached: bool, reported_days_ago: int | None, median: float | None
) -> None:
    last = None if reported_days_ago is None else DAY - timedelta(days=reported_days_ago)
    state = MonitorState(breached_since=last if breached and last else None, last_reported_on=last)
    verdict = judge_waits(state, DAY, median, 14, 28)
    long = median is not None and median > 14
    recent = last is not None and (DAY - last).days < 28
    if last == DAY:
        assert verdict is None
    elif long:
        assert verdict == (None if state.breached_since is not None and recent else "report")
    else:
        assert verdict == ("recovered" if state.breached_since is not None else None)


def test_within_a_priority_acute_cases_come_first_then_the_due_date() -> None:
    decided = case(1, date(2026, 3, 10), n=1)
    acute_decided = case(1, date(2026, 3, 20), n=2, acute=True)
    acute_service = case(2, date(2026, 3, 5), n=3, acute=True)
    assert [c.case_id.int for c in ordered([acute_service, decided, acute_decided])] == [2, 1, 3]
