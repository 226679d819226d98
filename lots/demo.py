"""``lots demo``: the whole system on the embedded default, fed like a municipal system would.

Referrals are written with plain ``XADD`` fields (exactly what ``redis-cli`` sends), some of
them wrong on purpose, so that the demo shows acceptance, rejection with reasons, a dead letter,
a repeat that changes nothing, and the other services recording their own events. The feed is
:mod:`lots.demo_feed`, what is printed at the end :mod:`lots.demo_summary`.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import redis

from infra.monitor import drained
from infra.months import month_of_date, next_month, previous_month
from infra.redis import client as redis_client
from infra.redis import connect, embedded_url
from infra.settings import SERVICES, Settings
from infra.topology import INTAKE_EVENTS, REFERRALS, dead_letter_stream
from lots.demo_feed import DemoFeed, demo_polare
from lots.demo_feed import personal_number as personal_number  # bench/pipeline.py's import
from lots.demo_summary import inspect_commands, print_summary
from lots.export import export_to
from lots.month import (
    Month,
    book,
    close_and_replay,
    field_work,
    first_business_day,
    hold,
    morning_of,
)
from lots.stores import open_stores
from lots.supervisor import Supervisor, running
from services.billing.app import make_app as make_billing
from services.billing.offline import compute_from_export
from services.billing.tariff_seeds import default_catalogue
from services.intake.app import make_app as make_intake
from services.scheduling.app import make_app as make_scheduling

Entries = list[tuple[str, dict[str, str]]]
PREFIX = "demo."


@dataclass
class _Run:
    """The month the demo lives through, where its stores are, and how long it waits."""

    base: Settings
    month: str
    timeout: float
    echo: Any
    record: Month
    prefix: str = PREFIX
    env: dict[str, str] = field(
        default_factory=lambda: {"LOTS_STREAM_PREFIX": PREFIX, "LOTS_LOG_LEVEL": "ERROR"}
    )

    @property
    def demo_dir(self) -> Path:
        return self.base.var_dir


@dataclass
class _Fed:
    """What the first day published and what intake answered."""

    published: int
    answered: Entries
    dead: Entries
    case_ids: list[UUID]


def stored_event_counts(settings: Settings) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for service, make in zip(SERVICES, (make_intake, make_scheduling, make_billing), strict=True):
        app = make(settings)
        tally: Counter[str] = Counter()
        position = 0
        while True:
            batch = app.recorder.select_notifications(start=position + 1, limit=1000)
            if not batch:
                break
            for n in batch:
                tally[n.topic.rsplit(":", 1)[-1]] += 1
            position = batch[-1].id
        counts[service] = tally
        app.close()
    return counts


def run_demo(
    settings: Settings, *, count: int, timeout: float, echo: Any = print
) -> dict[str, Any]:
    """Live through last month on the embedded default; return the summary."""
    run = _prepare(settings, timeout, echo)
    started = time.monotonic()
    echo(f"Living through {run.month} (the services' clock is simulated)")
    fed = _first_day(run, count)
    _the_weeks(run)
    levels = collect_levels(run.base)
    export_path = run.demo_dir / "export.jsonl"
    export_to(run.base, export_path)
    lines = export_path.read_text(encoding="utf-8").splitlines()
    offline = compute_from_export(lines, run.month, None, default_catalogue())
    elapsed = time.monotonic() - started
    summary = _summary(run, fed, levels, export_path, offline["digest"])
    summary["seconds"] = round(elapsed, 1)
    summary["inspect"] = inspect_commands(
        run.demo_dir, run.prefix, fed.case_ids[0] if fed.case_ids else None
    )
    print_summary(summary, run.record.settlement, echo)
    return summary


def _prepare(settings: Settings, timeout: float, echo: Any) -> _Run:
    """Last month, on new stores under the var directory's ``demo/``."""
    demo_dir = settings.var_dir / "demo"
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    month = previous_month(month_of_date(date.today()))
    base = settings.model_copy(update={"var_dir": demo_dir, "stream_prefix": PREFIX})
    return _Run(base=base, month=month, timeout=timeout, echo=echo, record=Month(month))


