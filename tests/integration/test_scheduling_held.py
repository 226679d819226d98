"""Held meetings are physically possible: a staff member is never recorded as holding two
meetings at the same minutes, and a booking a longer meeting ran into is recorded as started
late. On SQLite and PostgreSQL, through several instances at once, and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from events.scheduling import MeetingHeld
from infra.auth import Role
from infra.settings import Settings
from services.scheduling.application import Scheduling
from services.scheduling.booking import MeetingRequest
from services.scheduling.domain_meeting import Meeting
from services.scheduling.errors import HeldElsewhere
from services.scheduling.http import routers
from tests.integration.test_scheduling_concurrency import at_once
from tests.integration.test_scheduling_support import (
    Clock,
    deliver,
    local,
    referral,
    scheduling,
    staff,
)
from tests.support.auth import api, headers

MONDAY = local(2026, 3, 2, 8)
TUESDAY = (2026, 3, 3)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def app(store_settings: Settings, clock: Clock) -> Iterator[Scheduling]:
    app = scheduling(store_settings, clock)
    app.register_staff(staff("anna", competences=("violence_in_close_relationships",)))
    app.register_staff(staff("bertil"))
    yield app
    app.close()


def book(app: Scheduling, who: str, hour: int, minute: int = 0, minutes: int = 60) -> Meeting:
    case = referral(MONDAY)
    deliver(app, case)
    starts = local(*TUESDAY, hour, minute)
    request = MeetingRequest(case.case_id, "counselling", minutes=minutes, staff=(who,),
                             starts_at=starts)  # fmt: skip
    return app.book_meeting(request)


def held(app: Scheduling, meeting: Meeting, start: datetime, end: datetime, *who: str) -> Meeting:
    return app.record_held(
        meeting.id, started_at=start, ended_at=end, participants=2, staff=tuple(who)
    )


def at(hour: int, minute: int = 0) -> datetime:
    return local(*TUESDAY, hour, minute)


def test_a_booking_a_longer_meeting_ran_into_is_recorded_as_started_late(
    app: Scheduling, clock: Clock
) -> None:
    first, second = book(app, "anna", 9), book(app, "anna", 10)
    clock.now = at(18)
    held(app, first, at(9), at(10, 20))  # ran 20 minutes into the next booking
    with pytest.raises(HeldElsewhere) as refused:
        held(app, second, at(10), at(11))
    assert refused.value.status == 409
    assert str(first.id) in str(refused.value) and "10:20 or later" in str(refused.value)
    late = held(app, second, at(10, 20), at(11, 15))
    assert late.outcome["started_at"] > late.starts_at  # the record shows it started late
    published = [o.message for o in app.outbox(0, 1000)[1] if isinstance(o.message, MeetingHeld)]
    spans = sorted((m.started_at, m.ended_at) for m in published)
    assert spans == [(at(9), at(10, 20)), (at(10, 20), at(11, 15))]  # billed without overlap
    assert held(app, second, at(10, 20), at(11, 15)).id == second.id  # a retry changes nothing


def test_a_longer_meeting_recorded_after_the_one_it_ran_into_is_refused_naming_it(
    app: Scheduling, clock: Clock
) -> None:
    first, second = book(app, "anna", 9), book(app, "anna", 10)
    clock.now = at(18)
    held(app, second, at(10), at(11))
    with pytest.raises(HeldElsewhere, match=f"{second.id}.*must have ended by 10:00"):
        held(app, first, at(9), at(10, 20))
    held(app, first, at(9), at(10))


def test_meetings_may_follow_each_other_to_the_minute_and_other_staff_are_not_affected(
    app: Scheduling, clock: Clock
) -> None:
    first, second, other = book(app, "anna", 9), book(app, "anna", 10), book(app, "bertil", 9)
    clock.now = at(18)
    held(app, first, at(9), at(10))
    held(app, second, at(10), at(11))
    held(app, other, at(9, 30), at(10, 30))


def test_a_substitute_cannot_hold_a_meeting_while_holding_their_own(
    app: Scheduling, clock: Clock
) -> None:
    own, covered = book(app, "anna", 9), book(app, "bertil", 10)
    clock.now = at(18)
    held(app, own, at(9), at(10, 30))
    with pytest.raises(HeldElsewhere, match=str(own.id)):
        held(app, covered, at(10), at(11), "anna")
    covering = held(app, covered, at(10, 30), at(11, 30), "anna")  # for bertil, started late
    assert covering.outcome["staff"] == ["anna"]


def test_a_meeting_held_before_the_weeks_kept_what_was_held_still_counts(
    app: Scheduling, clock: Clock
) -> None:
    old, new = book(app, "anna", 9), book(app, "anna", 10)
    clock.now = at(18)
    # Recorded as the service did before: the meeting held, nothing noted in anna's week.
    app.transact(
        lambda desk: desk.meeting(old.id).hold(at(9), at(10, 30), 2, 1, ["anna"], desk.now)
    )
    with pytest.raises(HeldElsewhere, match=str(old.id)):
        held(app, new, at(10), at(11))


def test_instances_recording_clashing_meetings_at_once_record_one(
    store_settings: Settings, app: Scheduling, clock: Clock
) -> None:
    meetings = [book(app, "anna", 9), book(app, "anna", 10), book(app, "anna", 11)]
    clock.now = at(18)
    others = [scheduling(store_settings, clock) for _ in range(2)]
    try:
        instances = [app, *others]
        results = at_once(
            [
                lambda m=m, i=i: held(instances[i], m, at(9, 30), at(10, 30))
                for i, m in enumerate(meetings)
            ]
        )
    finally:
        for other in others:
            other.close()
    recorded = [r for r in results if isinstance(r, Meeting)]
    assert len(recorded) == 1, results
    assert all(isinstance(r, HeldElsewhere) for r in results if r not in recorded)


def test_over_http_a_clashing_held_record_is_answered_409_naming_the_other_meeting(
    app: Scheduling, clock: Clock, store_settings: Settings
) -> None:
    first, second = book(app, "anna", 9), book(app, "anna", 10)
    clock.now = at(18)
    routes = api(store_settings, routers(app))
    with TestClient(routes, headers=headers(store_settings, Role.STAFF)) as http:
        body = {"started_at": at(9).isoformat(), "ended_at": at(10, 20).isoformat(),
                "participants": 2}  # fmt: skip
        assert http.post(f"/meetings/{first.id}/held", json=body).status_code == 200
        body |= {"started_at": at(10).isoformat(), "ended_at": at(11).isoformat()}
        refused = http.post(f"/meetings/{second.id}/held", json=body)
        assert refused.status_code == 409
        assert str(first.id) in refused.json()["detail"]
        body |= {"started_at": at(10, 20).isoformat(), "ended_at": at(11, 20).isoformat()}
        answer = http.post(f"/meetings/{second.id}/held", json=body)
        assert answer.status_code == 200
        assert answer.json()["outcome"]["started_at"].startswith("2026-03-03T10:20")
    assert timedelta(minutes=20) == app.meeting(second.id).outcome["started_at"] - second.starts_at
