"""``lots demo``: the whole system on the embedded default, fed like a municipal system would.

Referrals are written with plain ``XADD`` fields (exactly what ``redis-cli`` sends), some of
them wrong on purpose, so that the demo shows acceptance, rejection with reasons, a dead letter,
a repeat that changes nothing, and the other services recording their own events.
"""

from __future__ import annotations

import json
import random
import shutil
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

import redis

from infra.monitor import drained
from infra.settings import SERVICES, Settings
from infra.topology import INTAKE_EVENTS, REFERRALS, dead_letter_stream
from lots.supervisor import running
from services.billing.app import make_app as make_billing
from services.intake.app import make_app as make_intake
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
            body["indicators"] = rng.sample(
                [
                    "several_members_need_support",
                    "uncoordinated_actors",
                    "extraordinary_support_needs",
                    "economic_vulnerability",
                    "risk_not_qualifying_upper_secondary",
                ],
                rng.randint(1, 3),
            )
        return body

    def entries(self, today: date) -> list[dict[str, str]]:
        out = []
        for n in range(self.count):
            body = self.referral(n, today)
            if n % 20 == 7:  # a coordinated referral without consent: rejected with a reason
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
    demo_dir = settings.var_dir / "demo"
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    prefix = "demo."
    settings = settings.model_copy(update={"var_dir": demo_dir, "stream_prefix": prefix})
    feed = DemoFeed(count=count)
    env = {"LOTS_STREAM_PREFIX": prefix, "LOTS_LOG_LEVEL": "WARNING"}
    with running(settings, env, before_spawn=lambda url: _forget(url, prefix)) as sup:
        client = redis.Redis.from_url(sup.redis_url, decode_responses=True)
        echo(f"Redis: {'embedded, started by lots' if sup.embedded else sup.redis_url}")
        echo(f"stores: SQLite files under {demo_dir}/")
        entries = feed.entries(date.today())
        started = time.monotonic()
        pipe = client.pipeline(transaction=False)
        for fields in entries:
            pipe.xadd(f"{prefix}{REFERRALS}", fields)  # type: ignore[arg-type]
        pipe.execute()
        echo(f"published {len(entries)} SubmitReferral entries on {REFERRALS} with plain XADD")
        answers = count  # every distinct, readable referral is answered once
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if client.xlen(f"{prefix}{INTAKE_EVENTS}") >= answers and drained(client, prefix):
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        answered = cast(Entries, client.xrange(f"{prefix}{INTAKE_EVENTS}"))
        dead = cast(Entries, client.xrange(f"{prefix}{dead_letter_stream(REFERRALS)}"))
        client.close()
    counts = stored_event_counts(settings)
    types = Counter(fields["type"] for _, fields in answered)
    reasons = Counter(
        r["code"]
        for _, f in answered
        if f["type"] == "ReferralRejected"
        for r in json.loads(f["data"])["reasons"]
    )
    summary: dict[str, Any] = {
        "published": len(entries),
        "answered": dict(types),
        "rejection_reasons": dict(reasons),
        "dead_letters": [{"error": f.get("error"), "attempts": f.get("attempts")} for _, f in dead],
        "stored_events": {s: dict(c) for s, c in counts.items()},
        "seconds": round(elapsed, 2),
    }
    echo(
        f"answered on {INTAKE_EVENTS} in {elapsed:.1f} s: "
        + ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
    )
    if reasons:
        echo("rejection reasons: " + ", ".join(f"{c} x{n}" for c, n in sorted(reasons.items())))
    for letter in summary["dead_letters"]:
        echo(f"dead letter on {REFERRALS}.dead: {letter['error']}")
    for service, tally in counts.items():
        echo(
            f"{service} store: "
            + (", ".join(f"{n} {t}" for t, n in sorted(tally.items())) or "empty")
        )
    return summary


def _forget(url: str, prefix: str) -> None:
    """Start from empty streams: the demo's stores are new, so its Redis keys must be too."""
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()
