"""The replay benchmark: a settlement replayed over a million stored events, against a raw scan.

Billing's store is filled through billing's own application: a year of held counselling
meetings (``MeetingHeld``, as scheduling publishes them) is applied in batches as the consumer
applies them, so every stored event is a real one (case accounts, sessions opened and logged,
hours billed against the yearly cap, sessions booked on their months, the cap's warnings). The
year's last month is then closed, so that replaying it folds the whole log.

Two subprocesses then read the same SQLite file, taking turns three times: ``lots settlement
replay``'s code (:func:`services.billing.replay.replay_month`) and a raw scan (``SELECT`` every
row, ``json.loads`` its state). Each reports its events per second and its peak RSS
(``VmHWM``), so the replay's memory is measured alone; the fastest run of each is compared.
"""

from __future__ import annotations

import itertools
import json
import random
import resource
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from bench import in_subprocess
from events.codec import Envelope
from events.scheduling import MeetingHeld
from infra.batches import Incoming
from infra.calendar import STOCKHOLM, is_business_day
from infra.settings import Settings
from infra.topology import SCHEDULING_EVENTS

#: Meetings held per case over the year, and messages applied per batch (one transaction).
MEETINGS_PER_CASE = 6
BATCH = 1000


def settings(var: Path) -> Settings:
    return Settings(var_dir=var, embedded_redis="never", log_level="WARNING")


def business_days(year: int) -> list[date]:
    day, days = date(year, 1, 1), []
    while day.year == year:
        if is_business_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def meetings(year: int, count: int, seed: int = 7) -> Iterator[MeetingHeld]:
    """``count`` counselling meetings held over ``year``, in time order, six per case."""
    rng = random.Random(seed)
    days = business_days(year)
    cases = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(count // 6 + 1)]
    for n in range(count):
        day = days[n * len(days) // count]
        start = datetime.combine(day, clock_time(8 + n % 8), STOCKHOLM)
        yield held(cases[n // MEETINGS_PER_CASE], start, f"bench-{n % 40:02d}", rng)


def held(case_id: uuid.UUID, start: datetime, staff: str, rng: random.Random) -> MeetingHeld:
    """A counselling meeting of ``case_id`` held from ``start``, as scheduling publishes it."""
    return MeetingHeld(
        meeting_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        case_id=case_id,
        programme="counselling",
        kind="counselling",
        format=rng.choice(("individual", "couple")),
        provider=rng.choice(("leanlink", "other_provider")),
        staff=[staff],
        started_at=start,
        ended_at=start + timedelta(minutes=rng.choice((60, 60, 75, 90, 120))),
        participants=2,
        client_visits=1,
    )


def apply_held(app: Any, meetings_held: Sequence[MeetingHeld], label: str) -> None:
    """Apply held meetings in one unit of work, as billing's consumer applies a batch read from
    ``scheduling.events``; a meeting billing refuses stops the benchmark."""
    batch = [
        Incoming(f"{label}-{n}", SCHEDULING_EVENTS, Envelope(m, uuid.uuid4()))
        for n, m in enumerate(meetings_held)
    ]
    failed = [e for e in app.process("bench", batch).values() if e is not None]
    if failed:
        raise RuntimeError(f"billing refused a held meeting: {failed[0]}")


def fill(var: Path, events: int, year: int, echo: Any = print) -> dict[str, Any]:
    """Apply held meetings until billing's store holds ``events`` events; close December."""
    from services.billing.app import make_app

    app = make_app(settings(var))
    started = time.monotonic()
    try:
        # About five events per meeting (session opened and logged, hours billed, booked on
        # its month, the case's meeting); estimate, then top up until there are enough.
        count = 0
        while (stored := app.recorder.max_notification_id() or 0) < events:
            todo = meetings(year, max(BATCH, (events - stored) // 5), seed=count)
            while batch := list(itertools.islice(todo, BATCH)):
                apply_held(app, batch, f"m{count}")
                count += len(batch)
            echo(f"    billing's store: {app.recorder.max_notification_id()} events")
        month = f"{year}-12"
        document = app.close_month(month, "bench")
        return {
            "events_in_store": app.recorder.max_notification_id(),
            "meetings_applied": count,
            "fill_seconds": round(time.monotonic() - started, 1),
            "month": month,
            "digest": document["digest"],
        }
    finally:
        app.close()


def replay(var: Path, month: str) -> dict[str, Any]:
    """Replay ``month`` from billing's store (in this process); its rate and peak memory."""
    from infra.process import tune_gc
    from services.billing.app import make_app
    from services.billing.replay import replay_month

    tune_gc()  # as `lots settlement replay` does
    app = make_app(settings(var))
    try:
        started = time.perf_counter()
        result = replay_month(app, month)
        seconds = time.perf_counter() - started
        events = app.recorder.max_notification_id() or 0
    finally:
        app.close()
    return {
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds),
        "matches": result.matches,
        "differences": list(result.differences[:5]),
        "peak_rss_mb": peak_rss_mb(),
    }


def scan(path: Path) -> dict[str, Any]:
    """The raw limit: every stored event's state read from the same file and JSON-decoded."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        started = time.perf_counter()
        rows = 0
        for (state,) in connection.execute("SELECT state FROM stored_events ORDER BY rowid"):
            json.loads(state)
            rows += 1
        seconds = time.perf_counter() - started
    finally:
        connection.close()
    return {
        "events": rows,
        "seconds": round(seconds, 2),
        "events_per_second": round(rows / seconds),
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux from ``VmHWM``: ``ru_maxrss`` carries
    over the parent's peak through fork and exec, which would charge the filling to the replay."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    return round(kib / 1024, 1)


def run(var: Path, events: int, echo: Any = print, rounds: int = 3) -> dict[str, Any]:
    """Fill billing's store with ``events`` events, then replay and scan it side by side.

    The replay and the scan take turns, ``rounds`` times each, and the fastest run of each is
    compared (as ``timeit`` does: on a shared machine, the slower runs measure the neighbours);
    every run is kept in the results, and the replay's peak memory is the highest of its runs.
    """
    year = date.today().year - 1
    filled = fill(var, events, year, echo)
    path = var / "billing.sqlite"
    replays, scans = [], []
    for _ in range(rounds):
        replays.append(in_subprocess("bench.replay", "replay", str(var), filled["month"]))
        scans.append(in_subprocess("bench.replay", "scan", str(path)))
    for replayed in replays:
        if not replayed["matches"]:
            raise AssertionError(f"the replay does not match the closed month: {replayed}")
    replayed = max(replays, key=lambda r: r["events_per_second"])
    scanned = max(scans, key=lambda r: r["events_per_second"])
    return {
        **filled,
        "replay": {**replayed, "peak_rss_mb": max(r["peak_rss_mb"] for r in replays)},
        "raw_scan": scanned,
        "ratio": round(replayed["events_per_second"] / scanned["events_per_second"], 3),
        "rounds": {
            "replay_events_per_second": [r["events_per_second"] for r in replays],
            "raw_scan_events_per_second": [r["events_per_second"] for r in scans],
        },
    }


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "replay":
        print(json.dumps(replay(Path(rest[0]), rest[1])))
    elif command == "scan":
        print(json.dumps(scan(Path(rest[0]))))
    else:
        raise SystemExit(f"usage: python -m bench.replay replay VAR MONTH | scan FILE ({command}?)")
