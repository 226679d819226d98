"""A realistic month on the running system, driven as the people around it would drive it.

Used by ``lots demo``. Phase one lives through the first day of the month (the services' clock
is simulated): Leanlink records its roster, municipal systems send referrals with plain
``XADD``, staff acknowledge them and book first contacts and second conversations. Phase two
starts after the month has ended: staff record the meetings held (some longer than booked, so
that the next meeting of the same staff started late; one cancelled by the family), billing
logs the sessions, the month is closed, replayed from the log, exported and recomputed offline.
Every step goes through the services' public interfaces.
"""

from __future__ import annotations

import random
import time as time_module
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import httpx

from infra.auth import Role
from infra.calendar import STOCKHOLM, is_business_day, month_of
from infra.months import first_day
from lots.supervisor import Supervisor
from services.scheduling.held import when_free

ROSTER: list[dict[str, Any]] = [
    {"staff_id": "anna", "provider": "leanlink", "programmes": ["counselling"],
     "competences": ["violence_in_close_relationships", "childrens_needs"],
     "weekly_capacity_hours": 30, "evenings": True},
    {"staff_id": "bertil", "provider": "leanlink", "programmes": ["counselling"],
     "competences": ["sexology", "lgbtq"], "weekly_capacity_hours": 30},
    {"staff_id": "cecilia", "provider": "other_provider", "programmes": ["counselling"],
     "competences": ["childrens_needs", "disability_adapted"], "weekly_capacity_hours": 25},
    {"staff_id": "david", "provider": "leanlink", "programmes": ["network", "coordinated"],
     "competences": ["network_work", "sip", "childrens_needs"], "weekly_capacity_hours": 35},
    {"staff_id": "eva", "provider": "leanlink", "programmes": ["network"],
     "competences": ["network_work"], "weekly_capacity_hours": 35},
    {"staff_id": "fatima", "provider": "leanlink", "programmes": ["coordinated", "network"],
     "competences": ["sip", "network_work"], "weekly_capacity_hours": 35},
    {"staff_id": "gustav", "provider": "leanlink", "programmes": ["field"], "competences": [],
     "weekly_capacity_hours": 40, "evenings": True, "weekends": True},
]  # fmt: skip
#: Field work's fee per polar and night walk (öre), by ages and from years in the activity:
#: the seed gives no figures, so the demo records a table of its own (docs/fieldwork.md).
DEMO_POLARE_RATES = [
    {"age_from": 13, "age_to": 15, "years_from": 1, "ore_per_walk": 25_000},
    {"age_from": 13, "age_to": 15, "years_from": 2, "ore_per_walk": 27_500},
    {"age_from": 16, "age_to": 25, "years_from": 1, "ore_per_walk": 30_000},
    {"age_from": 16, "age_to": 25, "years_from": 2, "ore_per_walk": 33_000},
]


#: Network work and coordinated support together, 2.8 MSEK a year from 2018-09-01 (002).
JOINT_CONTRACT = "coordinated-network-2018"


def first_business_day(month: str) -> date:
    day = first_day(month)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def morning_of(day: date) -> datetime:
    return datetime.combine(day, time(7, 30), STOCKHOLM)


@dataclass
class Month:
    """What happened, for the summary."""

    month: str
    acknowledged: int = 0
    first_contacts: int = 0
    not_booked: dict[str, int] = field(default_factory=dict)
    second_conversations: int = 0
    booked: list[dict[str, Any]] = field(default_factory=list)
    held: int = 0
    #: Held meetings that started late because a longer meeting of their staff ran into them.
    started_late: int = 0
    #: Per staff member, when the last meeting they held ended.
    free_from: dict[str, datetime] = field(default_factory=dict)
    cancelled: int = 0
    cancelled_ids: set[str] = field(default_factory=set)
    held_ids: set[str] = field(default_factory=set)
    settlement: dict[str, Any] = field(default_factory=dict)
    replay_matches: bool = False
    field_work: dict[str, Any] = field(default_factory=dict)


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json()


