"""Scheduling's aggregates: when a first-contact deadline counts as met, what a staff week
refuses, how a meeting ends, and what the roster accepts."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import date, datetime, timedelta

import pytest

from infra.calendar import STOCKHOLM, CalendarPolicy
from services.scheduling.application import Scheduling
from services.scheduling.domain import WaitingCase
from services.scheduling.domain_meeting import Meeting
from services.scheduling.errors import (
    Conflict,
    MeetingClosed,
    OverCapacity,
    StaffAlreadyRegistered,
    TimeTaken,
    UnknownStaff,
)
from services.scheduling.policy import SchedulingPolicy, WorkingTime
from services.scheduling.roster import Roster, StaffWeek
from services.scheduling.settings import SchedulingSettings
from services.scheduling.timeplan import Interval

RECEIVED = datetime(2026, 3, 2, 9, tzinfo=STOCKHOLM)
DUE = date(2026, 3, 16)
AFTER_DUE = date(2026, 3, 17)
NOW = datetime(2026, 3, 17, 0, 1, tzinfo=STOCKHOLM)


def waiting() -> WaitingCase:
    return WaitingCase(
        case_id=uuid.uuid4(),
        programme="counselling",
        priority=3,
        received_at=RECEIVED,
        first_contact_due=DUE,
        causation_id=None,
    )


def offered(case: WaitingCase, on: date) -> uuid.UUID:
    meeting_id = uuid.uuid4()
    case.note_booked(meeting_id, on, "leanlink", ["anna"], not case.live)
    return meeting_id


def test_a_deadline_is_judged_only_after_its_day_is_over_and_only_once() -> None:
    case = waiting()
    assert not case.judge_deadline(DUE, NOW)
    assert case.judge_deadline(AFTER_DUE, NOW)
    assert case.overdue
    assert not case.judge_deadline(AFTER_DUE + timedelta(days=1), NOW)
    judged = [e for e in case.collect_events() if type(e).__name__ == "DeadlineJudged"]
    assert len(judged) == 1


def test_a_first_contact_offered_by_the_due_date_meets_the_deadline() -> None:
    case = waiting()
    offered(case, DUE)
    case.judge_deadline(AFTER_DUE, NOW)
    assert not case.overdue


def test_a_first_contact_offered_only_after_the_due_date_is_overdue() -> None:
    case = waiting()
    offered(case, AFTER_DUE)
    case.judge_deadline(AFTER_DUE, NOW)
    assert case.overdue


@pytest.mark.parametrize(("by", "overdue"), [("family", False), ("provider", True)])
def test_a_time_the_family_declined_counts_as_offered_one_the_provider_withdrew_does_not(
    by: str, overdue: bool
) -> None:
    case = waiting()
    meeting_id = offered(case, date(2026, 3, 10))
    case.note_cancelled(meeting_id, by)
    case.judge_deadline(AFTER_DUE, NOW)
    assert case.overdue is overdue and case.live == []


@pytest.mark.parametrize(("by", "overdue"), [("family", False), ("provider", True)])
def test_moving_the_first_contact_past_the_due_date_counts_against_the_provider_only(
    by: str, overdue: bool
) -> None:
    case = waiting()
    meeting_id = offered(case, date(2026, 3, 10))
    case.note_moved(meeting_id, date(2026, 3, 20), by)
    case.judge_deadline(AFTER_DUE, NOW)
    assert case.overdue is overdue


def test_a_missed_first_contact_was_still_offered() -> None:
    case = waiting()
    case.note_missed(offered(case, date(2026, 3, 12)))
    case.judge_deadline(AFTER_DUE, NOW)
    assert not case.overdue


def test_a_case_closed_before_its_due_date_is_never_judged() -> None:
    case = waiting()
    case.close(datetime(2026, 3, 10, 12, tzinfo=STOCKHOLM), "declined_by_family", None)
    assert not case.judge_deadline(AFTER_DUE, NOW)
    assert not case.overdue and not case.waiting


def test_the_first_meeting_held_ends_the_wait() -> None:
    case = waiting()
    meeting_id = offered(case, date(2026, 3, 5))
    case.note_held(meeting_id, datetime(2026, 3, 5, 9, tzinfo=STOCKHOLM))
    assert not case.waiting and case.first_held_at == datetime(2026, 3, 5, 9, tzinfo=STOCKHOLM)


# --- a staff member's week --------------------------------------------------------------------

WEEK = date(2026, 3, 30)


def at(day: int, hour: float, minutes: int = 60) -> Interval:
    start = datetime(2026, 3, day, tzinfo=STOCKHOLM) + timedelta(hours=hour)
    return Interval(start, start + timedelta(minutes=minutes))


def test_a_week_refuses_a_time_that_overlaps_a_reservation() -> None:
    week = StaffWeek(staff_id="anna", week=WEEK)
    week.reserve(uuid.uuid4(), at(31, 9), 600)
    with pytest.raises(TimeTaken, match="anna is already booked from 2026-03-31 09:00"):
        week.reserve(uuid.uuid4(), at(31, 9.5), 600)
    week.reserve(uuid.uuid4(), at(31, 10), 600)  # back to back is fine
    assert week.booked_minutes == 120


def test_a_week_refuses_a_booking_beyond_the_capacity() -> None:
    week = StaffWeek(staff_id="anna", week=WEEK)
    week.reserve(uuid.uuid4(), at(31, 9, 90), 120)
    with pytest.raises(OverCapacity, match="30 minutes left"):
        week.reserve(uuid.uuid4(), at(31, 13), 120)


def test_reserving_the_same_meeting_again_changes_nothing_and_releasing_frees_the_time() -> None:
    week = StaffWeek(staff_id="anna", week=WEEK)
    meeting_id = uuid.uuid4()
    week.reserve(meeting_id, at(31, 9), 600)
    week.reserve(meeting_id, at(31, 9), 600)
    with pytest.raises(Conflict):
        week.reserve(meeting_id, at(31, 11), 600)
    week.release(meeting_id)
    week.reserve(uuid.uuid4(), at(31, 9), 600)
    assert len(week.bookings) == 1


def test_a_reservation_belongs_to_its_own_week_and_day() -> None:
    week = StaffWeek(staff_id="anna", week=WEEK)
    with pytest.raises(ValueError):
        week.reserve(uuid.uuid4(), at(29, 9), 600)  # the Sunday before
    with pytest.raises(ValueError):
        week.reserve(uuid.uuid4(), at(31, 23, 120), 600)  # into the next day


# --- a meeting ----------------------------------------------------------------------------------


def meeting() -> Meeting:
    start = datetime(2026, 3, 31, 9, tzinfo=STOCKHOLM)
    return Meeting(
        meeting_id=uuid.uuid4(), case_id=uuid.uuid4(), programme="counselling", kind="counselling",
        format="couple", provider="leanlink", staff=["anna"], starts_at=start,
        ends_at=start + timedelta(hours=1), first_contact=True, booked_at=RECEIVED,
    )  # fmt: skip


def test_moving_a_meeting_keeps_every_earlier_time() -> None:
    m = meeting()
    first = m.starts_at
    m.reschedule(
        first + timedelta(days=1), m.ends_at + timedelta(days=1), ["anna"], "family", "work", NOW
    )
    m.reschedule(
        first + timedelta(days=2), m.ends_at + timedelta(days=1), ["bo"], "provider", "ill", NOW
    )
    assert [h["starts_at"] for h in m.history] == [first, first + timedelta(days=1)]
    assert [h["moved_by"] for h in m.history] == ["family", "provider"]
    assert m.staff == ["bo"] and m.starts_at == first + timedelta(days=2)


@pytest.mark.parametrize("end", ["cancel", "miss", "hold"])
def test_a_meeting_that_ended_cannot_end_again(end: str) -> None:
    m = meeting()
    if end == "cancel":
        m.cancel("family", "ill", NOW)
    elif end == "miss":
        m.miss(NOW)
    else:
        m.hold(m.starts_at, m.ends_at, 2, 1, ["anna"], NOW)
    with pytest.raises(MeetingClosed):
        m.cancel("provider", "again", NOW)
    with pytest.raises(MeetingClosed):
        m.hold(m.starts_at, m.ends_at, 2, 1, ["anna"], NOW)


# --- the roster and the settings ------------------------------------------------------------------


def record(**changes: object) -> dict[str, object]:
    return {
        "staff_id": "anna", "provider": "leanlink", "programmes": ["counselling"],
        "competences": [], "weekly_capacity_minutes": 1200, "evenings": False,
        "weekends": False, "absences": [], **changes,
    }  # fmt: skip


def test_the_roster_accepts_the_same_record_twice_but_not_a_second_one() -> None:
    roster = Roster()
    assert roster.register(record())
    assert not roster.register(record())
    with pytest.raises(StaffAlreadyRegistered):
        roster.register(record(weekly_capacity_minutes=600))
    assert roster.change(record(weekly_capacity_minutes=600))
    assert not roster.change(record(weekly_capacity_minutes=600))
    with pytest.raises(UnknownStaff):
        roster.change(record(staff_id="nobody"))
    assert [m.weekly_capacity for m in roster.members()] == [600]


def test_the_policy_refuses_settings_that_make_no_sense() -> None:
    with pytest.raises(ValueError):
        SchedulingPolicy(providers=("leanlink", "leanlink"))
    with pytest.raises(ValueError):
        SchedulingPolicy(wait_window_days=0)
    with pytest.raises(ValueError):
        WorkingTime(day=(17 * 60, 8 * 60))
    with pytest.raises(ValueError):
        WorkingTime(step_minutes=7)


def test_the_named_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOTS_SCHEDULING_OTHER_PROVIDER", "familjeradgivning_ab")
    monkeypatch.setenv("LOTS_SCHEDULING_WAIT_WINDOW_DAYS", "42")
    monkeypatch.setenv("LOTS_SCHEDULING_NOTICE_HOURS", "4")
    policy = SchedulingSettings().policy(CalendarPolicy(de_facto_days_off=False))
    assert policy.providers == ("leanlink", "familjeradgivning_ab")
    assert (policy.wait_window_days, policy.notice) == (42, timedelta(hours=4))
    assert policy.working_time.calendar.de_facto_days_off is False
    monkeypatch.setenv("LOTS_SCHEDULING_OTHER_PROVIDER", "Leanlink AB")
    with pytest.raises(ValueError, match="other_provider"):
        SchedulingSettings()


@pytest.mark.parametrize(("priority", "acute"), [(1, True), (2, False), (3, False)])
def test_a_case_queued_before_the_urgency_was_kept_is_acute_when_its_priority_was_1(
    priority: int, acute: bool
) -> None:
    """Before priorities followed each programme's order, intake gave 1 to acute cases only:
    a stored Queued event without ``urgency`` still says whether the case is acute."""
    app = Scheduling(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    case = WaitingCase(
        case_id=uuid.uuid4(), programme="network", priority=priority, received_at=RECEIVED,
        first_contact_due=DUE, causation_id=None, urgency="normal",
    )  # fmt: skip
    stored = app.mapper.to_stored_event(case.collect_events()[0])
    state = json.loads(stored.state)
    del state["urgency"]
    old = dataclasses.replace(stored, state=json.dumps(state).encode())
    replayed = app.mapper.to_domain_event(old).mutate(None)
    assert isinstance(replayed, WaitingCase) and replayed.acute is acute
    assert WaitingCase(
        case_id=uuid.uuid4(), programme="network", priority=1, received_at=RECEIVED,
        first_contact_due=DUE, causation_id=None, urgency="normal",
    ).acute is False  # fmt: skip
