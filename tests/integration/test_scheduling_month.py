"""A month of referrals with a realistic roster, run day by day under a controlled clock.

Four weeks of referrals from 16 March 2026 (Easter falls inside): two counselling couples and
one network family every working day, a coordinated-support family twice a week. The roster is
Leanlink's three counsellors, the other provider's two, two network workers and the team's one
SIP coordinator, who is away from 30 March to 24 April. Every case is offered its first contact
by its due date where the roster allows; exactly the coordinated cases that arrive while the
coordinator is away are overdue, each announced once; nobody is double-booked; nothing falls
on a holiday; counselling is split between the providers by capacity; MeetingHeld entries are
plain contract entries.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from events.codec import decode, encode
from events.scheduling import MeetingHeld
from infra.calendar import STOCKHOLM, is_business_day, local_date
from infra.settings import Settings
from services.scheduling.application import Scheduling
from services.scheduling.booking import MeetingRequest
from services.scheduling.domain_meeting import Meeting
from services.scheduling.policy import COMPETENCES
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

FIRST, LAST_REFERRAL, LAST = date(2026, 3, 16), date(2026, 4, 10), date(2026, 5, 8)
COORDINATED_DAYS = [date(2026, 3, d) for d in (17, 20, 24, 27)] + [
    date(2026, 4, 1),
    date(2026, 4, 8),
]
AWAY = (date(2026, 3, 30), date(2026, 4, 24))
SPECIAL = [
    "violence_in_close_relationships",
    "childrens_needs",
    "sexology",
    "lgbtq",
    "disability_adapted",
]


def roster(app: Scheduling) -> None:
    c = ("counselling",)
    app.register_staff(
        staff("anna", competences=("violence_in_close_relationships", "childrens_needs"), hours=16)
    )
    app.register_staff(staff("bertil", competences=("sexology", "lgbtq"), hours=16))
    app.register_staff(
        staff("cecilia", programmes=c, competences=("childrens_needs",), hours=16, evenings=True)
    )
    app.register_staff(
        staff("dana", "other_provider", competences=("disability_adapted",), hours=16)
    )
    app.register_staff(
        staff(
            "erik",
            "other_provider",
            competences=("violence_in_close_relationships",),
            hours=16,
            evenings=True,
        )
    )
    app.register_staff(
        staff("nils", programmes=("network",), competences=("network_work",), hours=25)
    )
    app.register_staff(
        staff(
            "nina",
            programmes=("network",),
            competences=("network_work", "childrens_needs"),
            hours=25,
        )
    )
    app.register_staff(
        staff(
            "sara",
            programmes=("coordinated", "network"),
            competences=("sip", "network_work"),
            hours=20,
            absences=(AWAY,),
        )
    )


def follow_up_conversations(app: Scheduling, first: Meeting) -> None:
    """Four more conversations of 90 minutes a week apart: about 7 hours a couple (003 §2.3)."""
    after = first.starts_at
    for _ in range(4):
        request = MeetingRequest(first.case_id, "counselling", not_before=after + timedelta(days=7))
        after = app.book_meeting(request).starts_at


def test_a_month_of_referrals_is_served_in_time_where_the_roster_allows(
    settings: Settings,
) -> None:
    rng = random.Random(2026)
    clock = Clock(local(2026, 3, 16, 8))
    app = scheduling(settings, clock)
    roster(app)
    cases: dict[object, tuple[str, date, list[str], bool]] = {}
    overdue: Counter[object] = Counter()
    reports: set[str] = set()
    day = FIRST
    while day <= LAST:
        clock.now = local(day.year, day.month, day.day, 0, 5)
        check = app.check_deadlines()
        overdue.update(check.overdue)
        reports.update(check.reports)
        clock.now = local(day.year, day.month, day.day, 9)
        if day <= LAST_REFERRAL and is_business_day(day):
            arriving = [referral(clock.now) for _ in range(2)] + [
                referral(clock.now, "network", basis=rng.choice(["service", "decision"]))
            ]
            if day in COORDINATED_DAYS:
                arriving.append(referral(clock.now, "coordinated"))
            if rng.random() < 0.2:
                arriving.append(referral(clock.now, urgency="acute", adults=1))
            deliver(app, *arriving)
            for message in arriving:
                needs = (
                    [rng.choice(SPECIAL)]
                    if message.programme == "counselling" and rng.random() < 0.3
                    else []
                )
                evenings = message.programme == "counselling" and rng.random() < 0.2
                if needs or evenings:
                    app.record_wishes(message.case_id, needs, evenings, False)
                cases[message.case_id] = (
                    message.programme,
                    message.first_contact_due,
                    needs,
                    evenings,
                )
        clock.now = local(day.year, day.month, day.day, 15)
        app.book_first_contacts()
        clock.now = local(day.year, day.month, day.day, 21)
        for m in all_meetings(app):
            if m.status == "booked" and m.ends_at <= clock.now:
                app.record_held(m.id, started_at=m.starts_at, ended_at=m.ends_at, participants=2)
                if m.first_contact and m.programme == "network":
                    app.book_network_plan(m.case_id)
                if m.first_contact and m.programme == "counselling":
                    follow_up_conversations(app, m)
        day += timedelta(days=1)

    meetings = all_meetings(app)
    first_contacts = {
        m.case_id: m
        for m in sorted(meetings, key=lambda m: m.booked_at, reverse=True)
        if m.first_contact
    }
    assert set(first_contacts) == set(cases)  # every case got a first contact in the end

    # Overdue: exactly the coordinated cases that arrived once the coordinator could not see
    # them before their due date, each announced once.
    expected = {
        cid
        for cid, (p, due, _, _) in cases.items()
        if p == "coordinated" and due > AWAY[0] + timedelta(days=10)
    }
    assert len(expected) == 3 and set(overdue) == expected and set(overdue.values()) == {1}
    _, outgoing = app.outbox(0, 100_000)
    announced = [
        o.message.case_id for o in outgoing if o.message.type_name == "FirstContactOverdue"
    ]
    assert sorted(announced) == sorted(expected)
    for case_id, (_, due, _, _) in cases.items():
        if case_id not in expected:
            assert local_date(first_contacts[case_id].starts_at) <= due, case_id

    # Nobody double-booked; nothing on a holiday or outside the time staff and family agreed to.
    assert overlapping(meetings) == []
    evening_staff = {"cecilia", "erik"}
    for m in meetings:
        begins, ends = m.starts_at.astimezone(STOCKHOLM), m.ends_at.astimezone(STOCKHOLM)
        assert is_business_day(begins.date()) and begins.hour >= 8
        wished = cases[m.case_id][3] and set(m.staff) <= evening_staff
        assert (ends.hour, ends.minute) <= ((20, 0) if wished else (17, 0)), m
    assert not any(
        local_date(m.starts_at) in (date(2026, 4, 3), date(2026, 4, 6)) for m in meetings
    )
    assert not any(
        AWAY[0] <= local_date(m.starts_at) <= AWAY[1] for m in meetings if "sara" in m.staff
    )

    # Competences matched; counselling spread between the providers by their capacity (2 of 5).
    skills = {r["staff_id"]: set(r["competences"]) for r in app.roster()}
    for case_id, (_, _, needs, _) in cases.items():
        assert set(needs) <= skills[first_contacts[case_id].staff[0]] <= COMPETENCES
    counselling = [m for m in first_contacts.values() if m.programme == "counselling"]
    share = Counter(m.provider for m in counselling)["other_provider"] / len(counselling)
    assert 0.3 <= share <= 0.5, share

    # Network families got their plan (about 13 hours), couples about 7 hours of conversations;
    # held meetings are plain contract entries.
    hours: Counter[object] = Counter()
    for m in meetings:
        hours[m.case_id] += (m.ends_at - m.starts_at).total_seconds() / 3600
    assert {hours[cid] for cid, (p, *_) in cases.items() if p == "network"} == {13.0}
    assert {hours[cid] for cid, (p, *_) in cases.items() if p == "counselling"} == {7.0}
    held = [o for o in outgoing if o.message.type_name == "MeetingHeld"]
    assert len(held) == sum(1 for m in meetings if m.status == "held")
    for out in held:
        fields = encode(out.message, id=out.id, correlation_id=out.correlation_id)
        assert set(fields) == {"type", "version", "id", "data", "correlation_id"}
        assert decode(fields, expect=MeetingHeld).message == out.message
    assert "counselling" not in reports and "network" not in reports