def _first_day(run: _Run, count: int) -> _Fed:
    """The month's first business day: roster, referrals, acknowledgements and bookings."""
    opening = first_business_day(run.month)
    run.echo(f"{opening}: roster, referrals, acknowledgements and bookings")
    first = run.base.model_copy(update={"simulated_start": morning_of(opening)})
    with running(
        first, run.env, before_spawn=lambda url: _forget(run.base, url, run.prefix)
    ) as sup:
        # Reading as the operator (on the embedded Redis: its read-only ACL user).
        client = connect(sup.login("operator"), decode_responses=True)
        run.echo(sup.redis_line())
        run.echo(f"stores: SQLite files under {run.demo_dir}/")
        published = _publish(run, sup, DemoFeed(count=count).entries(opening))
        answers = f"{run.prefix}{INTAKE_EVENTS}"
        _wait(client, run.prefix, lambda: client.xlen(answers) >= count, run.timeout)
        answered = cast(Entries, client.xrange(answers))
        dead = cast(Entries, client.xrange(f"{run.prefix}{dead_letter_stream(REFERRALS)}"))
        case_ids = [
            UUID(json.loads(f["data"])["case_id"])
            for _, f in answered
            if f["type"] == "ReferralReceived"
        ]
        book(sup, case_ids, run.record)
        _wait(client, run.prefix, lambda: True, run.timeout)
        client.close()
    return _Fed(published, answered, dead, case_ids)


def _publish(run: _Run, sup: Supervisor, entries: list[dict[str, str]]) -> int:
    """Publishing as any municipal system would: the default user, no password."""
    publisher = redis_client(sup.redis_url)
    pipe = publisher.pipeline(transaction=False)
    for fields in entries:
        pipe.xadd(f"{run.prefix}{REFERRALS}", fields)  # type: ignore[arg-type]
    pipe.execute()
    publisher.close()
    run.echo(f"published {len(entries)} SubmitReferral entries on {REFERRALS} with plain XADD")
    return len(entries)


def _the_weeks(run: _Run) -> None:
    """Each Monday of the month the week's meetings are recorded as held; on the next month's
    first business day also the month is closed and replayed, and the field work recorded."""
    opening = first_business_day(run.month)
    closing = first_business_day(next_month(run.month))
    mondays = [opening + timedelta(days=7 * week) for week in range(1, 5)]
    for day in [d for d in mondays if month_of_date(d) == run.month] + [closing]:
        last = day == closing
        run.echo(
            f"{day}: the week's meetings recorded as held"
            + (f", {run.month} closed and replayed" if last else "")
        )
        moment = morning_of(day)
        with running(run.base.model_copy(update={"simulated_start": moment}), run.env) as sup:
            client = connect(sup.login("operator"), decode_responses=True)
            hold(sup, run.record, until=moment)
            _wait(client, run.prefix, lambda: True, run.timeout)
            if last:
                close_and_replay(sup, run.record)
                field_work(sup, run.record, demo_polare(run.month))
            client.close()


def _summary(
    run: _Run, fed: _Fed, levels: dict[str, int], export_path: Path, offline_digest: str
) -> dict[str, Any]:
    """The summary without its time and commands: what flowed and what the stores hold."""
    counts = stored_event_counts(run.base)
    types = Counter(fields["type"] for _, fields in fed.answered)
    reasons = Counter(  # referrals per reason code (one referral may miss five indicators)
        code
        for _, f in fed.answered
        if f["type"] == "ReferralRejected"
        for code in {r["code"] for r in json.loads(f["data"])["reasons"]}
    )
    record, settlement = run.record, run.record.settlement
    return {
        "month": run.month,
        "published": fed.published,
        "answered": dict(types),
        "rejection_reasons": dict(reasons),
        "dead_letters": [
            {"error": f.get("error"), "attempts": f.get("attempts")} for _, f in fed.dead
        ],
        "acknowledged": record.acknowledged,
        "first_contacts_booked": record.first_contacts,
        "not_booked": record.not_booked,
        "second_conversations": record.second_conversations,
        "meetings_held": record.held,
        "meetings_started_late": record.started_late,
        "meetings_cancelled": record.cancelled,
        "settlement": {
            key: settlement.get(key)
            for key in ("total_ore", "billable_hours", "fees_ore", "net_ore", "digest")
        },
        "replay_matches": record.replay_matches,
        "field_work": record.field_work,
        "offline_digest_matches": offline_digest == settlement.get("digest"),
        "service_levels": levels,
        "stored_events": {s: dict(c) for s, c in counts.items()},
        "export": str(export_path),
    }


def _wait(client: redis.Redis, prefix: str, ready: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready() and drained(client, prefix):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the services did not catch up within {timeout:.0f} s")


def collect_levels(settings: Settings) -> dict[str, int]:
    levels: dict[str, int] = {}
    for _, app in open_stores(settings):
        try:
            levels.update(app.service_levels())
        finally:
            app.close()
    return levels


def _forget(settings: Settings, url: str, prefix: str) -> None:
    """Start from empty streams: the demo's stores are new, so its Redis keys must be too.

    Not needed on the embedded Redis, which keeps its data under the demo's var directory,
    removed above (and whose ACL lets nobody but the admin delete keys)."""
    if url == embedded_url(settings):
        return
    client = connect(settings.model_copy(update={"redis_url": url}))
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()
