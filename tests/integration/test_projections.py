"""Watches kept as projections in the store: a start resumes from the stored position and
answers as a fold of the whole log does (issue 18, item 4a)."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import ANY

import pytest

from events.intake import CaseClosed
from infra import projections
from infra.projections import from_scratch, keep
from infra.settings import Settings
from services.intake.retention import RetentionWatch
from services.intake.watch import AckWatch
from services.scheduling.view import KEPT_DAYS, CaseView
from tests.integration.test_scheduling_support import Clock as SchedulingClock
from tests.integration.test_scheduling_support import deliver, local, scheduling
from tests.integration.test_scheduling_support import referral as received
from tests.support.intake import Clock, make_intake, referral


@pytest.fixture(autouse=True)
def keep_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Store at every periodic job, not once a minute: each step below is a stored state."""
    monkeypatch.setattr(projections, "KEEP_EVERY_POSITIONS", 1)
    monkeypatch.setattr(projections, "KEEP_EVERY_SECONDS", 0.0)


def _view(view: CaseView) -> tuple[Any, ...]:
    return view.cases, view.unjudged, view.overdue


def test_the_case_view_resumed_from_any_stored_position_equals_the_full_fold(
    store_settings: Settings,
) -> None:
    clock = SchedulingClock(local(2026, 3, 2, 10))
    app = scheduling(store_settings, clock)
    opened = []
    for step in range(8):
        message = received(clock.now, programme="counselling" if step % 2 else "network")
        opened.append(message)
        deliver(app, message)
        if step % 3 == 2:  # some cases close, some deadlines are judged
            closing = opened.pop(0)
            deliver(
                app, CaseClosed(case_id=closing.case_id, outcome="declined_by_family",
                                closed_at=clock.now)
            )  # fmt: skip
        clock.advance(days=5)
        app.check_deadlines()  # the periodic job: catches up and stores the view
        stored = app.store.projection(CaseView.name)
        assert stored is not None and 0 < stored[0] <= app.view.position
        # N more events after the stored position (none for the last step's check)
        deliver(app, received(clock.now))
        restarted = scheduling(store_settings, clock)
        projections.resume(restarted, restarted.view)
        assert restarted.view.position == stored[0]  # nothing of the log read yet
        restarted.view.catch_up()
        full = from_scratch(CaseView(restarted))
        assert isinstance(full, CaseView)
        full.catch_up()
        assert full.position == restarted.view.position > stored[0]
        assert _view(restarted.view) == _view(full)
        assert [r.case.id for r in restarted.queue()] == [r.case.id for r in app.queue()]
        restarted.close()
    app.close()


def test_intake_watches_resume_from_their_stored_positions_and_agree_with_a_full_fold(
    store_settings: Settings,
) -> None:
    clock = Clock()
    intake = make_intake(store_settings, clock)
    first = [intake.submit(json.dumps(referral()).encode()).case_id for _ in range(3)]
    assert all(first)
    clock.advance(days=3)
    assert intake.check_acknowledgements()  # the three are past their deadline, noted
    assert intake.erase_expired(5) == []
    acks = intake.store.projection(AckWatch.name)
    kept = intake.store.projection(RetentionWatch.name)
    assert acks is not None and kept is not None
    assert acks[0] == intake.ack_watch.position and kept[0] == intake.retention_watch.position
    # the projections are sealed as intake's events are: no case id in the clear
    assert all(str(case_id) not in acks[1].decode("latin-1") for case_id in first)

    later = [intake.submit(json.dumps(referral()).encode()).case_id for _ in range(2)]
    assert all(later)
    restarted = make_intake(store_settings, clock)
    for watch, (position, _) in ((restarted.ack_watch, acks), (restarted.retention_watch, kept)):
        projections.resume(restarted, watch)
        assert watch.position == position  # a start reads only what came after
    clock.advance(days=5 * 366)
    restarted.ack_watch.advance(restarted)
    restarted.retention_watch.advance(restarted)
    full_acks = from_scratch(AckWatch())
    full_kept = from_scratch(RetentionWatch())
    assert isinstance(full_acks, AckWatch) and isinstance(full_kept, RetentionWatch)
    full_acks.advance(restarted)
    full_kept.advance(restarted)
    assert (restarted.ack_watch.waiting, restarted.ack_watch.noted) == (
        full_acks.waiting,
        full_acks.noted,
    )
    assert restarted.ack_watch.due(clock.now) == full_acks.due(clock.now)
    assert restarted.retention_watch.expired(clock.now, 5) == full_kept.expired(clock.now, 5)
    assert restarted.retention_watch.dump() == full_kept.dump()
    assert len(restarted.erase_expired(5)) == len(full_kept.expired(clock.now, 5)) > 0
    restarted.close()
    intake.close()


def test_a_stored_projection_is_stored_again_only_when_it_moved(store_settings: Settings) -> None:
    clock = Clock()
    intake = make_intake(store_settings, clock)
    intake.submit(json.dumps(referral()).encode())
    watch = intake.ack_watch
    watch.advance(intake)
    assert keep(intake, watch)
    assert not keep(intake, watch)  # nothing new: nothing written
    intake.submit(json.dumps(referral()).encode())
    watch.advance(intake)
    assert keep(intake, watch)
    assert intake.store.projection(AckWatch.name) == (watch.position, ANY)
    intake.close()


def test_the_stored_case_view_keeps_only_what_its_queries_still_read(
    store_settings: Settings,
) -> None:
    """A year and a half of cases, each closed a week after it came: the stored view holds the
    last months' (``KEPT_DAYS``), a start resumes it, and every answer is a keep-all fold's."""
    clock = SchedulingClock(local(2024, 6, 3, 10))
    app = scheduling(store_settings, clock)
    for _ in range(80):  # a week at a time
        message = received(clock.now, programme="counselling")
        deliver(app, message)
        clock.advance(days=7)
        deliver(app, CaseClosed(case_id=message.case_id, outcome="declined_by_family",
                                closed_at=clock.now))  # fmt: skip
        app.check_deadlines()
    deliver(app, received(clock.now, programme="counselling"))  # one still waiting
    app.check_deadlines()
    assert 0 < len(app.view.cases) <= KEPT_DAYS // 7 + 2
    restarted = scheduling(store_settings, clock)
    restarted.view.catch_up()
    full = from_scratch(CaseView(restarted))
    everything = from_scratch(CaseView(restarted, kept_days=None))
    full.catch_up()
    everything.catch_up()
    assert len(everything.cases) == 81
    assert _view(restarted.view) == _view(full)
    levels, waits = restarted.service_levels(), restarted.wait_times()
    assert levels["first_contacts_waiting"] == 1 and waits == app.wait_times()
    restarted.view = everything
    assert (restarted.service_levels(), restarted.wait_times()) == (levels, waits)
    restarted.close()
    app.close()
