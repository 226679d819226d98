"""The history part of ``make bench``: issue 18's flat cost, one year against ten years.

Each store (filled by :func:`bench.history.fill`, both ending in the same month) is measured
the same way, in processes of their own, as an operator meets them:

- each service's start-up to ready: ``python -m services.<name>`` spawned against the filled
  store (the bench's :class:`~bench.pipeline.Fleet`, on a stream prefix of its own), timed from
  the spawn to ``/health/ready`` answering 200, one service after the other;
- each service's resident memory when idle: ``VmRSS`` a moment after all three are ready;
- ``lots status`` and ``lots audit case <a case of the last month>`` with the services up;
- closing the last month (``lots settlement close``) and replaying it
  (``lots settlement replay``), the services stopped;
- the watches a start catches up (``python -m bench.history measure``), resumed from their
  stored positions and folded from the log's beginning.

Every time is a wall time of the whole command (the interpreter's start included), the best of
``repeats`` rounds, the two sizes measured in turns (a month is closed once, in the first
round). The result holds each measure at both sizes and the ratio ten years / one year, each
marked against the target (<= 1.5).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import redis

from bench import ROOT, in_subprocess
from bench.history import EPOCH, LAST, case_of, fill, rss_kb, settings
from bench.pipeline import Fleet, forget
from infra.calendar import STOCKHOLM
from infra.settings import SERVICES

#: The issue's target: ten years cost at most this many times one year.
TARGET = 1.5
#: The services' clock starts here: the working day after the histories' last month.
AFTER = datetime.combine(LAST.replace(day=1) + timedelta(days=35), clock_time(9), STOCKHOLM)

#: Each measure's line in the table, in order.
LABELS = {
    **{f"{s}_ready_s": f"{s} start-up to ready, s" for s in SERVICES},
    **{f"{s}_idle_rss_mb": f"{s} RSS when idle, MB" for s in SERVICES},
    "status_s": "lots status, s",
    "audit_case_s": "lots audit case, s",
    "close_month_s": "lots settlement close (a month), s",
    "replay_month_s": "lots settlement replay (a month), s",
    "watches_resume_s": "watches resumed at start, s",
    "watches_resume_rss_mb": "  its process's RSS, MB",
    "watches_full_s": "watches folded from the beginning, s",
}


def run(
    work: Path, per_month: int, redis_url: str, echo: Callable[[str], None] = print,
    repeats: int = 3, idle_seconds: float = 2.0,
) -> dict[str, Any]:  # fmt: skip
    """Fill one year and ten years of history, then measure both in turns, ``repeats`` times
    (on a busy machine a neighbour then weighs on both sizes alike); keep each measure's best.
    ``idle_seconds``: how long the services are left alone after the last is ready, before
    their memory is read."""
    key = base64.b64encode(os.urandom(32)).decode()
    out: dict[str, Any] = {"referrals_per_month": per_month, "last_month": f"{LAST:%Y-%m}"}
    stores: dict[str, Path] = {}
    for years in (1, 10):
        stores[f"{years}y"] = var = work / f"history-{years}y"
        var.mkdir(parents=True)
        out[f"{years}y"] = fill(var, years, per_month, key)
        echo(f"  history: {years} year(s) filled, {out[f'{years}y']['events']} events "
             f"in {out[f'{years}y']['fill_seconds']} s")  # fmt: skip
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in stores}
    for n in range(repeats):
        for name, var in stores.items():
            rounds[name].append(one_round(var, key, redis_url, idle_seconds, first=n == 0))
    for name, measured in rounds.items():
        out[name]["measures"] = {m: min(r[m] for r in measured if m in r) for m in LABELS}
    one, ten = out["1y"]["measures"], out["10y"]["measures"]
    out["ten_over_one"] = {name: round(ten[name] / max(one[name], 1e-6), 2) for name in LABELS}
    out["met"] = {name: ratio <= TARGET for name, ratio in out["ten_over_one"].items()}
    out["target_met"] = all(out["met"].values())
    return out


def one_round(
    var: Path, key: str, redis_url: str, idle_seconds: float, *, first: bool
) -> dict[str, float]:
    """Every measure of :data:`LABELS` once on one filled store (closing the month only in the
    ``first`` round: a month is closed once)."""
    prefix = f"bench-history-{uuid.uuid4().hex[:8]}."
    config = settings(var, key, redis_url=redis_url, stream_prefix=prefix,
                      simulated_start=AFTER, stream_retention_hours=0)  # fmt: skip
    fleet = Fleet(config, redis_url, 1, var / "services.log")
    client = redis.Redis.from_url(redis_url)
    try:
        client.set(config.key("epoch"), EPOCH)  # the Redis the fill's relay published into
        out = start_each(fleet, idle_seconds)
        env = fleet.cli_env()
        out["status_s"] = timed(env, "status", ok=(0, 1))
        out["audit_case_s"] = timed(env, "audit", "case", str(case_of(LAST)), "--reason",
                                    "history benchmark", "--by", "bench")  # fmt: skip
        fleet.stop()
        month = f"{LAST:%Y-%m}"
        if first:
            out["close_month_s"] = timed(env, "settlement", "close", month, "--by", "bench")
        out["replay_month_s"] = timed(env, "settlement", "replay", month)
        return out | watches(var, key)
    finally:
        fleet.stop()
        forget(client, prefix)
        client.close()


def start_each(fleet: Fleet, idle_seconds: float) -> dict[str, float]:
    """Start the services one after the other, each timed to ready; then their idle memory."""
    out: dict[str, float] = {}
    for service in SERVICES:
        began = time.perf_counter()
        fleet.start((service,))
        out[f"{service}_ready_s"] = round(time.perf_counter() - began, 2)
    time.sleep(idle_seconds)
    for service, _, child in fleet.procs:
        out[f"{service}_idle_rss_mb"] = round(rss_kb(child.pid) / 1024, 1)
    return out


def timed(env: dict[str, str], *args: str, ok: tuple[int, ...] = (0,)) -> float:
    """``lots <args>``'s wall time in seconds; an exit code not in ``ok`` stops the run."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lots.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    seconds = time.perf_counter() - began
    if done.returncode not in ok:
        raise RuntimeError(f"lots {' '.join(args[:2])} exited {done.returncode}: "
                           f"{(done.stderr or done.stdout)[-2000:]}")  # fmt: skip
    return round(seconds, 3)


