"""Flat cost over history: one year and ten years in the stores, filled as the services write.

Two var directories are filled through the services' own applications, as they write in
production, month after month on a simulated clock; both histories end in the same month
(:data:`LAST`), so that what is measured after it is the same work over more or less past.
Counselling referrals are consumed by intake in batches (``Intake.process``, as from
``intake.referrals``), most cases are acknowledged by reception and the rest noted overdue by
the acknowledgement check and acknowledged late, social workers close each case in the third
month after it was opened (``Intake.close_case``, :data:`CLOSED_AFTER_MONTHS`), the daily
retention job runs (so persons whose retention has ended are erased in the ten years; their
five years count from the close), scheduling and billing consume intake's outbox
(``Scheduling.process``, ``Billing.process``) and scheduling runs its deadline check. From the
counselling contract's start (:data:`BILLED_FROM`, the tariff seeds: before it no counselling
price exists) each acknowledged case's first meeting is held and billing consumes its
``MeetingHeld`` (:func:`bench.replay.apply_held`), and billing's administrator closes each
month once it is over, as ``lots settlement close`` does. The periodic jobs store the watches
as they do in a service (:mod:`infra.projections`), and each outbox's relay position is
recorded at its end, as the relay records it (:data:`EPOCH`).

Measured on each store (:mod:`bench.history_start`): each service's start-up to ready and its
idle memory, ``lots status``, ``lots audit case``, closing and replaying the last month; and,
in a process of its own (``python -m bench.history measure``), the watches a start catches up
(intake's acknowledgement and retention watches, scheduling's case view), once resumed from
their stored positions and once folded from the log's beginning. The ratio ten years / one
year is the issue's measure (target <= 1.5).
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from pydantic import SecretStr

from bench.pipeline import SOURCE, referral
from bench.replay import apply_held, held
from events.codec import decode, encode
from infra.batches import Incoming
from infra.calendar import STOCKHOLM
from infra.logging import configure
from infra.projections import from_scratch, keep
from infra.settings import ServiceName
from infra.store import store_env
from infra.topology import INTAKE_EVENTS, PUBLISHES, REFERRALS
from services.billing.app import make_app as make_billing
from services.billing.application import Billing
from services.intake.app import policy
from services.intake.application import Intake
from services.intake.domain import referral_key
from services.intake.retention import RetentionWatch
from services.intake.settings import IntakeSettings
from services.intake.watch import AckWatch
from services.scheduling.app import build
from services.scheduling.application import Scheduling
from services.scheduling.view import CaseView

#: The last month of every history (its 3rd): one year and ten years end here.
LAST = date(2025, 12, 3)
#: The counselling contract's first day (``services/billing/tariff_seeds.py``): meetings are
#: held and billed from here on.
BILLED_FROM = date(2022, 1, 1)
#: Of a month's cases, this share is acknowledged by reception in time.
ACKNOWLEDGED = 0.95
#: A case is closed by its social worker in the third month after the one it was opened in
#: (a counselling course of a few meetings); the last months' cases are still open.
CLOSED_AFTER_MONTHS = 3
#: How the cases close, and how often (``services/intake/case_refusals.py``'s outcomes).
CLOSINGS = {"goals_met": 6, "phased_out": 2, "declined_by_family": 1, "moved": 1}
#: Referrals per unit of work, as intake's consumer reads them.
BATCH = 500
#: The Redis epoch the fill's relay published into (``infra/relay.py``): a measured start
#: finds it in Redis (``bench.history_run``), so its relay resumes from the stored position, as
#: after a restart, instead of republishing ten years of outbox into a Redis it takes as new.
EPOCH = "bench-history"


class SimulatedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def settings(var: Path, key: str, **more: Any) -> IntakeSettings:
    return IntakeSettings(var_dir=var, embedded_redis="never", log_level="WARNING",
                          cipher_key=SecretStr(key), intake_rate_per_minute=0,
                          **more)  # fmt: skip


@dataclass
class Apps:
    """The three services' applications over one var directory, on one simulated clock."""

    intake: Intake
    scheduling: Scheduling
    billing: Billing
    clock: SimulatedClock
    relayed: int = 0

    @classmethod
    def open(cls, config: IntakeSettings, clock: SimulatedClock) -> Apps:
        billing = make_billing(config.model_copy(update={"simulated_start": clock.now}))
        billing.clock = clock
        return cls(open_intake(config, clock), build(config, clock=clock), billing, clock)

    def relayed_all(self) -> None:
        """Record each outbox relayed to its end, as the relay records its position: what
        :func:`relay` handed the consumers stands for what the relays published."""
        for name, app in self.named().items():
            app.store.set_relay_position(PUBLISHES[name], app.recorder.max_notification_id() or 0,
                                         EPOCH)  # fmt: skip

    def named(self) -> dict[ServiceName, Intake | Scheduling | Billing]:
        return {"intake": self.intake, "scheduling": self.scheduling, "billing": self.billing}

    def events(self) -> dict[str, int]:
        """Each store's events."""
        return {n: app.recorder.max_notification_id() or 0 for n, app in self.named().items()}

    def close(self) -> None:
        for app in self.named().values():
            app.close()


