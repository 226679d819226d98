"""Flat cost over history: what a start costs with one year and with ten years in the stores.

Two var directories are filled through the services' own applications, as they write in
production, month after month on a simulated clock: counselling referrals are consumed by
intake in batches (``Intake.process``, as from ``intake.referrals``), most cases are
acknowledged by reception and the rest noted overdue by the acknowledgement check, the daily
retention job runs (so persons whose retention has ended are erased in the ten years), and
scheduling consumes intake's outbox (``Scheduling.process``) and runs its deadline check. The
periodic jobs store the watches as they do in a service (:mod:`infra.projections`).

Then, for each store and in a process of its own (``python -m bench.history measure``), what a
starting service does before its watches can answer: intake's acknowledgement and retention
watches and scheduling's case view are caught up, once resumed from their stored positions
(what a start does now) and once folded from the beginning of the log (what a start did
before), with the process's resident memory after each. The ratio ten years / one year is the
issue's measure (target <= 1.5).

Covered here: the watches' start-up work and memory. Not covered (item 4 of issue 18 lists
them too): the services' start-up to ready as processes, ``lots status``, ``lots audit case``
(see :mod:`bench.audit`), closing and replaying a month (see :mod:`bench.replay`) at the two
scales.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench import in_subprocess
from bench.pipeline import SOURCE, referral
from events.codec import decode, encode
from infra.batches import Incoming
from infra.calendar import STOCKHOLM
from infra.logging import configure
from infra.projections import from_scratch, keep
from infra.store import store_env
from infra.topology import INTAKE_EVENTS, REFERRALS
from services.intake.app import policy
from services.intake.application import Intake
from services.intake.domain import referral_key
from services.intake.retention import RetentionWatch
from services.intake.settings import IntakeSettings
from services.intake.watch import AckWatch
from services.scheduling.app import build
from services.scheduling.application import Scheduling
from services.scheduling.view import CaseView

#: The first month of the history; a run of ten years ends ten years later.
FIRST = date(2016, 1, 1)
#: Of a month's cases, this share is acknowledged by reception in time.
ACKNOWLEDGED = 0.95


class SimulatedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def settings(var: Path, key: str) -> IntakeSettings:
    return IntakeSettings(var_dir=var, embedded_redis="never", log_level="WARNING",
                    cipher_key=SecretStr(key), intake_rate_per_minute=0)  # fmt: skip


def _apps(config: IntakeSettings, clock: SimulatedClock) -> tuple[Intake, Scheduling]:
    intake = Intake(store_env(config, "intake", encrypted=True), policy=policy(config),
                    clock=clock)  # fmt: skip
    return intake, build(config, clock=clock)


def fill(var: Path, years: int, per_month: int, key: str, seed: int = 18) -> dict[str, Any]:
    """``years`` of history, ``per_month`` referrals a month; return what was stored."""
    config = settings(var, key)
    configure(config.log_level)  # the erasures' log lines, thousands of them, are not news here
    clock = SimulatedClock(datetime.combine(FIRST, clock_time(8), STOCKHOLM))
    intake, scheduling = _apps(config, clock)
    rng = random.Random(seed)
    relayed = 0
    started = time.monotonic()
    try:
        for month in range(12 * years):
            opening = _month(month)
            clock.now = datetime.combine(opening, clock_time(8), STOCKHOLM)
            entries = [referral(n, f"m{month}", opening, rng) for n in range(per_month)]
            items = [
                Incoming(f"{REFERRALS} {month}-{n}", REFERRALS, intake.decode(REFERRALS, e))
                for n, e in enumerate(entries)
            ]
            for start in range(0, len(items), 500):
                intake.process("intake", items[start : start + 500])
            relayed = _relay(intake, scheduling, relayed)
            clock.now += timedelta(hours=4)
            for case_id in _opened(intake, month, per_month)[: int(per_month * ACKNOWLEDGED)]:
                intake.acknowledge(case_id, "reception")
            clock.now += timedelta(days=20)
            intake.check_acknowledgements()
            intake.erase_expired(config.retention_years)
            relayed = _relay(intake, scheduling, relayed)
            scheduling.check_deadlines()
        for watch in (intake.ack_watch, intake.retention_watch):  # the last periodic run
            keep(intake, watch, force=True)
        keep(scheduling, scheduling.view, force=True)
        return {
            "years": years,
            "referrals": 12 * years * per_month,
            "events": {
                "intake": intake.recorder.max_notification_id() or 0,
                "scheduling": scheduling.recorder.max_notification_id() or 0,
            },
            "fill_seconds": round(time.monotonic() - started, 1),
        }
    finally:
        intake.close()
        scheduling.close()


def _month(n: int) -> date:
    year, month = divmod(FIRST.month - 1 + n, 12)
    return date(FIRST.year + year, month + 1, 3)


def _opened(intake: Any, month: int, count: int) -> list[Any]:
    return [referral_key(SOURCE, f"BENCH-m{month}-{n:07d}") for n in range(count)]


def _relay(intake: Any, scheduling: Any, position: int) -> int:
    """What intake's relay publishes, consumed by scheduling as its consumer does."""
    while True:
        after, outgoing = intake.outbox(position, 1000)
        if after == position:
            return position
        items = [
            Incoming(f"{INTAKE_EVENTS} {after}-{n}", INTAKE_EVENTS, decode(_fields(o)))
            for n, o in enumerate(outgoing)
        ]
        if items:
            scheduling.process("scheduling", items)
        position = after