def watches(var: Path, key: str) -> dict[str, float]:
    """The watches' catching up at start, resumed and from the beginning, each in a fresh
    process."""
    resumed = in_subprocess("bench.history", "measure", str(var), key, "resume")
    full = in_subprocess("bench.history", "measure", str(var), key, "full")
    return {"watches_resume_s": resumed["seconds"], "watches_resume_rss_mb": resumed["rss_mb"],
            "watches_full_s": full["seconds"]}  # fmt: skip


def rows(h: dict[str, Any]) -> list[str]:
    """The benchmark table's lines for this part."""
    one, ten = h["1y"], h["10y"]
    lines = [
        "",
        f"History: one year ({sum(one['events'].values()):,} events) and ten years "
        f"({sum(ten['events'].values()):,} events), both ending {h['last_month']}",
        f"  {'':40} {'1 year':>9} {'10 years':>9} {'ratio':>7}  (target <= {TARGET}x)",
    ]
    for name, label in LABELS.items():
        verdict = "met" if h["met"][name] else "MISSED"
        lines.append(
            f"  {label:40} {one['measures'][name]:>9.2f} {ten['measures'][name]:>9.2f} "
            f"{h['ten_over_one'][name]:>6.2f}x  {verdict}"
        )
    missed = [name for name, met in h["met"].items() if not met]
    verdict = "met" if not missed else f"MISSED ({len(missed)} of {len(LABELS)})"
    lines.append(f"  target: ten years <= {TARGET}x one year for each: {verdict}")
    return lines
