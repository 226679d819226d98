"""``lots demo``: the whole system on the embedded default, fed like a municipal system would.

Referrals are written with plain ``XADD`` fields (exactly what ``redis-cli`` sends), some of
them wrong on purpose, so that the demo shows acceptance, rejection with reasons, a dead letter,
a repeat that changes nothing, and the other services recording their own events.
"""

from __future__ import annotations

import json
import random
import shlex
import shutil
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import redis

from infra.money import kronor
from infra.monitor import drained
from infra.months import month_of_date, next_month, previous_month
from infra.redis import client as redis_client
from infra.redis import connect, embedded_url
from infra.settings import SERVICES, Settings
from infra.topology import INTAKE_EVENTS, REFERRALS, dead_letter_stream
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
from lots.supervisor import running
from services.billing.app import make_app as make_billing
from services.billing.offline import compute_from_export
from services.billing.tariff_seeds import default_catalogue
from services.intake.app import make_app as make_intake
from services.intake.coordinated import INDICATOR_TEXTS
from services.scheduling.app import make_app as make_scheduling

Entries = list[tuple[str, dict[str, str]]]
SOURCES = ("linkoping.elevhalsa", "linkoping.socialtjanst", "region.ostergotland.bup")


def luhn_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def personal_number(born: date, rng: random.Random) -> str:
    serial = f"{rng.randint(1, 999):03d}"
    short = born.strftime("%y%m%d") + serial
    return born.strftime("%Y%m%d") + serial + luhn_digit(short)


def demo_polare(month: str) -> list[dict[str, Any]]:
    """Three youths who walk at night with the field workers (fictitious, valid numbers),
    14 to 17 years old in ``month``."""
    rng = random.Random(4)
    year = int(month[:4])
    births = (date(year - 17, 4, 12), date(year - 16, 11, 3), date(year - 15, 6, 21))
    names = ("Alva Nattvandrare", "Theo Nattvandrare", "Maja Nattvandrare")
    return [
        {"personal_number": personal_number(born, rng), "name": name, "years_before": n % 2}
        for n, (born, name) in enumerate(zip(births, names, strict=True))
    ]


@dataclass
class DemoFeed:
    """A month of referrals from three sources, deterministic for a given seed."""

    seed: int = 2026
    count: int = 60
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def referral(self, n: int, on: date) -> dict[str, Any]:
        rng = self.rng
        programme = rng.choices(["network", "coordinated", "counselling"], [5, 2, 3])[0]
        child_age = rng.randint(6, 16) if programme == "coordinated" else rng.randint(1, 19)
        child_born = on - timedelta(days=365 * child_age + rng.randint(1, 300))
        persons = []
        if programme != "counselling":
            persons.append(
                {
                    "role": "child",
                    "personal_number": personal_number(child_born, rng),
                    "municipality_code": "0580",
                }
            )
        adult_role = "partner" if programme == "counselling" else "guardian"
        for _ in range(2 if programme == "counselling" else 1):
            adult_born = on - timedelta(days=365 * rng.randint(25, 55))
            persons.append(
                {
                    "role": adult_role,
                    "personal_number": personal_number(adult_born, rng),
                    "municipality_code": "0580",
                }
            )
        if programme == "counselling":
            persons.insert(
                0,
                {
                    "role": "child",
                    "personal_number": personal_number(child_born, rng),
                    "municipality_code": "0580",
                },
            )
        basis = "decision" if programme == "network" and rng.random() < 0.3 else "service"
        body: dict[str, Any] = {
            "source": rng.choice(SOURCES),
            "referral_id": f"DEMO-{on:%Y%m}-{n:05d}",
            "programme": programme,
            "basis": basis,
            "urgency": "acute" if rng.random() < 0.1 else "normal",
            "submitted_at": datetime(on.year, on.month, on.day, 9, 0).astimezone().isoformat(),
            "persons": persons,
        }
        if basis == "decision":
            body["decision_ref"] = f"BESLUT-{n:05d}"
        if programme == "coordinated":
            body["consent"] = {
                "given": True,
                "form_ref": f"SAMTYCKE-{n}",
                "given_at": on.isoformat(),
            }
            # The indicators "skall vara uppfyllda" (002 §1): a family the team takes meets
            # all five (services/intake/eligibility.py).
            body["indicators"] = list(INDICATOR_TEXTS)
        return body

    def entries(self, today: date) -> list[dict[str, str]]:
        out = []
        for n in range(self.count):
            body = self.referral(n, today)
            if n % 20 == 7:  # a coordinated referral without consent: rejected with reasons
                body.update(programme="coordinated", consent={"given": False}, indicators=[])
            out.append(_fields(body))
        out.append(dict(out[0]))  # the same referral sent twice: one case
        out.append(
            {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()), "data": "{not json"}
        )  # unreadable: a dead letter
        return out