def _fields(outgoing: Any) -> dict[str, str]:
    return encode(outgoing.message, id=outgoing.id)


def measure(var: Path, key: str, how: str) -> dict[str, Any]:
    """Catch the watches up as a start does (``resume``) or from the beginning (``full``)."""
    config = settings(var, key)
    clock = SimulatedClock(datetime.now(STOCKHOLM))
    intake, scheduling = _apps(config, clock)
    try:
        began = time.perf_counter()
        if how == "full":
            intake.ack_watch = from_scratch(AckWatch())
            intake.retention_watch = from_scratch(RetentionWatch())
            scheduling.view = from_scratch(CaseView(scheduling))
        intake.ack_watch.advance(intake)
        intake.retention_watch.advance(intake)
        with scheduling.lock:
            scheduling.view.catch_up()
        seconds = time.perf_counter() - began
        return {"seconds": round(seconds, 3), "rss_mb": round(_rss_kb() / 1024, 1)}
    finally:
        intake.close()
        scheduling.close()


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


#: The issue's target: ten years cost at most this many times one year.
TARGET = 1.5


def run(work: Path, per_month: int, echo: Any = print, repeats: int = 3) -> dict[str, Any]:
    """Fill one year and ten years, and measure a start's catching up on each (best of
    ``repeats`` runs in fresh processes)."""
    key = base64.b64encode(os.urandom(32)).decode()
    out: dict[str, Any] = {"referrals_per_month": per_month}
    for years in (1, 10):
        var = work / f"history-{years}y"
        var.mkdir(parents=True)
        filled = fill(var, years, per_month, key)
        echo(f"  history: {years} year(s) filled, {filled['events']} events "
             f"in {filled['fill_seconds']} s")  # fmt: skip
        filled["start"] = {
            how: min(
                (
                    in_subprocess("bench.history", "measure", str(var), key, how)
                    for _ in range(repeats)
                ),
                key=lambda r: float(r["seconds"]),
            )
            for how in ("resume", "full")
        }
        out[f"{years}y"] = filled
    one, ten = out["1y"]["start"], out["10y"]["start"]
    out["ten_over_one"] = {
        how: {
            "seconds": round(ten[how]["seconds"] / max(one[how]["seconds"], 1e-6), 2),
            "rss_mb": round(ten[how]["rss_mb"] / max(one[how]["rss_mb"], 1e-6), 2),
        }
        for how in ("resume", "full")
    }
    out["target_met"] = out["ten_over_one"]["resume"]["seconds"] <= TARGET
    return out


def rows(h: dict[str, Any]) -> list[str]:
    """The benchmark table's lines for this part."""
    one, ten = h["1y"], h["10y"]
    lines = [
        "",
        f"History: watches caught up at start, one year ({sum(one['events'].values()):,} events)"
        f" and ten years ({sum(ten['events'].values()):,} events)",
    ]
    for how, label in (("resume", "resumed from the stored position"),
                       ("full", "folded from the log's beginning")):  # fmt: skip
        a, b, r = one["start"][how], ten["start"][how], h["ten_over_one"][how]
        lines.append(
            f"  {label:34} {a['seconds']:>7.3f} s -> {b['seconds']:>7.3f} s "
            f"({r['seconds']:.2f}x); RSS {a['rss_mb']:.0f} -> {b['rss_mb']:.0f} MB "
            f"({r['rss_mb']:.2f}x)"
        )
    verdict = "met" if h["target_met"] else "MISSED"
    lines.append(f"  target: ten years <= {TARGET}x one year (resumed) {verdict}")
    return lines


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "measure":
        print(json.dumps(measure(Path(rest[0]), rest[1], rest[2])))
    elif command == "run":  # python -m bench.history run WORK PER_MONTH
        print(json.dumps(run(Path(rest[0]), int(rest[1])), indent=2))
    else:
        raise SystemExit(
            "usage: python -m bench.history (run WORK PER_MONTH | measure VAR KEY HOW)"
        )
