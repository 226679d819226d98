"""The fair peer's run: the pipeline's month, timed the same way (:mod:`bench.pipeline`).

The peer's three services (:mod:`bench.fair_peer`) run as three processes on SQLite files in
the benchmark's directory and the same Redis. The same referrals as the pipeline's are written
with pipelined ``XADD`` and the same two segments are timed: *referrals → cases* until intake has
answered every referral and every group has read and acknowledged everything, and *held
meetings → sessions* from the first ``MeetingHeld`` on ``scheduling.events`` to the N-th session
on ``billing.events`` (both from the entries' ids). Between them, untimed, the staff's actions
are stored in the peer's own stores in units of 250, as the pipeline's are; the meetings held
are then published with pipelined ``XADD`` as a relay would, after their save. Afterwards the
effects are checked as the pipeline's are.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import redis

from bench.fair_peer import fields, store
from bench.fair_peer_domain import Case, Meeting, StaffWeek, WaitingCase, aid
from bench.pipeline import (
    CHUNK,
    MEETING_MINUTES,
    SESSION_KINDS,
    SOURCE,
    Calendar,
    Tail,
    enough,
    forget,
    last_id,
    referral,
    spent,
    wait,
    xadd_all,
)
from events.scheduling import MeetingHeld
from infra.calendar import STOCKHOLM
from infra.monitor import drained
from infra.topology import BILLING_EVENTS, INTAKE_EVENTS, REFERRALS, SCHEDULING_EVENTS, groups
from services.intake.domain import referral_key

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Peers:
    """The peer's service processes."""

    redis_url: str
    prefix: str
    var: Path
    log_file: Path
    procs: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    def start(self, services: Sequence[str]) -> None:
        with self.log_file.open("a") as log:
            for service in services:
                self.procs[service] = subprocess.Popen(
                    [sys.executable, "-m", "bench.fair_peer", service, self.redis_url,
                     self.prefix, str(self.var)],
                    cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
                )  # fmt: skip
        for service in services:
            out = self.procs[service].stdout
            assert out is not None
            if out.readline().strip() != "ready":
                raise RuntimeError(f"the peer's {service} did not start; see {self.log_file}")

    def cpu_seconds(self) -> dict[str, float]:
        tick = os.sysconf("SC_CLK_TCK")
        used = {}
        for service, child in self.procs.items():
            stat = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[service] = (int(stat[11]) + int(stat[12])) / tick
        return used

    def stop(self) -> None:
        for child in self.procs.values():
            if child.poll() is None:
                child.terminate()
        for child in self.procs.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.procs.clear()


def acknowledge(var: Path, case_ids: Sequence[UUID]) -> None:
    app = store("intake", var)
    try:
        for start in range(0, len(case_ids), CHUNK):
            cases: list[Case] = [app.repository.get(c) for c in case_ids[start : start + CHUNK]]
            for case in cases:
                case.acknowledge("reception", datetime.now(STOCKHOLM))
            app.save(*cases)
    finally:
        app.close()