def _fields(body: dict[str, Any]) -> dict[str, str]:
    return {
        "type": "SubmitReferral",
        "version": "1",
        "id": str(uuid.uuid4()),
        "data": json.dumps(body, ensure_ascii=False),
    }


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
    demo_dir = settings.var_dir / "demo"
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    prefix = "demo."
    month = previous_month(month_of_date(date.today()))
    opening = first_business_day(month)
    base = settings.model_copy(update={"var_dir": demo_dir, "stream_prefix": prefix})
    env = {"LOTS_STREAM_PREFIX": prefix, "LOTS_LOG_LEVEL": "ERROR"}
    record = Month(month)
    started = time.monotonic()

    echo(f"Living through {month} (the services' clock is simulated)")
    echo(f"{opening}: roster, referrals, acknowledgements and bookings")
    first = base.model_copy(update={"simulated_start": morning_of(opening)})
    with running(first, env, before_spawn=lambda url: _forget(base, url, prefix)) as sup:
        # Reading as the operator (on the embedded Redis: its read-only ACL user).
        client = connect(sup.login("operator"), decode_responses=True)
        echo(sup.redis_line())
        echo(f"stores: SQLite files under {demo_dir}/")
        entries = DemoFeed(count=count).entries(opening)
        # Publishing as any municipal system would: the default user, no password.
        publisher = redis_client(sup.redis_url)
        pipe = publisher.pipeline(transaction=False)
        for fields in entries:
            pipe.xadd(f"{prefix}{REFERRALS}", fields)  # type: ignore[arg-type]
        pipe.execute()
        publisher.close()
        echo(f"published {len(entries)} SubmitReferral entries on {REFERRALS} with plain XADD")
        _wait(client, prefix, lambda: client.xlen(f"{prefix}{INTAKE_EVENTS}") >= count, timeout)
        answered = cast(Entries, client.xrange(f"{prefix}{INTAKE_EVENTS}"))
        dead = cast(Entries, client.xrange(f"{prefix}{dead_letter_stream(REFERRALS)}"))
        case_ids = [
            UUID(json.loads(f["data"])["case_id"])
            for _, f in answered
            if f["type"] == "ReferralReceived"
        ]
        book(sup, case_ids, record)
        _wait(client, prefix, lambda: True, timeout)
        client.close()

    closing = first_business_day(next_month(month))
    mondays = [opening + timedelta(days=7 * week) for week in range(1, 5)]
    for day in [d for d in mondays if month_of_date(d) == month] + [closing]:
        last = day == closing
        echo(
            f"{day}: the week's meetings recorded as held"
            + (f", {month} closed and replayed" if last else "")
        )
        moment = morning_of(day)
        with running(base.model_copy(update={"simulated_start": moment}), env) as sup:
            client = connect(sup.login("operator"), decode_responses=True)
            hold(sup, record, until=moment)
            _wait(client, prefix, lambda: True, timeout)
            if last:
                close_and_replay(sup, record)
                field_work(sup, record, demo_polare(month))
            client.close()
    levels = collect_levels(base)

    export_path = demo_dir / "export.jsonl"
    export_to(base, export_path)
    lines = export_path.read_text(encoding="utf-8").splitlines()
    offline = compute_from_export(lines, month, None, default_catalogue())
    elapsed = time.monotonic() - started

    counts = stored_event_counts(base)
    types = Counter(fields["type"] for _, fields in answered)
    reasons = Counter(  # referrals per reason code (one referral may miss five indicators)
        code
        for _, f in answered
        if f["type"] == "ReferralRejected"
        for code in {r["code"] for r in json.loads(f["data"])["reasons"]}
    )
    settlement = record.settlement
    summary: dict[str, Any] = {
        "month": month,
        "published": len(entries),
        "answered": dict(types),
        "rejection_reasons": dict(reasons),
        "dead_letters": [{"error": f.get("error"), "attempts": f.get("attempts")} for _, f in dead],
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
        "offline_digest_matches": offline["digest"] == settlement.get("digest"),
        "service_levels": levels,
        "stored_events": {s: dict(c) for s, c in counts.items()},
        "export": str(export_path),
        "seconds": round(elapsed, 1),
        "inspect": inspect_commands(demo_dir, prefix, case_ids[0] if case_ids else None),
    }
    _print(summary, settlement, echo)
    return summary