def book(system: Supervisor, case_ids: list[UUID], record: Month) -> None:
    """Phase one: roster, acknowledgements, first contacts, second conversations."""
    intake = system.client("intake", Role.STAFF, timeout=60)
    scheduling = system.client("scheduling", Role.STAFF, timeout=120)
    billing = system.client("billing", Role.STAFF, timeout=60)
    # The administration extended network work and coordinated support twice (2021, 2024):
    # each extension is a recorded decision with its reference, as in the contract (002).
    for n, year in enumerate((2021, 2024), start=1):
        tariffs = _check(billing.get("/tariffs"))
        done = sum(1 for e in tariffs.get("entries", []) if e.get("kind") == "extension")
        if done < n:
            _check(billing.post("/tariffs/extensions", json={
                "contract": JOINT_CONTRACT, "reference": f"SON {year}-forlangning",
                "recorded_by": "administration",
            }))  # fmt: skip
    billing.close()
    for staff in ROSTER:
        response = scheduling.post("/staff", json=staff)
        if response.status_code != 409:  # recorded by an earlier run
            _check(response)
    for case_id in case_ids[2:]:  # two are left unacknowledged: they show as breaches
        _check(intake.post(f"/cases/{case_id}/acknowledgement", json={"by": "reception"}))
        record.acknowledged += 1
    run = _check(scheduling.post("/bookings/first-contacts", json={}))
    record.first_contacts = len(run["booked"])
    for missed in run["not_booked"]:
        record.not_booked[missed["reason"]] = record.not_booked.get(missed["reason"], 0) + 1
    record.booked = list(run["booked"])
    for meeting in run["booked"]:
        if meeting["programme"] != "counselling":
            continue
        after = datetime.fromisoformat(meeting["ends_at"]) + timedelta(days=7)
        second = scheduling.post("/meetings", json={
            "case_id": meeting["case_id"], "kind": "counselling",
            "format": meeting["format"], "minutes": 60, "not_before": after.isoformat(),
        })  # fmt: skip
        if second.status_code < 400:
            record.booked.append(second.json())
            record.second_conversations += 1
    if record.booked:  # a family calls off its first meeting in advance
        first = record.booked[0]
        cancel = {"cancelled_by": "family", "reason": "illness"}
        _check(scheduling.post(f"/meetings/{first['meeting_id']}/cancel", json=cancel))
        record.cancelled += 1
        record.cancelled_ids.add(first["meeting_id"])
    intake.close()
    scheduling.close()