def open_intake(config: IntakeSettings, clock: SimulatedClock) -> Intake:
    return Intake(store_env(config, "intake", encrypted=True), policy=policy(config),
                  clock=clock)  # fmt: skip


def months(years: int) -> list[date]:
    """The history's months (each on its 3rd), the last one :data:`LAST`."""
    out = []
    for back in range(12 * years - 1, -1, -1):
        year, month = divmod(LAST.year * 12 + LAST.month - 1 - back, 12)
        out.append(date(year, month + 1, 3))
    return out


def label(month: date) -> str:
    return f"m{month:%Y%m}"


def case_of(month: date, n: int = 0) -> UUID:
    """The ``n``-th case opened in ``month`` (the audit's case)."""
    return referral_key(SOURCE, f"BENCH-{label(month)}-{n:07d}")


def fill(var: Path, years: int, per_month: int, key: str, seed: int = 18) -> dict[str, Any]:
    """``years`` of history, ``per_month`` referrals a month; return what was stored."""
    config = settings(var, key)
    configure(config.log_level)  # the erasures' log lines, thousands of them, are not news here
    first = months(years)[0]
    apps = Apps.open(config, SimulatedClock(datetime.combine(first, clock_time(8), STOCKHOLM)))
    rng = random.Random(seed)
    started = time.monotonic()
    try:
        for month in months(years):
            live(apps, config, month, per_month, rng)
        for watch in (apps.intake.ack_watch, apps.intake.retention_watch):  # the last run
            keep(apps.intake, watch, force=True)
        keep(apps.scheduling, apps.scheduling.view, force=True)
        apps.relayed_all()
        return {
            "years": years,
            "referrals": 12 * years * per_month,
            "events": apps.events(),
            "fill_seconds": round(time.monotonic() - started, 1),
        }
    finally:
        apps.close()


