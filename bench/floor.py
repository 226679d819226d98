"""The event store's floor: what storing one referral's events costs with the library alone.

"The library" is eventsourcing 9.5 with the transcoder the services' stores use
(:mod:`infra.transcoder`, set by :func:`infra.store.store_env`); ``python -m bench.floor``
compares it with the library's own JSON transcoder, in alternating runs.

Every referral that goes through the pipeline leaves about 16 events in the three services'
stores (intake 3, scheduling 8, billing 5 or 6; ``docs/performance.md``, "The stored events
of one referral"). This measures what eventsourcing 9.5 itself needs to store that many events
on SQLite, with nothing else: no
message read or decoded, no handler, no hash chain, no case index, no consumer tracking, no
outbox read, no publishing. Events of the pipeline's size (UUIDs, a time stamp, a decimal, a
small document: about 600 bytes of JSON) on four aggregates per referral, saved as the
services save them: one transaction per batch of referrals, in the library's SQLite store with
the services' settings.

The CPU time per referral it reports is a lower bound of the pipeline's own: on a machine with
``cpus`` cores, no pipeline built on this store can pass ``cpus / floor`` referrals per second,
whatever else it does or leaves out.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic

from infra.transcoder import TRANSCODER_TOPIC

#: The transcoders ``python -m bench.floor`` compares, by the names it prints them under.
TRANSCODERS = {"library": get_topic(JSONTranscoder), "lots": TRANSCODER_TOPIC}

#: Events per referral in the pipeline's stores, and the aggregates they are spread over here.
EVENTS_PER_REFERRAL = 16
AGGREGATES_PER_REFERRAL = 4


class Probe(Aggregate):
    """An aggregate whose events are the size and shape of the pipeline's."""

    @event("Recorded")
    def record(
        self, case_id: uuid.UUID, at: datetime, hours: Decimal, document: dict[str, Any]
    ) -> None:
        pass


def _document(n: int) -> dict[str, Any]:
    return {
        "programme": "counselling",
        "provider": "leanlink",
        "staff": ["staff-anna"],
        "started_at": "2026-11-02T09:00:00+01:00",
        "ended_at": "2026-11-02T10:15:00+01:00",
        "settlement_month": "2026-11",
        "tariff_version": "counselling-rate-2022#1bc4963b+unindexed-linkoping-uplift-2026",
        "referral_id": f"EH-{n:08d}",
        "minutes": 75,
        "amount_ore": 75_625,
    }


def run(
    var: Path, referrals: int = 6_000, batch: int = 500, transcoder: str = TRANSCODER_TOPIC
) -> dict[str, Any]:
    """Store ``referrals`` referrals' worth of events in batches of ``batch`` referrals, with
    the transcoder of topic ``transcoder`` (the services' by default)."""
    var.mkdir(parents=True, exist_ok=True)
    app: Application[Any] = Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(var / "floor.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "30",
            "TRANSCODER_TOPIC": transcoder,
        }
    )
    per_aggregate = EVENTS_PER_REFERRAL // AGGREGATES_PER_REFERRAL - 1  # after its creation
    at = datetime(2026, 11, 2, 8, tzinfo=UTC)
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        for first in range(0, referrals, batch):
            probes = []
            for n in range(first, min(first + batch, referrals)):
                case_id, document = uuid.uuid4(), _document(n)
                for _ in range(AGGREGATES_PER_REFERRAL):
                    probe = Probe()
                    for _ in range(per_aggregate):
                        probe.record(case_id, at, Decimal("1.25"), document)
                    probes.append(probe)
            app.save(*probes)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        stored = app.recorder.max_notification_id()
    finally:
        app.close()
    assert stored == referrals * EVENTS_PER_REFERRAL
    cpu_us = cpu / referrals * 1e6
    return {
        "transcoder": transcoder,
        "referrals": referrals,
        "events": stored,
        "batch_referrals": batch,
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "cpu_us_per_referral": round(cpu_us),
        "cpu_us_per_event": round(cpu_us / EVENTS_PER_REFERRAL, 1),
    }


def compare(runs: int, referrals: int) -> dict[str, list[float]]:
    """µs of CPU per event of each transcoder in ``TRANSCODERS``, ``runs`` runs each, taking
    turns so that a busy machine's load falls on both alike."""
    per_event: dict[str, list[float]] = {name: [] for name in TRANSCODERS}
    with tempfile.TemporaryDirectory(prefix="lots-floor-") as work:
        for n in range(runs):
            for name, topic in TRANSCODERS.items():
                result = run(Path(work) / f"{name}-{n}", referrals=referrals, transcoder=topic)
                per_event[name].append(result["cpu_us_per_event"])
    return per_event


def main() -> None:
    parser = argparse.ArgumentParser(description=compare.__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--referrals", type=int, default=6_000, help="per run (default 6000)")
    args = parser.parse_args()
    for name, results in compare(args.runs, args.referrals).items():
        shown = ", ".join(f"{r:.1f}" for r in results)
        print(f"{name:8} min {min(results):5.1f} µs of CPU per event  (runs: {shown})")


if __name__ == "__main__":
    main()
