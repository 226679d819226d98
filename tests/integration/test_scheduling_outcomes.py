"""What becomes of booked meetings, through the application on a real SQLite store: moves
that keep their history, cancellations, no-shows, meetings held, closed cases, and the public
entries they make."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from events.codec import decode, encode
from events.intake import CaseClosed
from infra.settings import Settings
from services.scheduling.application import Scheduling
from services.scheduling.booking import MeetingRequest
from services.scheduling.errors import (
    Conflict,
    Invalid,
    MeetingClosed,
    WrongStaff,
)
from tests.integration.test_scheduling_support import (
    Clock,
    deliver,
    local,
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


def test_moving_a_meeting_keeps_its_history_and_frees_the_old_time(app: Scheduling) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    first = app.book_meeting(
        MeetingRequest(
            message.case_id,
            "counselling",
            minutes=60,
            staff=("anna",),
            starts_at=local(2026, 3, 3, 9),
        )
    )
    moved = app.reschedule(first.id, "family", "work shift", starts_at=local(2026, 3, 4, 13))
    assert moved.starts_at == local(2026, 3, 4, 13) and moved.history[0]["starts_at"] == local(
        2026, 3, 3, 9
    )
    assert moved.history[0]["moved_by"] == "family"
    other = referral(MONDAY)
    deliver(app, other)
    taken_back = app.book_meeting(
        MeetingRequest(
            other.case_id,
            "counselling",
            minutes=60,
            staff=("anna",),
            starts_at=local(2026, 3, 3, 9),
        )
    )
    assert taken_back.starts_at == local(2026, 3, 3, 9)
    earliest = app.reschedule(first.id, "provider", "counsellor ill")
    assert earliest.starts_at >= MONDAY + timedelta(hours=24) and len(earliest.history) == 2


def test_cancelling_frees_the_time_and_puts_the_case_back_for_a_first_contact(
    app: Scheduling,
) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    (first,) = app.book_first_contacts().booked
    cancelled = app.cancel(first.id, "family", "ill")
    assert cancelled.status == "cancelled" and cancelled.outcome["cancelled_by"] == "family"
    assert app.staff_meetings(first.staff[0], date(2026, 3, 2), date(2026, 3, 20)) == []
    (second,) = app.book_first_contacts().booked
    assert second.case_id == message.case_id and second.id != first.id
    assert second.provider == first.provider  # the case stays with its provider


def test_a_meeting_is_missed_or_held_only_once_it_has_begun(app: Scheduling, clock: Clock) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    (first,) = app.book_first_contacts().booked
    with pytest.raises(Conflict, match="only once it has begun"):
        app.record_no_show(first.id)
    with pytest.raises(Invalid, match="only once it has ended"):
        app.record_held(
            first.id, started_at=first.starts_at, ended_at=first.ends_at, participants=2
        )
    clock.now = first.starts_at + timedelta(minutes=20)
    with pytest.raises(Conflict, match="has begun"):
        app.cancel(first.id, "family", "late")
    missed = app.record_no_show(first.id)
    assert missed.status == "no_show"
    with pytest.raises(MeetingClosed):
        app.record_held(
            first.id, started_at=first.starts_at, ended_at=first.ends_at, participants=2
        )
    assert [r.case.id for r in app.queue()] == [message.case_id]  # still waiting


def test_a_held_meeting_is_recorded_with_its_actual_times_and_fees_only_in_counselling(
    app: Scheduling, clock: Clock
) -> None:
    couple, network = referral(MONDAY), referral(MONDAY, "network")
    deliver(app, couple, network)
    run = {m.case_id: m for m in app.book_first_contacts().booked}
    clock.now = local(2026, 3, 20, 18)
    talk, coordination = run[couple.case_id], run[network.case_id]
    with pytest.raises(Invalid, match="reschedule it first"):
        app.record_held(
            talk.id,
            started_at=talk.starts_at + timedelta(days=1),
            ended_at=talk.ends_at + timedelta(days=1),
            participants=2,
        )
    with pytest.raises(Invalid, match="counselling only"):
        app.record_held(
            coordination.id,
            started_at=coordination.starts_at,
            ended_at=coordination.ends_at,
            participants=3,
            client_visits=1,
        )
    late = talk.starts_at + timedelta(minutes=10)
    held = app.record_held(
        talk.id, started_at=late, ended_at=late + timedelta(minutes=80), participants=2
    )
    assert held.outcome["started_at"] == late and held.outcome["client_visits"] == 1
    same = app.record_held(
        talk.id, started_at=late, ended_at=late + timedelta(minutes=80), participants=2
    )
    assert same.version == held.version  # the same record again changes nothing
    with pytest.raises(MeetingClosed):
        app.record_held(
            talk.id, started_at=late, ended_at=late + timedelta(minutes=60), participants=2
        )
    assert (
        app.record_held(
            coordination.id,
            started_at=coordination.starts_at,
            ended_at=coordination.ends_at,
            participants=3,
        ).outcome["client_visits"]
        == 0
    )


def test_closing_a_case_cancels_its_meetings_that_have_not_begun(
    app: Scheduling, clock: Clock
) -> None:
    message = referral(MONDAY, "network")
    deliver(app, message)
    (first,) = app.book_first_contacts().booked
    plan = app.book_network_plan(message.case_id)
    clock.now = first.ends_at + timedelta(minutes=5)
    app.record_held(first.id, started_at=first.starts_at, ended_at=first.ends_at, participants=2)
    closed_at = plan[1].starts_at + timedelta(days=1)
    deliver(app, CaseClosed(case_id=message.case_id, outcome="moved", closed_at=closed_at))
    statuses = [app.meeting(m.id).status for m in plan]
    assert statuses == ["booked", "booked", "cancelled", "cancelled", "cancelled", "cancelled"]
    assert app.meeting(plan[2].id).outcome["cancelled_by"] == "administration"


def test_a_case_closed_before_its_referral_arrived_never_enters_the_queue(app: Scheduling) -> None:
    message = referral(MONDAY)
    deliver(
        app, CaseClosed(case_id=message.case_id, outcome="referred_elsewhere", closed_at=MONDAY)
    )
    deliver(app, message)
    assert app.queue() == [] and app.subject(message.case_id).closed_at == MONDAY  # type: ignore[union-attr]


def test_public_events_are_plain_entries_of_the_contract(app: Scheduling, clock: Clock) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    (first,) = app.book_first_contacts().booked
    app.reschedule(first.id, "family", "school meeting")
    moved = app.meeting(first.id)
    clock.now = moved.ends_at + timedelta(hours=1)
    app.record_held(moved.id, started_at=moved.starts_at, ended_at=moved.ends_at, participants=2)
    _, outgoing = app.outbox(0, 100)
    assert [o.message.type_name for o in outgoing] == [
        "MeetingScheduled",
        "MeetingRescheduled",
        "MeetingHeld",
    ]
    fields = encode(
        outgoing[-1].message, id=outgoing[-1].id, correlation_id=outgoing[-1].correlation_id
    )
    assert set(fields) == {"type", "version", "id", "data", "correlation_id"}
    held = decode({k.encode(): v.encode() for k, v in fields.items()}).message
    assert (held.meeting_id, held.case_id, held.kind, held.format) == (
        moved.id,
        message.case_id,
        "counselling",
        "couple",
    )
    assert (held.started_at, held.participants, held.client_visits) == (moved.starts_at, 2, 1)
    assert fields["correlation_id"] == str(message.case_id)
    assert app.outbox(0, 100)[1][-1].id == outgoing[-1].id  # the same id every time it is sent
    assert uuid.UUID(fields["id"]) == outgoing[-1].id


def test_who_moves_or_cancels_and_who_attended_are_checked_before_anything_is_stored(
    app: Scheduling, clock: Clock
) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    app.record_wishes(message.case_id, ["violence_in_close_relationships"], False, False)
    (first,) = app.book_first_contacts().booked
    with pytest.raises(Invalid, match="family, provider, administration"):
        app.cancel(first.id, "neighbour", "noise")
    with pytest.raises(Invalid, match="reason"):
        app.reschedule(first.id, "family", " ")
    app.register_staff(staff("vikarie"))  # a substitute without the case's special competence
    clock.now = first.ends_at
    with pytest.raises(Invalid, match="leanlink's"):
        app.record_held(
            first.id,
            started_at=first.starts_at,
            ended_at=first.ends_at,
            participants=2,
            staff=("olof",),
        )
    with pytest.raises(Invalid, match="participants"):
        app.record_held(
            first.id, started_at=first.starts_at, ended_at=first.ends_at, participants=0
        )
    held = app.record_held(
        first.id,
        started_at=first.starts_at,
        ended_at=first.ends_at,
        participants=2,
        staff=("vikarie",),
    )
    assert held.outcome["staff"] == ["vikarie"]
    _, outgoing = app.outbox(0, 100)
    assert [o.message.type_name for o in outgoing] == ["MeetingScheduled", "MeetingHeld"]


def test_a_first_contact_offered_again_may_go_to_the_other_provider_and_later_meetings_follow(
    app: Scheduling,
) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    first = app.book_meeting(MeetingRequest(message.case_id, "counselling", staff=("anna",)))
    with pytest.raises(WrongStaff, match="the case is with leanlink"):
        app.book_meeting(MeetingRequest(message.case_id, "counselling", staff=("olof",)))
    app.cancel(first.id, "provider", "counsellor on leave")
    again = app.book_meeting(MeetingRequest(message.case_id, "counselling", staff=("olof",)))
    assert again.first_contact and again.provider == "other_provider"
    later = app.book_meeting(MeetingRequest(message.case_id, "counselling"))
    assert later.staff == ["olof"] and not later.first_contact


def test_a_cases_audit_history_holds_its_own_events_and_its_meetings(
    app: Scheduling, clock: Clock
) -> None:
    message = referral(MONDAY)
    deliver(app, message)
    (first,) = app.book_first_contacts().booked
    app.reschedule(first.id, "family", "school meeting")
    history = [type(e).__qualname__ for e in app.case_events(message.case_id)]
    assert history[0] == "WaitingCase.Queued"  # within one transaction the order is not meant
    assert sorted(history) == [
        "Meeting.Booked",
        "Meeting.Rescheduled",
        "WaitingCase.MeetingBooked",
        "WaitingCase.MeetingMoved",
        "WaitingCase.Queued",
    ]