def hold(system: Supervisor, record: Month, until: datetime) -> None:
    """Record the month's meetings that ended before ``until`` as held, as staff do weekly
    (one meeting was cancelled by the family; some ran longer or shorter than booked).

    A staff member holds one meeting at a time: a meeting that a longer one ran into started
    late, when its staff were free, and is recorded so (docs/scheduling.md, "Outcomes")."""
    scheduling = system.client("scheduling", Role.STAFF, timeout=60)
    for meeting in sorted(record.booked, key=lambda m: m["starts_at"]):
        booked = datetime.fromisoformat(meeting["starts_at"])
        if month_of(booked) != record.month:
            continue  # booked beyond the month: not part of this settlement
        ended = datetime.fromisoformat(meeting["ends_at"])
        if meeting["meeting_id"] in record.cancelled_ids | record.held_ids or ended > until:
            continue
        rng = random.Random(meeting["meeting_id"])  # the same story on every run
        minutes = int((ended - booked).seconds // 60) + rng.choice([0, 0, 0, 10, 20, -15])
        starts = when_free(booked, meeting["staff"], record.free_from)
        adults = 2 if meeting["format"] == "couple" else 1
        _check(scheduling.post(f"/meetings/{meeting['meeting_id']}/held", json={
            "started_at": starts.isoformat(),
            "ended_at": (starts + timedelta(minutes=minutes)).isoformat(),
            "participants": adults + (1 if meeting["programme"] != "counselling" else 0),
        }))  # fmt: skip
        record.held += 1
        record.started_late += starts > booked
        record.held_ids.add(meeting["meeting_id"])
        for staff_id in meeting["staff"]:
            record.free_from[staff_id] = starts + timedelta(minutes=minutes)
    scheduling.close()


def close_and_replay(system: Supervisor, record: Month) -> None:
    """Close the month over HTTP and replay it from billing's log."""
    billing = system.client("billing", Role.STAFF, timeout=120)
    record.settlement = _check(billing.post(f"/settlements/{record.month}/close", json={}))
    replayed = _check(billing.get(f"/settlements/{record.month}/replay"))
    record.replay_matches = bool(replayed["matches"])
    billing.close()


def field_work(system: Supervisor, record: Month, polare: list[dict[str, Any]]) -> None:
    """After the month: the polare enrolled, a rate table, the month's Friday night walks and
    an area deployment; then the month's polare fees as billing reports them."""
    intake = system.client("intake", Role.STAFF, timeout=60)
    scheduling = system.client("scheduling", Role.STAFF, timeout=60)
    billing = system.client("billing", Role.STAFF, timeout=60)
    first = first_day(record.month)
    refs = [
        _check(intake.post("/polare", json=youth | {
            "enrolled_on": first.isoformat(), "recorded_by": "gustav"}))["polar_ref"]
        for youth in polare
    ]  # fmt: skip
    start = date(first.year if first.month >= 7 else first.year - 1, 7, 1)
    rates = billing.post("/polare/rates", json={
        "effective_from": start.isoformat(), "rates": DEMO_POLARE_RATES,
        "reference": "demo: arvode polare", "table_id": f"demo-{start}",
    })  # fmt: skip
    if rates.status_code != 409:  # recorded by an earlier run
        _check(rates)
    fridays = [first + timedelta(days=d) for d in range(31)
               if (first + timedelta(days=d)).month == first.month
               and (first + timedelta(days=d)).weekday() == 4]  # fmt: skip
    met = talked = 0
    for n, day in enumerate(fridays):
        starts = datetime.combine(day, time(18, 0), STOCKHOLM)
        rng = random.Random(f"{record.month}/{n}")
        walk = {"area": ["Berga", "Skäggetorp", "Ryd"][n % 3], "staff": ["gustav"],
                "started_at": starts.isoformat(),
                "ended_at": (starts + timedelta(hours=4)).isoformat(),
                "polare": refs[n % 2 :: 1][:3], "youths_met": rng.randint(15, 40),
                "youths_talked_with": rng.randint(2, 8), "reported_by": "gustav"}  # fmt: skip
        done = _check(scheduling.post("/night-walks", json=walk))
        met += done["youths_met"]
        talked += done["youths_talked_with"]
    monday = next(first + timedelta(days=d) for d in range(7, 14)
                  if (first + timedelta(days=d)).weekday() == 0)  # fmt: skip
    _check(scheduling.post("/area-deployments", json={
        "area": "Skäggetorp", "reason": "oro i området", "first_day": monday.isoformat(),
        "weeks": 4, "recorded_by": "enhetschef",
        "consultation": {"consulted_with": "omsorgskontoret",
                         "consulted_on": (monday - timedelta(days=3)).isoformat()},
    }))  # fmt: skip
    report: dict[str, Any] = {}
    for _ in range(600):  # the walks reach billing through intake's attestation
        report = _check(billing.get(f"/polare/fees/{record.month}"))
        if report["walks"] >= len(fridays):
            break
        time_module.sleep(0.05)
    record.field_work = {
        "polare": len(refs), "night_walks": len(fridays), "youths_met": met,
        "youths_talked_with": talked, "polare_fees_ore": report.get("fees_ore", 0),
        "area_deployments": 1,
    }  # fmt: skip
    for client in (intake, scheduling, billing):
        client.close()
