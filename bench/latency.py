"""Latency a user feels (issue 18, item 3), with an open-loop load generator.

Two paths of the pipeline, each at a steady 50 per second and at 80 % of the rate its segment
reached in the throughput run (:mod:`bench.pipeline`):

* **referral → answer**: a referral written on ``intake.referrals`` with ``XADD`` (as a
  school's system does) until intake's answer, its ``ReferralReceived``, is on
  ``intake.events``;
* **held meeting → session**: a meeting recorded held over HTTP (``POST /meetings/{id}/held``,
  as staff do) until billing's ``SessionLogged`` (or ``SessionReportedApart``) for it is on
  ``billing.events`` (with, in the JSON, the HTTP responses' times and the part from the
  ``MeetingHeld`` scheduling published to the session).

Open loop: the generator sends on its schedule (the i-th at ``start + i / rate``) without
waiting for any answer, and every latency is measured from the *scheduled* send time, so a
generator that falls behind counts the delay instead of hiding it (no coordinated omission).
The end is the answer entry's id, i.e. the time Redis stored it (same machine, same clock; a
millisecond's resolution). Percentiles are nearest-rank over every sample (plain sorting).

The fair peer's referral → answer is measured the same way (its maximum from its own run).
Between the paths, untimed: the roster, and every case acknowledged and booked in bulk, as in
the throughput run (the simulated clock of the month's first business day, then the next's).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import httpx
import redis

from bench.pipeline import (
    MEETING_MINUTES,
    SESSION_KINDS,
    SOURCE,
    Calendar,
    Fleet,
    acknowledge,
    bench_settings,
    book,
    forget,
    last_id,
    record_roster,
    referral,
    wait,
)
from infra.auth import Role
from infra.dev_tokens import bearer_headers, client_token
from infra.monitor import drained
from infra.settings import Settings
from infra.topology import BILLING_EVENTS, INTAKE_EVENTS, REFERRALS, SCHEDULING_EVENTS
from services.intake.domain import referral_key

STEADY = 50.0
SHARE_OF_MAXIMUM = 0.8


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 and the maximum (nearest rank), in milliseconds."""
    ordered = sorted(samples_ms)

    def rank(q: float) -> float:
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 1)

    return {"samples": len(ordered), "p50_ms": rank(0.5), "p90_ms": rank(0.9),
            "p99_ms": rank(0.99), "max_ms": round(ordered[-1], 1)}  # fmt: skip


def answers(
    client: redis.Redis, stream: str, after: str, kinds: tuple[str, ...], key: str
) -> dict[str, int]:
    """``data[key]`` -> the entry's time (ms) for every entry of ``kinds`` after ``after``."""
    found: dict[str, int] = {}
    while True:
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            client.xrange(stream, min=f"({after}", count=5000),
        )
        if not entries:
            return found
        for entry_id, fields in entries:
            after = entry_id.decode()
            if fields.get(b"type", b"").decode() in kinds:
                value = str(json.loads(fields[b"data"])[key])
                found.setdefault(value, int(after.split("-", 1)[0]))


def measure(
    client: redis.Redis,
    stream: str,
    kinds: tuple[str, ...],
    key: str,
    sent: dict[str, float],
    after: str,
    timeout: float,
) -> dict[str, Any]:
    """Wait for an answer to every one of ``sent`` (key -> scheduled send time, s); their
    latencies' percentiles and the rate the answers came at."""
    found: dict[str, int] = {}

    def all_answered() -> bool:
        found.update(answers(client, stream, after, kinds, key))
        return all(k in found for k in sent)

    wait(all_answered, timeout, f"answers on {stream}", every=0.2)
    latencies = [found[k] - sent[k] * 1000 for k in sent]
    spread = (max(found[k] for k in sent) / 1000) - min(sent.values())
    rate = round(len(sent) / spread, 1) if spread > 0 else None
    return {**percentiles(latencies), "answered_per_second": rate}


def send_referrals(
    client: redis.Redis, stream: str, entries: Sequence[dict[str, str]], rate: float
) -> dict[str, float]:
    """XADD each referral at its scheduled time; referral_id -> scheduled time."""
    sent: dict[str, float] = {}
    start = time.time() + 0.05
    for n, fields in enumerate(entries):
        due = start + n / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        client.xadd(stream, fields)  # type: ignore[arg-type]
        sent[json.loads(fields["data"])["referral_id"]] = due
    return sent


async def send_held(
    base_url: str, headers: dict[str, str], meetings: Sequence[tuple[UUID, Any]], rate: float
) -> tuple[dict[str, float], list[float]]:
    """POST each meeting held at its scheduled time, not waiting for the responses; meeting
    id -> scheduled time, and every response's time (ms)."""
    sent: dict[str, float] = {}
    responded: list[float] = []
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    transport = httpx.AsyncHTTPTransport(limits=limits, retries=2)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120,
                                 transport=transport) as http:  # fmt: skip

        async def post(meeting_id: UUID, starts: Any, due: float) -> None:
            ends = starts + timedelta(minutes=MEETING_MINUTES)
            body = {"started_at": starts.isoformat(), "ended_at": ends.isoformat(),
                    "participants": 2}  # fmt: skip
            response = await http.post(f"/meetings/{meeting_id}/held", json=body)
            response.raise_for_status()
            responded.append((time.time() - due) * 1000)

        tasks = []
        start = time.time() + 0.05
        for n, (meeting_id, starts) in enumerate(meetings):
            due = start + n / rate
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[str(meeting_id)] = due
            tasks.append(asyncio.create_task(post(meeting_id, starts, due)))
        await asyncio.gather(*tasks)
    return sent, responded