def book_and_hold(var: Path, calendar: Calendar, cases: Sequence[UUID], seed: int) -> list[Any]:
    """Book every first contact, then record it held (some longer than booked) and judged
    against its deadline; return the ``MeetingHeld`` entries to publish."""
    rng = random.Random(seed)
    app = store("scheduling", var)
    plan = list(calendar.plan(cases))
    weeks: dict[UUID, StaffWeek] = {}
    published = []
    try:
        for start in range(0, len(plan), CHUNK):
            touched: dict[UUID, Any] = {}
            for case_id, staff, at in plan[start : start + CHUNK]:
                meeting_id = uuid.uuid5(case_id, "bench-first-contact")
                provider = "leanlink" if int(staff.rsplit("-", 1)[1]) % 3 else "other_provider"
                booked = {"case_id": str(case_id), "staff": [staff], "provider": provider,
                          "starts_at": at.isoformat(), "minutes": MEETING_MINUTES,
                          "kind": "counselling", "format": "couple"}  # fmt: skip
                meeting = Meeting(meeting_id, booked)
                waiting: WaitingCase = app.repository.get(WaitingCase.create_id(case_id))
                week_key = f"{at.isocalendar().year}-W{at.isocalendar().week:02d}"
                week_id = StaffWeek.create_id(staff, week_key)
                week = weeks.get(week_id) or StaffWeek(staff, week_key)
                weeks[week_id] = week
                ended = at + timedelta(minutes=MEETING_MINUTES + rng.choice((0, 0, 0, 15, 30)))
                waiting.book(str(meeting_id), at)
                week.reserve(str(meeting_id), at, MEETING_MINUTES)
                held = MeetingHeld(
                    meeting_id=meeting_id, case_id=case_id, programme="counselling",
                    kind="counselling", format="couple", provider=provider, staff=[staff],
                    started_at=at, ended_at=ended, participants=2, client_visits=1,
                )  # fmt: skip
                meeting.hold(held.model_dump(mode="json"))
                waiting.held(str(meeting_id), at, ended)
                week.note_held(str(meeting_id), at, MEETING_MINUTES)
                waiting.judge((calendar.opening + timedelta(days=14)).isoformat(), True, at)
                touched.update({meeting.id: meeting, waiting.id: waiting, week.id: week})
                published.append(fields(held, aid("held", meeting_id)))
            app.save(*touched.values())
    finally:
        app.close()
    return published


def open_run(redis_url: str, work: Path, name: str) -> tuple[str, str, Path, redis.Redis]:
    """A fair-peer run of its own: its id, its stream prefix (``bench-<name>-<id>.``) with every
    group made, its var directory under ``work``, and a client of ``redis_url``."""
    run = uuid.uuid4().hex[:8]
    prefix = f"bench-{name}-{run}."
    var = work / f"{name}-{run}"
    var.mkdir(parents=True)
    client = redis.Redis.from_url(redis_url)
    for stream, group in groups():
        client.xgroup_create(prefix + stream, group, id="0", mkstream=True)
    return run, prefix, var, client