def _print(summary: dict[str, Any], settlement: dict[str, Any], echo: Any) -> None:
    answered = summary["answered"]
    echo(
        f"answered on {INTAKE_EVENTS}: "
        + ", ".join(f"{n} {t}" for t, n in sorted(answered.items()))
    )
    if summary["rejection_reasons"]:
        echo(
            "referrals rejected, by reason: "
            + ", ".join(f"{c} {n}" for c, n in sorted(summary["rejection_reasons"].items()))
        )
    for letter in summary["dead_letters"]:
        echo(f"dead letter on {REFERRALS}.dead: {letter['error']}")
    echo(
        f"acknowledged {summary['acknowledged']}; first contacts booked "
        f"{summary['first_contacts_booked']}"
        + (f" (not booked: {summary['not_booked']})" if summary["not_booked"] else "")
        + f"; second conversations {summary['second_conversations']}"
    )
    echo(
        f"meetings held {summary['meetings_held']} ({summary['meetings_started_late']} started "
        f"late, after a longer meeting of the same staff), cancelled "
        f"{summary['meetings_cancelled']}"
    )
    lines = settlement.get("lines", [])
    for line in lines:
        echo(f"  {line['programme']:<22} {line['kind']:<10} {kronor(line['amount_ore']):>16}")
    echo(
        f"settlement {summary['month']}: total {kronor(settlement.get('total_ore', 0))}, "
        f"counselling hours {settlement.get('billable_hours')}, "
        f"fees {kronor(settlement.get('fees_ore', 0))}, net {kronor(settlement.get('net_ore', 0))}"
    )
    echo(f"digest {settlement.get('digest')}")
    echo(
        f"replayed from billing's log: {'same' if summary['replay_matches'] else 'DIFFERENT'}; "
        f"recomputed offline from {summary['export']}: "
        f"{'same digest' if summary['offline_digest_matches'] else 'DIFFERENT'}"
    )
    echo(
        "service levels: "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary["service_levels"].items()))
    )
    work = summary["field_work"]
    if work:
        echo(
            f"field work: {work['polare']} polare, {work['night_walks']} night walks, "
            f"{work['youths_met']} young people met, {work['youths_talked_with']} talked with, "
            f"polare fees {kronor(work['polare_fees_ore'])} (the provider's cost), "
            f"{work['area_deployments']} area deployment"
        )
    for service, tally in summary["stored_events"].items():
        echo(f"{service} store: {sum(tally.values())} events")
    echo(f"done in {summary['seconds']} s")
    echo(
        "Inspect the demo's stores (its services and Redis have stopped, so `lots status` "
        "says they are down and shows what the stores hold):"
    )
    for command in summary["inspect"]:
        echo(f"  {command}")


def inspect_commands(demo_dir: Path, prefix: str, case_id: UUID | None) -> list[str]:
    """The commands that read the demo's stores: the demo's var directory and stream prefix
    given as the settings they are (``LOTS_VAR_DIR``, ``LOTS_STREAM_PREFIX``)."""
    where = f"LOTS_VAR_DIR={shlex.quote(str(demo_dir))}"
    commands = [
        f"{where} LOTS_STREAM_PREFIX={shlex.quote(prefix)} lots status",
        f"{where} lots audit verify",
    ]
    if case_id is not None:
        commands.append(f"{where} lots audit case {case_id} --reason 'looking at the demo'")
    return commands


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