def live(
    apps: Apps, config: IntakeSettings, opening: date, per_month: int, rng: random.Random
) -> None:
    """One month: the previous one closed, referrals in, acknowledgements, meetings held,
    the late acknowledgements, the cases of three months ago closed, the periodic jobs."""
    clock, intake = apps.clock, apps.intake
    clock.now = datetime.combine(opening, clock_time(8), STOCKHOLM)
    previous = (opening.replace(day=1) - timedelta(days=1)).replace(day=3)
    if previous >= BILLED_FROM and previous.strftime("%Y-%m") not in apps.billing.closed_months:
        apps.billing.close_month(previous.strftime("%Y-%m"), "bench")
    entries = [referral(n, label(opening), opening, rng) for n in range(per_month)]
    items = [
        Incoming(f"{REFERRALS} {opening}-{n}", REFERRALS, intake.decode(REFERRALS, e))
        for n, e in enumerate(entries)
    ]
    for start in range(0, len(items), BATCH):
        intake.process("intake", items[start : start + BATCH])
    relay(apps)
    clock.now += timedelta(hours=4)
    acknowledged = [case_of(opening, n) for n in range(int(per_month * ACKNOWLEDGED))]
    for case_id in acknowledged:
        intake.acknowledge(case_id, "reception")
    if opening >= BILLED_FROM:
        clock.now += timedelta(days=7)
        at = datetime.combine(opening + timedelta(days=7), clock_time(9), STOCKHOLM)
        for start in range(0, len(acknowledged), BATCH):
            chunk = acknowledged[start : start + BATCH]
            meetings = [held(c, at, f"bench-{n % 40:02d}", rng) for n, c in enumerate(chunk)]
            apply_held(apps.billing, meetings, f"{label(opening)}-{start}")
    clock.now += timedelta(days=13)
    intake.check_acknowledgements()
    for n in range(len(acknowledged), per_month):  # the late ones, noted overdue just now
        intake.acknowledge(case_of(opening, n), "reception")
    close_cases(intake, opening, per_month, rng)
    intake.erase_expired(config.retention_years)
    relay(apps)
    apps.scheduling.check_deadlines()


def close_cases(intake: Intake, month: date, per_month: int, rng: random.Random) -> None:
    """Close the cases opened :data:`CLOSED_AFTER_MONTHS` before ``month``, as social workers
    do (``lots``/HTTP ``close``: ``Intake.close_case``); scheduling closes them in turn when it
    consumes ``CaseClosed``."""
    back = month.year * 12 + month.month - 1 - CLOSED_AFTER_MONTHS
    opened = date(back // 12, back % 12 + 1, 3)
    outcomes, weights = list(CLOSINGS), list(CLOSINGS.values())
    for n in range(per_month):
        case_id = case_of(opened, n)
        if _opened(intake, case_id):
            intake.close_case(case_id, rng.choices(outcomes, weights)[0], "social-worker")


def _opened(intake: Intake, case_id: UUID) -> bool:
    """Whether the case exists (a history's first months have no cases before them)."""
    try:
        intake.case(case_id)
    except AggregateNotFoundError:
        return False
    return True


def relay(apps: Apps) -> None:
    """What intake's relay publishes, consumed by scheduling and billing as their consumers
    do."""
    while True:
        after, outgoing = apps.intake.outbox(apps.relayed, 1000)
        if after == apps.relayed:
            return
        items = [
            Incoming(f"{INTAKE_EVENTS} {after}-{n}", INTAKE_EVENTS, decode(_fields(o)))
            for n, o in enumerate(outgoing)
        ]
        if items:
            apps.scheduling.process("scheduling", items)
            apps.billing.process("billing", items)
        apps.relayed = after


def _fields(outgoing: Any) -> dict[str, str]:
    return encode(outgoing.message, id=outgoing.id)


def measure(var: Path, key: str, how: str) -> dict[str, Any]:
    """Catch the watches up as a start does (``resume``) or from the beginning (``full``)."""
    config = settings(var, key)
    clock = SimulatedClock(datetime.now(STOCKHOLM))
    intake, scheduling = open_intake(config, clock), build(config, clock=clock)
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
        return {"seconds": round(seconds, 3), "rss_mb": round(rss_kb() / 1024, 1)}
    finally:
        intake.close()
        scheduling.close()


def rss_kb(pid: int | str = "self") -> int:
    """A process's resident memory now (``VmRSS``, Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command != "measure":
        raise SystemExit(f"usage: python -m bench.history measure VAR KEY HOW ({command}?)")
    print(json.dumps(measure(Path(rest[0]), rest[1], rest[2])))
