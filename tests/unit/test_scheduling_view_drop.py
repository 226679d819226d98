"""Scheduling's case view drops settled cases its queries can no longer read (issue 18, item 4):
a fold that drops answers every query as a fold that keeps every case does, over random
histories, and ten years of settled cases leave only the last months' in the view."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.calendar import STOCKHOLM, local_date
from services.scheduling.policy import SchedulingPolicy
from services.scheduling.queue import wait_sample
from services.scheduling.view import _CLOSED, _HELD, _JUDGED, _QUEUED, KEPT_DAYS, CaseView

POLICY = SchedulingPolicy()
APP = cast("Application[UUID]", SimpleNamespace(policy=POLICY))
FIRST_DAY = date(2016, 1, 4)

Event = tuple[str, Any]


@dataclass
class _Case:
    """What the history generator knows of a case, as ``WaitingCase`` would."""

    due: date
    held: date | None = None
    closed: date | None = None
    judged: bool = False


@dataclass
class History:
    """Events of cases received, first held, closed and judged, day after day, as the
    aggregates record them (one verdict per case, none for a case closed by its due date)."""

    rng: random.Random
    events: list[Event] = field(default_factory=list)
    cases: dict[UUID, _Case] = field(default_factory=dict)

    def day(
        self, today: date, new: int, p_held: float, p_closed: float, judging: bool = True
    ) -> None:
        """One day's events; ``judging`` False: the deadline check did not run (an outage)."""
        for _ in range(new):
            self.queue(today)
        for case_id, case in list(self.cases.items()):
            if case.held is None and case.closed is None and self.rng.random() < p_held:
                case.held = today
                self.add(_HELD, case_id, started_at=_at(today, 10))
            if case.closed is None and self.rng.random() < p_closed:
                case.closed = today
                self.add(_CLOSED, case_id, closed_at=_at(today, 15))
            closed_in_time = case.closed is not None and case.closed <= case.due
            if judging and not case.judged and today > case.due and not closed_in_time:
                case.judged = True
                met = case.held is not None and case.held <= case.due
                self.add(_JUDGED, case_id, met=met)

    def queue(self, today: date) -> None:
        case_id = uuid.uuid4()
        programme = self.rng.choice(["counselling", "network"])
        due = today + timedelta(days=14)
        self.cases[case_id] = _Case(due)
        self.add(_QUEUED, case_id, programme=programme, priority=self.rng.randint(1, 3),
                 first_contact_due=due, received_at=_at(today, self.rng.randint(8, 16)),
                 urgency=self.rng.choice([None, "normal", "acute"]))  # fmt: skip

    def add(self, topic: str, case_id: UUID, **values: Any) -> None:
        self.events.append((topic, SimpleNamespace(originator_id=case_id, **values)))


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)


def fold(events: list[Event], view: CaseView) -> CaseView:
    for topic, event in events:
        view._apply(topic, cast("DomainEventProtocol[UUID]", event))
    return view


def answers(view: CaseView, on: date) -> dict[str, Any]:
    """What every query of the view reads on ``on``: the queue (each programme's too), the
    deadline check's due cases, the service levels' overdue waiting cases and the wait rule's
    samples."""
    waiting = view.queue()
    return {
        "queue": [c.case_id for c in waiting],
        "queues": {p: [c.case_id for c in view.queue(p)] for p in ("counselling", "network")},
        "due": sorted(c for c in view.unjudged if view.cases[c].first_contact_due < on),
        "overdue_waiting": sorted(c.case_id for c in waiting if c.case_id in view.overdue),
        "samples": {
            p: sorted(wait_sample(view.of_programme(p), on, window, POLICY.wait_threshold_days))
            for p in ("counselling", "network")
            for window in (1, POLICY.wait_window_days, KEPT_DAYS)
        },
    }


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    days=st.integers(60, 500),
    new=st.integers(0, 3),
    p_held=st.floats(0.0, 0.3),
    p_closed=st.floats(0.0, 0.2),
    outage=st.integers(0, 200),
)
def test_dropping_settled_cases_changes_no_answer_and_a_resumed_view_equals_the_fold(
    seed: int, days: int, new: int, p_held: float, p_closed: float, outage: int
) -> None:
    """``outage``: days, from the 30th, when no deadline was judged (cases settled then stay
    unjudged for a while, and the view keeps them for the check)."""
    history = History(random.Random(seed))
    dropping, keeping = CaseView(APP), CaseView(APP, kept_days=None)
    checked = 0
    for n in range(days):
        today = FIRST_DAY + timedelta(days=n)
        judging = not 30 <= n < 30 + outage
        history.day(today, history.rng.randint(0, new), p_held, p_closed, judging)
        fold(history.events[checked:], dropping)
        fold(history.events[checked:], keeping)
        checked = len(history.events)
        tomorrow = today + timedelta(days=1)  # the checks run on the day after the events
        assert answers(dropping, tomorrow) == answers(keeping, tomorrow)
        assert answers(dropping, today) == answers(keeping, today)
    # a view stored at any position and resumed equals the fold from the beginning
    cut = history.rng.randint(0, len(history.events))
    stored = json.loads(json.dumps(fold(history.events[:cut], CaseView(APP)).dump()))
    resumed = CaseView(APP)
    resumed.load(stored)
    fold(history.events[cut:], resumed)
    assert resumed.dump() == dropping.dump()


def test_ten_years_of_settled_cases_leave_only_the_last_months_in_the_view() -> None:
    history = History(random.Random(18))
    for n in range(3653):
        history.day(FIRST_DAY + timedelta(days=n), 2, p_held=0.2, p_closed=0.05)
    dropping = fold(history.events, CaseView(APP))
    keeping = fold(history.events, CaseView(APP, kept_days=None))
    assert len(keeping.cases) == len(history.cases) > 7000
    horizon = local_date(_at(FIRST_DAY + timedelta(days=3652), 12))
    recent = {
        c
        for c, case in history.cases.items()
        if (case.held or case.closed or horizon) >= horizon - timedelta(days=KEPT_DAYS)
        or not case.judged
    }
    assert set(dropping.cases) <= recent
    assert len(dropping.cases) < len(keeping.cases) / 10
    assert dropping.overdue <= set(dropping.cases)
    assert answers(dropping, horizon + timedelta(days=1)) == answers(
        keeping, horizon + timedelta(days=1)
    )


def test_a_wait_window_longer_than_the_view_keeps_is_refused() -> None:
    long = cast("Application[UUID]", SimpleNamespace(policy=SimpleNamespace(wait_window_days=93)))
    with pytest.raises(ValueError, match="longer than the case view keeps"):
        CaseView(long)
    assert CaseView(long, kept_days=None).cases == {}
