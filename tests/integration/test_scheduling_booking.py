"""Booking through the application on a real SQLite store: the queue, first contacts, later
meetings per programme, times checked against the calendar and the diaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from infra.calendar import STOCKHOLM, local_date
from infra.settings import Settings
from services.scheduling.application import Scheduling
from services.scheduling.booking import MeetingRequest
from services.scheduling.errors import (
    Conflict,
    Invalid,
    NotBookable,
    TimeTaken,
    WrongKind,
    WrongStaff,
)
from services.scheduling.timeplan import Interval
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


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Scheduling:
    app = scheduling(settings, clock)
    app.register_staff(staff("anna", competences=("violence_in_close_relationships",)))
    app.register_staff(staff("olof", "other_provider"))
    app.register_staff(
        staff("nils", programmes=("network", "coordinated"), competences=("network_work", "sip"))
    )
    app.register_staff(staff("nina", programmes=("network",), competences=("network_work",)))
    app.register_staff(staff("fia", programmes=("field",), evenings=True, weekends=True))
    return app


def test_referrals_queue_by_priority_then_due_date_and_each_case_knows_its_place(
    app: Scheduling,
) -> None:
    service_early = referral(MONDAY - timedelta(days=3))
    service_late = referral(MONDAY)
    decided = referral(MONDAY, "network", basis="decision")
    acute = referral(MONDAY + timedelta(hours=1), urgency="acute")
    deliver(app, service_late, decided, service_early, acute)
    queue = app.queue()
    assert [r.case.id for r in queue] == [
        acute.case_id,
        decided.case_id,
        service_early.case_id,
        service_late.case_id,
    ]
    assert [r.place for r in queue] == [1, 2, 3, 4]
    assert [r.case.id for r in app.queue("counselling")] == [
        acute.case_id,
        service_early.case_id,
        service_late.case_id,
    ]


def test_a_referral_delivered_twice_is_queued_once(app: Scheduling) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    deliver(app, message)  # a republished copy: a new entry with the same case
    assert len(app.queue()) == 1


def test_first_contacts_are_booked_in_time_with_matching_staff_and_leave_the_queue_when_held(
    app: Scheduling, clock: Clock
) -> None:
    needs_violence = referral(MONDAY)
    plain = referral(MONDAY)
    network = referral(MONDAY, "network")
    deliver(app, needs_violence, plain, network)
    app.record_wishes(needs_violence.case_id, ["violence_in_close_relationships"], False, False)
    run = app.book_first_contacts()
    assert not run.not_booked
    by_case = {m.case_id: m for m in run.booked}
    assert by_case[needs_violence.case_id].staff == ["anna"]
    assert by_case[network.case_id].staff[0] in ("nils", "nina")
    assert by_case[network.case_id].kind == "coordination"
    assert by_case[plain.case_id].format == "couple"
    for m in run.booked:
        assert m.first_contact and m.starts_at >= MONDAY + timedelta(hours=24)
        assert local_date(m.starts_at) <= date(2026, 3, 16)
    assert app.book_first_contacts().booked == []  # booked cases are not booked again
    first = by_case[plain.case_id]
    clock.now = first.ends_at + timedelta(minutes=1)
    app.record_held(first.id, started_at=first.starts_at, ended_at=first.ends_at, participants=2)
    assert plain.case_id not in [r.case.id for r in app.queue()]
    assert app.meeting(first.id).outcome["client_visits"] == 1


def test_a_case_nobody_matches_is_reported_not_booked(app: Scheduling) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    app.record_wishes(message.case_id, ["sexology"], False, False)
    run = app.book_first_contacts()
    assert run.booked == [] and [n.reason for n in run.not_booked] == ["no_matching_staff"]


def test_network_work_books_its_plan_of_about_thirteen_hours(app: Scheduling) -> None:
    message = referral(MONDAY, "network")
    deliver(app, message)
    (first,) = app.book_first_contacts().booked
    plan = app.book_network_plan(message.case_id)
    kinds = [m.kind for m in plan]
    assert kinds == [
        "coordination",
        "pre_meeting",
        "network_meeting",
        "coordination",
        "follow_up",
        "follow_up",
    ]
    minutes = sum(Interval(m.starts_at, m.ends_at).minutes for m in [first, *plan])
    assert minutes == 13 * 60
    starts = [m.starts_at for m in [first, *plan]]
    assert starts == sorted(starts)
    assert (local_date(plan[2].starts_at) - local_date(plan[1].starts_at)).days >= 7
    assert all(m.staff == first.staff for m in plan)
    with pytest.raises(Conflict):
        app.book_network_plan(message.case_id)


def test_later_meetings_are_booked_by_the_kinds_their_programme_has(app: Scheduling) -> None:
    couple = referral(MONDAY)
    coordinated = referral(MONDAY, "coordinated")
    deliver(app, couple, coordinated)
    app.book_first_contacts()
    group = app.book_meeting(MeetingRequest(couple.case_id, "group_session"))
    assert (group.format, Interval(group.starts_at, group.ends_at).minutes) == ("group", 120)
    sip = app.book_meeting(MeetingRequest(coordinated.case_id, "sip_meeting", staff=("nils",)))
    assert sip.kind == "sip_meeting" and sip.provider == "leanlink"
    with pytest.raises(WrongKind, match="counselling books counselling, group_session"):
        app.book_meeting(MeetingRequest(couple.case_id, "network_meeting"))
    with pytest.raises(Invalid, match="60-120 minutes"):
        app.book_meeting(MeetingRequest(couple.case_id, "counselling", minutes=150))
    with pytest.raises(WrongStaff, match="must work in coordinated"):
        app.book_meeting(MeetingRequest(coordinated.case_id, "sip_meeting", staff=("nina",)))
    with pytest.raises(WrongStaff, match="with"):
        provider = app.subject(couple.case_id).provider  # type: ignore[union-attr]
        other = "olof" if provider == "leanlink" else "anna"
        app.book_meeting(MeetingRequest(couple.case_id, "counselling", staff=(other,)))


def test_a_meeting_at_a_given_time_is_checked_against_the_calendar_and_the_diary(
    app: Scheduling,
) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    good_friday = MeetingRequest(
        message.case_id, "counselling", staff=("anna",), starts_at=local(2026, 4, 3, 9)
    )
    with pytest.raises(NotBookable, match="public holiday"):
        app.book_meeting(good_friday)
    evening = MeetingRequest(
        message.case_id, "counselling", staff=("anna",), starts_at=local(2026, 3, 3, 17)
    )
    with pytest.raises(NotBookable, match="outside the working time"):
        app.book_meeting(evening)
    at_nine = MeetingRequest(
        message.case_id, "counselling", minutes=60, staff=("anna",), starts_at=local(2026, 3, 3, 9)
    )
    booked = app.book_meeting(at_nine)
    assert booked.first_contact and booked.starts_at == local(2026, 3, 3, 9)
    other = referral(MONDAY)
    deliver(app, other)
    with pytest.raises(TimeTaken):
        app.book_meeting(
            MeetingRequest(
                other.case_id, "counselling", staff=("anna",), starts_at=local(2026, 3, 3, 9, 30)
            )
        )
    again = app.book_meeting(
        MeetingRequest(message.case_id, "counselling", staff=("anna",), meeting_id=booked.id)
    )
    assert again.id == booked.id and len(all_meetings(app)) == 1


def test_evening_times_are_offered_when_the_family_asks_and_the_counsellor_offers(
    settings: Settings, clock: Clock
) -> None:
    app = scheduling(settings, clock)
    app.register_staff(staff("kvall", evenings=True))
    message = referral(MONDAY)
    deliver(app, message)
    app.record_wishes(message.case_id, [], True, False)
    for hour in range(8, 17):  # fill office hours on Tuesday
        app.book_meeting(
            MeetingRequest(
                message.case_id,
                "counselling",
                minutes=60,
                staff=("kvall",),
                starts_at=local(2026, 3, 3, hour),
            )
        )
    evening = app.book_meeting(
        MeetingRequest(message.case_id, "counselling", minutes=60, not_before=local(2026, 3, 3, 8))
    )
    assert evening.starts_at == local(2026, 3, 3, 17)


def test_night_walks_are_booked_for_a_field_activity_on_friday_and_saturday_nights(
    app: Scheduling,
) -> None:
    activity = app.open_field_activity("Skäggetorp", date(2026, 3, 2), date(2026, 3, 29))
    walks = [
        app.book_meeting(MeetingRequest(activity.id, "night_walk", staff=("fia",)))
        for _ in range(3)
    ]
    starts = [w.starts_at.astimezone(STOCKHOLM) for w in walks]
    assert [(s.strftime("%a"), s.hour) for s in starts] == [("Fri", 18), ("Sat", 18), ("Fri", 18)]
    assert all(w.ends_at.astimezone(STOCKHOLM).hour == 22 for w in walks)
    with pytest.raises(NotBookable, match="outside"):
        app.book_meeting(
            MeetingRequest(
                activity.id, "night_walk", staff=("fia",), starts_at=local(2026, 4, 3, 18)
            )
        )
    assert app.extend_field_activity(activity.id, date(2026, 4, 26)).last_day == date(2026, 4, 26)
    later = app.open_field_activity("Ryd", date(2026, 4, 13), date(2026, 4, 26))
    first_walk = app.book_meeting(MeetingRequest(later.id, "night_walk", staff=("fia",)))
    assert first_walk.starts_at == local(2026, 4, 17, 18)  # its first Friday, not this week's


def test_an_absence_that_covers_booked_meetings_is_refused_until_they_are_moved(
    app: Scheduling,
) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    booked = app.book_meeting(
        MeetingRequest(
            message.case_id, "counselling", staff=("anna",), starts_at=local(2026, 3, 4, 9)
        )
    )
    away = staff(
        "anna",
        competences=("violence_in_close_relationships",),
        absences=((date(2026, 3, 4), date(2026, 3, 6)),),
    )
    with pytest.raises(Conflict, match=str(booked.id)):
        app.change_staff(away)
    app.reschedule(booked.id, "provider", "counsellor away", starts_at=local(2026, 3, 9, 9))
    assert app.change_staff(away)["absences"] == [[date(2026, 3, 4), date(2026, 3, 6)]]


def test_no_booking_falls_on_a_holiday_or_outside_working_time_around_easter_midsummer_dst(
    settings: Settings,
) -> None:
    # Easter week, Midsummer week, and the autumn clock change (Sunday 25 October).
    periods = [local(2026, 3, 30, 8), local(2026, 6, 15, 8), local(2026, 10, 21, 8)]
    holidays = {date(2026, 4, 3), date(2026, 4, 6), date(2026, 6, 19), date(2026, 6, 20)}
    booked_days: set[date] = set()
    offsets: set[timedelta | None] = set()
    for n, start in enumerate(periods):
        clock = Clock(start)
        app = scheduling(settings.model_copy(update={"var_dir": settings.var_dir / str(n)}), clock)
        app.register_staff(staff("anna", hours=40, evenings=True, weekends=True))
        app.register_staff(staff("olof", "other_provider", hours=40))
        for day in range(10):  # eight referrals a day for ten days: more than two can see
            received = start + timedelta(days=day)
            deliver(app, *(referral(received) for _ in range(8)))
            clock.now = received + timedelta(hours=8)
            app.book_first_contacts()
        meetings = all_meetings(app)
        assert len(meetings) > 40 and overlapping(meetings) == []
        for m in meetings:
            begins, ends = m.starts_at.astimezone(STOCKHOLM), m.ends_at.astimezone(STOCKHOLM)
            assert begins.weekday() < 5 and ends.date() == begins.date()
            assert begins.hour >= 8 and (ends.hour, ends.minute) <= (17, 0)
            assert begins.date() not in holidays
        booked_days |= {local_date(m.starts_at) for m in meetings}
        offsets |= {m.starts_at.astimezone(STOCKHOLM).utcoffset() for m in meetings}
    # The days around the holidays were used; only the holidays themselves stayed empty.
    assert {date(2026, 4, 2), date(2026, 4, 7), date(2026, 6, 18), date(2026, 6, 22)} <= booked_days
    assert {date(2026, 10, 23), date(2026, 10, 26)} <= booked_days
    assert offsets == {timedelta(hours=2), timedelta(hours=1)}  # 08:00 stayed 08:00 in CET
