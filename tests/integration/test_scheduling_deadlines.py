"""FirstContactOverdue and WaitTimeReportDue appear exactly when they should, under a clock the
test moves (the runtime's periodic job calls the same check every minute)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest

from events.intake import CaseClosed
from infra.calendar import local_date
from infra.settings import Settings
from services.scheduling.app import make_app, periodic
from services.scheduling.application import Scheduling
from services.scheduling.booking import MeetingRequest
from services.scheduling.monitor import WaitMonitor
from tests.integration.test_scheduling_support import (
    Clock,
    deliver,
    local,
    referral,
    scheduling,
    staff,
)

RECEIVED = local(2026, 3, 2, 10)  # Monday; due Monday 16 March


def published(app: Scheduling, type_name: str) -> list[Any]:
    _, outgoing = app.outbox(0, 10_000)
    return [o.message for o in outgoing if o.message.type_name == type_name]


@pytest.fixture
def clock() -> Clock:
    return Clock(RECEIVED)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Scheduling:
    return scheduling(settings, clock)


def test_an_unoffered_case_is_overdue_once_on_the_first_check_after_its_due_date(
    app: Scheduling, clock: Clock
) -> None:
    message = referral(RECEIVED)
    deliver(app, message)
    clock.now = local(2026, 3, 16, 23, 59)
    assert app.check_deadlines().overdue == []
    clock.now = local(2026, 3, 17) + timedelta(seconds=30)
    assert app.check_deadlines().overdue == [message.case_id]
    clock.advance(minutes=1)
    assert app.check_deadlines().overdue == []
    (overdue,) = published(app, "FirstContactOverdue")
    assert overdue.case_id == message.case_id and overdue.programme == "counselling"
    assert overdue.first_contact_due == date(2026, 3, 16)
    assert overdue.detected_at == local(2026, 3, 17) + timedelta(seconds=30)
    assert [r.case.overdue for r in app.queue()] == [True]
    assert app.service_levels() == {
        "first_contacts_waiting": 1,
        "first_contacts_overdue": 1,
        "waits_above_threshold": 1,  # received 2 March: waiting 15 days on the 17th
        "wait_time_reports_open": 0,
    }


def test_instances_checking_at_the_same_moment_announce_an_overdue_case_once(
    settings: Settings, clock: Clock
) -> None:
    apps = [scheduling(settings, clock) for _ in range(4)]
    cases = [referral(RECEIVED) for _ in range(5)]
    deliver(apps[0], *cases)
    clock.now = local(2026, 3, 17, 0, 1)
    barrier = threading.Barrier(len(apps))

    def check(app: Scheduling) -> None:
        barrier.wait()
        app.check_deadlines()

    threads = [threading.Thread(target=check, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    overdue = published(apps[0], "FirstContactOverdue")
    assert sorted(m.case_id for m in overdue) == sorted(c.case_id for c in cases)


def test_a_case_offered_by_its_due_date_is_not_overdue_even_if_the_family_cancelled(
    app: Scheduling, clock: Clock
) -> None:
    app.register_staff(staff("anna"))
    message = referral(RECEIVED)
    deliver(app, message)
    (first,) = app.book_first_contacts().booked
    app.cancel(first.id, "family", "could not come")
    clock.now = local(2026, 3, 17, 0, 1)
    check = app.check_deadlines()
    assert check.overdue == [] and check.met == [message.case_id]
    assert published(app, "FirstContactOverdue") == []


def test_a_time_withdrawn_by_the_provider_leaves_the_case_overdue(
    app: Scheduling, clock: Clock
) -> None:
    app.register_staff(staff("anna"))
    message = referral(RECEIVED)
    deliver(app, message)
    (first,) = app.book_first_contacts().booked
    app.reschedule(first.id, "provider", "counsellor ill", not_before=local(2026, 3, 18, 8))
    clock.now = local(2026, 3, 17, 0, 1)
    assert app.check_deadlines().overdue == [message.case_id]


def test_a_case_that_could_only_be_booked_after_its_due_date_is_overdue(
    app: Scheduling, clock: Clock
) -> None:
    app.register_staff(staff("anna", hours=1))
    first, second = referral(RECEIVED), referral(RECEIVED + timedelta(minutes=1))
    deliver(app, first, second)
    clock.now = local(2026, 3, 13, 8)  # one hour a week, and only Monday 16 March left in time
    booked = {m.case_id: m for m in app.book_first_contacts().booked}
    assert local_date(booked[first.case_id].starts_at) == date(2026, 3, 16)
    assert local_date(booked[second.case_id].starts_at) == date(2026, 3, 23)  # booked late
    clock.now = local(2026, 3, 17, 0, 1)
    assert app.check_deadlines().overdue == [second.case_id]


def test_a_case_closed_before_its_due_date_is_never_overdue(app: Scheduling, clock: Clock) -> None:
    message = referral(RECEIVED)
    deliver(app, message)
    deliver(
        app,
        CaseClosed(
            case_id=message.case_id,
            outcome="declined_by_family",
            closed_at=RECEIVED + timedelta(days=2),
        ),
    )
    clock.now = local(2026, 3, 20)
    check = app.check_deadlines()
    assert (check.overdue, check.met) == ([], [])
    assert published(app, "FirstContactOverdue") == []


def days_reported(app: Scheduling, clock: Clock, first: date, last: date) -> list[date]:
    """Check once a day, shortly after midnight, like the periodic job would; the report days."""
    reported = []
    day = first
    while day <= last:
        clock.now = local(day.year, day.month, day.day, 0, 5)
        if "counselling" in app.check_deadlines().reports:
            reported.append(day)
        clock.now += timedelta(hours=12)  # a second check the same day changes nothing
        assert "counselling" not in app.check_deadlines().reports
        day += timedelta(days=1)
    return reported


def test_a_wait_time_report_is_due_the_day_the_median_wait_passes_14_days_and_every_4_weeks(
    app: Scheduling, clock: Clock
) -> None:
    deliver(app, referral(RECEIVED))  # nobody on the roster: the case waits
    reported = days_reported(app, clock, date(2026, 3, 3), date(2026, 4, 20))
    # By the end of 17 March it has waited 15 days: judged on the 18th; again 28 days later.
    assert reported == [date(2026, 3, 18), date(2026, 4, 15)]
    first, second = published(app, "WaitTimeReportDue")
    assert (first.programme, first.median_wait_days, first.window_days) == ("counselling", 15, 28)
    assert second.median_wait_days == 43
    assert first.detected_at == local(2026, 3, 18, 0, 5)


def test_short_waits_outweigh_one_long_wait_until_they_leave_the_window(
    app: Scheduling, clock: Clock
) -> None:
    app.register_staff(staff("anna"))
    quick = [referral(RECEIVED) for _ in range(3)]
    stuck = referral(RECEIVED)
    deliver(app, *quick, stuck)
    app.record_wishes(stuck.case_id, ["sexology"], False, False)  # nobody on the roster has it
    for hour, message in zip((9, 10, 11), quick, strict=True):
        start = local(2026, 3, 6, hour)
        m = app.book_meeting(
            MeetingRequest(
                message.case_id, "counselling", minutes=60, staff=("anna",), starts_at=start
            )
        )
        clock.now = m.ends_at
        app.record_held(m.id, started_at=m.starts_at, ended_at=m.ends_at, participants=2)
    # Waits of 4, 4, 4 and (from 18 March) the stuck case's: the median is 4 until the quick
    # first contacts of 6 March leave the 28-day window on 4 April.
    assert days_reported(app, clock, date(2026, 3, 7), date(2026, 4, 10)) == [date(2026, 4, 4)]
    (report,) = published(app, "WaitTimeReportDue")
    assert report.median_wait_days == 32
    deliver(
        app,
        CaseClosed(
            case_id=stuck.case_id, outcome="referred_elsewhere", closed_at=local(2026, 4, 10, 12)
        ),
    )
    clock.now = local(2026, 4, 12, 0, 5)
    app.check_deadlines()
    monitor = app.repository.get(WaitMonitor.create_id("counselling"))
    assert monitor.breached_since is None  # the period of long waits is over


def test_the_service_runs_on_the_projects_clock_and_calendar(settings: Settings) -> None:
    start = local(2026, 10, 1, 8)
    simulated = settings.model_copy(update={"simulated_start": start, "de_facto_days_off": False})
    app = make_app(simulated)
    assert start <= app.clock() < start + timedelta(minutes=1)
    assert app.policy.working_time.calendar.de_facto_days_off is False
    app.close()


def test_the_runtime_runs_the_check_every_minute_by_default(
    app: Scheduling, settings: Settings
) -> None:
    (job,) = periodic(app, settings)
    assert job.seconds == 60 and job.run == app.check_deadlines
