"""Audit latency: ``lots audit case`` for a case of 200 events in a store of a million.

The intake store is filled with cases of ten events each (opened, then meetings held), one of
them with 200; the history of that case is then read repeatedly through the same code as the
command (``lots.audit.history_in``: the look is recorded, the three stores are asked through
their case indexes, events merged in time order), with the stores open as a running tool has
them, in a process of its own as the command runs in. Reports p50 and p99 in milliseconds.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import in_subprocess
from infra.application import ServiceApplication
from infra.settings import Settings
from lots.audit import Look, history_in
from lots.stores import open_store
from services.intake.domain_case import Case

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _case(case_id: uuid.UUID, meetings: int) -> Case:
    case = Case(
        case_id=case_id,
        source="bench",
        referral_id=str(case_id),
        programme="network",
        basis="service",
        urgency="normal",
        priority=3,
        received_at=START,
        first_contact_due=date(2025, 1, 20),
        ack_due=START + timedelta(days=1),
        household=[
            {
                "person_ref": str(uuid.uuid4()),
                "personal_number": "201407142395",
                "name": None,
                "role": "child",
                "age": 10,
            }
        ],
        indicators_met=[],
        consent=False,
        causation_id=None,
    )
    for n in range(meetings):
        start = START + timedelta(days=n + 1)
        case.record_meeting(
            str(uuid.uuid4()), "network_meeting", start, start + timedelta(minutes=60), 0, "bench"
        )
    return case


def fill(app: ServiceApplication, events: int, per_case: int = 10) -> uuid.UUID:
    """Fill the store with about ``events`` events; return the id of the 200-event case."""
    target = uuid.uuid4()
    batch: list[Case] = []
    written = 0
    middle = events // 2
    placed = False
    while written < events:
        if not placed and written >= middle:
            batch.append(_case(target, 199))
            written += 200
            placed = True
        batch.append(_case(uuid.uuid4(), per_case - 1))
        written += per_case
        if len(batch) >= 100:
            app.save(*batch)
            batch = []
    if not placed:
        batch.append(_case(target, 199))
    if batch:
        app.save(*batch)
    return target


def run(var: Path, events: int, looks: int = 200) -> dict[str, Any]:
    """Fill intake's store, then time the looks in a process of their own, as ``lots audit
    case`` runs: in the benchmark's own process, which holds the pipeline's results and the
    filler's objects, the garbage collector's pauses went into the latency (p99 19 ms there
    against 12 ms in a fresh process, on the same store)."""
    settings = Settings(var_dir=var, embedded_redis="never")
    apps = {s: open_store(settings, s) for s in ("intake", "scheduling", "billing")}
    try:
        started = time.monotonic()
        target = fill(apps["intake"], events)
        filled_in = time.monotonic() - started
        stored = apps["intake"].recorder.max_notification_id() or 0
    finally:
        for app in apps.values():
            app.close()
    timed = in_subprocess("bench.audit", "measure", str(var), str(target), str(looks))
    return {
        "events_in_store": stored,
        "case_events": 200,
        "fill_seconds": round(filled_in, 1),
        **timed,
    }


def measure(var: Path, target: uuid.UUID, looks: int) -> dict[str, Any]:
    """``looks`` reads of the case's history through the command's code; p50 and p99."""
    settings = Settings(var_dir=var, embedded_redis="never")
    apps: dict[str, ServiceApplication] = {
        s: open_store(settings, s) for s in ("intake", "scheduling", "billing")
    }
    try:
        look = Look("bench", "auditor", "latency benchmark")
        times = []
        for _ in range(looks):
            began = time.perf_counter()
            report = history_in(apps, target, look, None, frozenset())
            times.append((time.perf_counter() - began) * 1000)
            assert len(report["events"]) == 200, len(report["events"])
    finally:
        for app in apps.values():
            app.close()
    times.sort()
    return {
        "looks": looks,
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
    }


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command != "measure":
        raise SystemExit(f"usage: python -m bench.audit measure VAR CASE_ID LOOKS ({command}?)")
    print(json.dumps(measure(Path(rest[0]), uuid.UUID(rest[1]), int(rest[2]))))