def run_fair_peer(
    redis_url: str,
    count: int,
    work: Path,
    *,
    seed: int = 2026,
    timeout: float = 900.0,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Live through the pipeline's month with the fair peer; time the same two segments."""
    run, prefix, var, client = open_run(redis_url, work, "peer")
    calendar = Calendar.last_month()
    rng = random.Random(seed)
    entries = [referral(n, run, calendar.opening, rng) for n in range(count)]
    cases = [referral_key(SOURCE, json.loads(e["data"])["referral_id"]) for e in entries]
    peers = Peers(redis_url, prefix, var, var / "peer.log")
    try:
        peers.start(("intake", "scheduling", "billing"))
        echo(f"  fair peer: {count} referrals through intake → scheduling, billing")
        segment1, cpu1, answered = referrals_to_cases(client, peers, prefix, entries, timeout)
        echo(f"    segment 1 (referrals → cases): {segment1:.1f} s, {count / segment1:.0f}/s")

        began = time.monotonic()
        acknowledge(var, cases)
        held_entries = book_and_hold(var, calendar, cases, seed)
        staff_seconds = time.monotonic() - began

        segment2, cpu2, held, logged = held_to_sessions(client, peers, prefix, held_entries,
                                                        count, timeout)  # fmt: skip
        echo(f"    segment 2 (held → sessions): {segment2:.1f} s, {count / segment2:.0f}/s")
        wait(lambda: drained(client, prefix), timeout, "peer: everything consumed", every=0.2)
        left = int(client.xlen(prefix + REFERRALS))
        peers.stop()
        checks = verify(var, count, answered, held, logged, left)
        checks["cpu_seconds_segment1"] = cpu1
        checks["cpu_seconds_segment2"] = cpu2
    finally:
        peers.stop()
        forget(client, prefix)
        client.close()
    shutil.rmtree(var, ignore_errors=True)
    seconds = segment1 + segment2
    return {
        "referrals": count,
        "seconds": round(seconds, 2),
        "referrals_per_second": round(count / seconds, 1),
        "segment1_referrals_to_cases_seconds": round(segment1, 2),
        "segment1_per_second": round(count / segment1, 1),
        "segment2_held_to_sessions_seconds": round(segment2, 2),
        "segment2_per_second": round(count / segment2, 1),
        "staff_actions_seconds_untimed": round(staff_seconds, 1),
        "checks": checks,
    }


def referrals_to_cases(
    client: redis.Redis,
    peers: Peers,
    prefix: str,
    entries: Sequence[dict[str, str]],
    timeout: float,
) -> tuple[float, dict[str, float], Tail]:
    """Segment 1, as the pipeline's: the referrals written, until the peer has answered every
    one and every group is drained; its seconds, CPU per service and the answers. The peer's
    processes are stopped afterwards."""
    cpu = peers.cpu_seconds()
    started = time.time()
    xadd_all(client, prefix + REFERRALS, entries)
    answered = Tail(client, prefix + INTAKE_EVENTS, "ReferralReceived")
    count = len(entries)
    wait(lambda: client.xlen(prefix + INTAKE_EVENTS) >= count, timeout, "peer answers")
    wait(lambda: drained(client, prefix), timeout, "peer referrals to cases")
    segment1 = time.time() - started
    cpu1 = spent(cpu, peers.cpu_seconds())
    answered.poll()
    peers.stop()
    return segment1, cpu1, answered


def held_to_sessions(
    client: redis.Redis,
    peers: Peers,
    prefix: str,
    held_entries: Sequence[dict[str, str]],
    count: int,
    timeout: float,
) -> tuple[float, dict[str, float], Tail, Tail]:
    """Segment 2: the peer's consumers started, the meetings held written on
    ``scheduling.events``, until ``count`` sessions are; its seconds, CPU per service and the
    two tails."""
    peers.start(("intake", "billing"))
    cpu = peers.cpu_seconds()
    mark = last_id(client, prefix + SCHEDULING_EVENTS)
    xadd_all(client, prefix + SCHEDULING_EVENTS, held_entries)
    held = Tail(client, prefix + SCHEDULING_EVENTS, "MeetingHeld", after=mark)
    logged = Tail(client, prefix + BILLING_EVENTS, SESSION_KINDS)
    wait(enough(client, logged, count), timeout, "peer held meetings to sessions",
         every=0.1)  # fmt: skip
    held.poll()
    assert held.first_ms is not None and logged.last_ms is not None
    segment2 = (logged.last_ms - held.first_ms) / 1000
    return segment2, spent(cpu, peers.cpu_seconds()), held, logged


def verify(
    var: Path, count: int, answered: Tail, held: Tail, logged: Tail, left: int
) -> dict[str, Any]:
    """The peer's effects, as the pipeline's are checked: one of each per referral."""
    stored: dict[str, dict[str, int]] = {}
    for service in ("intake", "scheduling", "billing"):
        path = var / f"peer-{service}.sqlite"
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = connection.execute("SELECT topic, COUNT(*) FROM stored_events GROUP BY topic")
            stored[service] = {str(topic).split(":")[-1]: int(n) for topic, n in rows}
        finally:
            connection.close()
    sessions = stored["billing"].get("Session.Logged", 0)
    sessions += stored["billing"].get("Session.ReportedApart", 0)
    checks: dict[str, Any] = {
        "referrals_received": len(answered.ids),
        "meetings_held_published": len(held.ids),
        "sessions_logged_published": len(logged.ids),
        "sessions_in_billing_store": sessions,
        "referrals_left_on_redis": left,
        "entries_published_again": answered.count - len(answered.ids)
        + logged.count - len(logged.ids),
    }  # fmt: skip
    expected = {"referrals_received": count, "meetings_held_published": count,
                "sessions_logged_published": count, "sessions_in_billing_store": count,
                "referrals_left_on_redis": 0}  # fmt: skip
    checks["exactly_once"] = all(checks[k] == v for k, v in expected.items())
    if not checks["exactly_once"]:
        raise AssertionError(f"the fair peer's effects are wrong: {checks} (expected {expected})")
    checks["events_stored_per_referral"] = {
        s: round(sum(topics.values()) / count, 1) for s, topics in stored.items()
    }
    checks["events_stored"] = stored
    return checks