def levels(
    maximum: float, seconds: float, cap: int, available: int | None = None
) -> list[tuple[str, float, int]]:
    """(name, rate, how many) for each load level: ``seconds`` of sending, at most ``cap``
    sends; scaled down to ``available`` if need be."""
    named = (("steady_50_per_s", STEADY), ("at_80_percent_of_max", SHARE_OF_MAXIMUM * maximum))
    planned = [(name, rate, max(1, min(cap, round(rate * seconds)))) for name, rate in named]
    total = sum(n for _, _, n in planned)
    if available is not None and total > available:
        planned = [(name, rate, max(1, n * available // total)) for name, rate, n in planned]
    return planned


def run_pipeline_latency(
    redis_url: str,
    work: Path,
    *,
    referral_max: float,
    held_max: float,
    seconds: float,
    cap: int,
    seed: int = 2026,
    timeout: float = 600.0,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Both paths of the pipeline at both load levels (see the module's text)."""
    run = uuid.uuid4().hex[:8]
    prefix = f"bench-latency-{run}."
    var = work / f"latency-{run}"
    var.mkdir(parents=True)
    calendar = Calendar.last_month()
    base = bench_settings(var, redis_url, prefix)
    phase1 = base.model_copy(update={"simulated_start": calendar.phase1})
    phase2 = base.model_copy(update={"simulated_start": calendar.phase2})
    steps = levels(referral_max, seconds, cap)
    total = sum(n for _, _, n in steps)
    rng = random.Random(seed)
    entries = [referral(n, run, calendar.opening, rng) for n in range(total)]
    cases = [referral_key(SOURCE, json.loads(e["data"])["referral_id"]) for e in entries]
    client = redis.Redis.from_url(redis_url)
    out: dict[str, Any] = {"seconds_per_level": seconds, "referral_to_answer": {},
                           "held_to_session": {}}  # fmt: skip
    fleet = Fleet(phase1, redis_url, 1, var / "services.log")
    try:
        fleet.start()
        record_roster(fleet, phase1, calendar, total)
        out["referral_to_answer"] = referral_latency(client, phase1, entries, steps, timeout,
                                                     echo)  # fmt: skip
        acknowledge(phase1, cases)
        meetings = book(phase1, calendar, cases)
        wait(lambda: drained(client, prefix), timeout, "bookings relayed", every=0.2)
        fleet.stop()
        fleet = Fleet(phase2, redis_url, 1, var / "services.log")
        fleet.start()
        starts = [at for _, _, at in calendar.plan(cases)]
        held = list(zip(meetings, starts, strict=True))
        out["held_to_session"] = held_latency(client, fleet, phase2, held, held_max,
                                              (seconds, cap), timeout, echo)  # fmt: skip
    finally:
        fleet.stop()
        forget(client, prefix)
        client.close()
    shutil.rmtree(var, ignore_errors=True)
    return out


def referral_latency(
    client: redis.Redis,
    settings: Settings,
    entries: Sequence[dict[str, str]],
    steps: Sequence[tuple[str, float, int]],
    timeout: float,
    echo: Callable[[str], None],
) -> dict[str, Any]:
    """Referral → answer at each level of ``steps``, the referrals taken from ``entries`` in
    turn; everything consumed before the next level."""
    out: dict[str, Any] = {}
    offset = 0
    for name, rate, count in steps:
        echo(f"  latency, referral → answer: {count} referrals at {rate:,.0f}/s")
        after = last_id(client, settings.stream(INTAKE_EVENTS))
        chunk = entries[offset : offset + count]
        offset += count
        sent = send_referrals(client, settings.stream(REFERRALS), chunk, rate)
        result = measure(client, settings.stream(INTAKE_EVENTS), ("ReferralReceived",),
                         "referral_id", sent, after, timeout)  # fmt: skip
        out[name] = {"rate_per_second": round(rate, 1), **result}
        wait(lambda: drained(client, settings.stream_prefix), timeout, "referrals consumed",
             every=0.1)  # fmt: skip
    return out


def held_latency(
    client: redis.Redis,
    fleet: Fleet,
    settings: Any,
    held: Sequence[tuple[UUID, Any]],
    maximum: float,
    window: tuple[float, int],
    timeout: float,
    echo: Callable[[str], None],
) -> dict[str, Any]:
    headers = bearer_headers(client_token(settings, Role.STAFF))
    out: dict[str, Any] = {}
    offset = 0
    for name, rate, count in levels(maximum, *window, available=len(held)):
        echo(f"  latency, held meeting → session: {count} meetings at {rate:,.0f}/s over HTTP")
        after = last_id(client, settings.stream(BILLING_EVENTS))
        published_after = last_id(client, settings.stream(SCHEDULING_EVENTS))
        chunk = held[offset : offset + count]
        offset += count
        sent, responded = asyncio.run(send_held(fleet.url("scheduling"), headers, chunk, rate))
        result = measure(client, settings.stream(BILLING_EVENTS), SESSION_KINDS, "meeting_id",
                         sent, after, timeout)  # fmt: skip
        # Where the time goes: from the MeetingHeld scheduling published to the session.
        sessions = answers(client, settings.stream(BILLING_EVENTS), after, SESSION_KINDS,
                           "meeting_id")  # fmt: skip
        published = answers(client, settings.stream(SCHEDULING_EVENTS), published_after,
                            ("MeetingHeld",), "meeting_id")  # fmt: skip
        billing = [sessions[k] - published[k] for k in sent if k in published]
        out[name] = {"rate_per_second": round(rate, 1), **result,
                     "http_response": percentiles(responded),
                     "meeting_held_published_to_session": percentiles(billing)}  # fmt: skip
        wait(lambda: drained(client, settings.stream_prefix), timeout, "held consumed", every=0.1)
    return out
