"""No double booking under concurrent booking requests: threads booking at once through several
instances of the application on one real store (SQLite, and PostgreSQL where it answers), as
several service instances would."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from infra.settings import Settings
from services.scheduling.application import Scheduling
from services.scheduling.booking import MeetingRequest
from services.scheduling.errors import SchedulingError, TimeTaken
from services.scheduling.roster import StaffWeek
from services.scheduling.timeplan import week_of
from tests.integration.test_scheduling_support import (
    Clock,
    all_meetings,
    deliver,
    local,
    overlapping,
    referral,
    scheduling,
    staff,
)

MONDAY = local(2026, 3, 2, 8)
INSTANCES = 4


@pytest.fixture
def apps(store_settings: Settings) -> Iterator[list[Scheduling]]:
    clock = Clock(MONDAY)
    first = scheduling(store_settings, clock)
    first.register_staff(staff("anna", hours=12))
    first.register_staff(staff("olof", "other_provider", hours=12))
    apps = [first, *(scheduling(store_settings, clock) for _ in range(INSTANCES - 1))]
    yield apps
    for app in apps:
        app.close()


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, all released at the same moment; results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except SchedulingError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_requests_for_the_same_staff_member_and_time_book_exactly_one(
    apps: list[Scheduling],
) -> None:
    cases = [referral(MONDAY) for _ in range(12)]
    deliver(apps[0], *cases)
    wanted = local(2026, 3, 3, 10)
    calls = [
        lambda c=c, app=apps[n % INSTANCES]: app.book_meeting(
            MeetingRequest(c.case_id, "counselling", minutes=60, staff=("anna",), starts_at=wanted)
        )
        for n, c in enumerate(cases)
    ]
    results = at_once(calls)
    booked = [r for r in results if not isinstance(r, Exception)]
    assert len(booked) == 1
    assert all(isinstance(r, TimeTaken) for r in results if isinstance(r, Exception))
    week = apps[0].repository.get(StaffWeek.create_id("anna", week_of(wanted.date())))
    assert list(week.bookings) == [str(booked[0].id)]


def test_concurrent_booking_runs_give_each_case_one_first_contact_and_no_overlaps(
    apps: list[Scheduling],
) -> None:
    cases = [referral(MONDAY - timedelta(hours=n)) for n in range(30)]
    deliver(apps[0], *cases)
    calls = [lambda app=apps[n % INSTANCES]: app.book_first_contacts(limit=4) for n in range(12)]
    results = at_once(calls)
    assert not [r for r in results if isinstance(r, Exception)]
    meetings = all_meetings(apps[0])
    per_case = Counter(m.case_id for m in meetings)
    assert set(per_case) == {c.case_id for c in cases}
    assert set(per_case.values()) == {1}
    assert overlapping(meetings) == []
    for staff_id in ("anna", "olof"):
        minutes = sum(
            m.ends_at.timestamp() - m.starts_at.timestamp() for m in meetings if staff_id in m.staff
        )
        assert minutes / 60 <= 12 * 60 * 2  # never beyond two weeks of capacity


def test_threads_sharing_one_instance_never_double_book(apps: list[Scheduling]) -> None:
    app = apps[0]
    cases = [referral(MONDAY) for _ in range(16)]
    deliver(app, *cases)
    calls = [
        lambda c=c: app.book_meeting(
            MeetingRequest(c.case_id, "counselling", minutes=60, staff=("olof",))
        )
        for c in cases
    ]
    results = at_once(calls)
    assert not [r for r in results if isinstance(r, Exception)]
    meetings = all_meetings(app)
    assert len(meetings) == 16 and overlapping(meetings) == []
