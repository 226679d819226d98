"""``lots status``: is each service up and keeping up, and are the service levels met.

Read from the places that know: each service's health routes, each store (events stored, the
outbox's backlog, the service-level figures) and Redis (stream lengths, consumer lag, pending
entries and their age, dead letters).
"""

from __future__ import annotations

from typing import Any

import httpx
import redis

from infra.monitor import stream_report
from infra.redis import RedisUnavailable, auth, connect, embedded_url, login, reachable
from infra.redis_guard import inspect
from infra.settings import SERVICES, Settings
from infra.topology import PUBLISHES
from lots.stores import open_store

#: Service-level figures that are breaches when above zero.
BREACHES = frozenset(
    {"acknowledgements_past_due", "first_contacts_overdue", "wait_time_reports_open"}
)


def _probe(url: str) -> tuple[bool, bool, dict[str, Any]]:
    """Whether the service is live and ready, and the loops it says are failing."""
    try:
        live = httpx.get(f"{url}/health/live", timeout=1).status_code == 200
        answer = httpx.get(f"{url}/health/ready", timeout=2)
    except httpx.HTTPError:
        return False, False, {}
    try:
        failing = answer.json().get("failing") or {}
    except ValueError:
        failing = {}
    return live, answer.status_code == 200, failing if isinstance(failing, dict) else {}


def redis_url(settings: Settings) -> str:
    """The Redis the services use: the configured one, else the embedded one if it runs."""
    if reachable(settings.redis_url, **auth(settings)):
        return settings.redis_url
    embedded = embedded_url(settings)
    if settings.embedded_allowed() and reachable(embedded):
        return embedded
    raise RedisUnavailable(f"Redis at {settings.redis_url} does not answer")


def collect(settings: Settings) -> dict[str, Any]:
    services: dict[str, Any] = {}
    levels: dict[str, int] = {}
    notices: list[dict[str, str]] = []
    for service in SERVICES:
        live, ready, failing = _probe(f"http://{settings.http_host}:{settings.port_of(service)}")
        app = open_store(settings, service)
        try:
            position = app.store.relay_position(PUBLISHES[service])
            services[service] = {
                "up": live,
                "ready": ready,
                "events_stored": app.recorder.max_notification_id() or 0,
                "outbox_backlog": app.outbox_backlog(position),
                "failing": failing,
            }
            levels.update(app.service_levels())
            notices += [{"service": service, **n} for n in app.notices()]
        finally:
            app.close()
    report: dict[str, Any] = {"services": services, "service_levels": levels, "notices": notices}
    refused = None
    report["redis_acl"] = None  # not known: Redis did not answer
    try:  # as the operator (read-only) on the embedded Redis, else as configured
        url = redis_url(settings)
        operator = login(settings, url, "operator")
        client = connect(operator, decode_responses=True)
        try:
            report["streams"] = stream_report(
                client,
                settings.stream_prefix,
                settings.max_deliveries,
                sources=settings.intake_sources,
            )
        finally:
            client.close()
        report["redis"] = True
        report["redis_acl"] = _redis_acl(operator, url, notices)
    except (redis.AuthenticationError, redis.exceptions.NoPermissionError) as exc:
        refused = str(exc)
        report["streams"] = []
        report["redis"] = False
    except (RedisUnavailable, redis.RedisError):
        report["streams"] = []
        report["redis"] = False
    problems = [f"{s} is down" for s, v in services.items() if not v["up"]]
    problems += [f"{s} is not ready" for s, v in services.items() if v["up"] and not v["ready"]]
    problems += [
        f"{s}'s {loop} loop is failing: {detail.get('error', '?')}"
        for s, v in services.items()
        for loop, detail in v["failing"].items()
    ]
    if refused is not None:
        problems.append(f"Redis refuses this user ({refused}): see docs/redis-acl.md")
    elif not report["redis"]:
        problems.append("Redis does not answer")
    for row in report["streams"]:
        if not row.get("exists"):
            problems.append(f"group {row['group']} on {row['stream']} is missing")
        elif row["dead_letters"]:
            problems.append(f"{row['dead_letters']} dead letters on {row['stream']}.dead")
        if row.get("stuck"):
            problems.append(
                f"{row['stuck']} entries of {row['stream']} delivered more than "
                f"{settings.max_deliveries} times to {row['group']} and not dead-lettered: "
                "its consumer fails before it can (see its log)"
            )
    breaches = {k: v for k, v in levels.items() if k in BREACHES and v}
    if levels.get("counselling_cap_used_percent", 0) >= 100:
        breaches["counselling_cap_used_percent"] = levels["counselling_cap_used_percent"]
    report["problems"] = problems
    report["breaches"] = breaches
    report["healthy"] = not problems
    return report


def _redis_acl(settings: Settings, url: str, notices: list[dict[str, str]]) -> dict[str, Any]:
    """Whether the project's ACL guards Redis (:mod:`infra.redis_guard`); a warning if not."""
    guard = inspect(settings, url)
    problem = guard.problem()
    if problem is not None:
        notices.append({"service": "redis", "level": "warning", "message": problem})
    return {"guarded": guard.guarded, "open": guard.open, "warning": problem}


def render(report: dict[str, Any]) -> list[str]:
    lines = [f"{'service':<11} {'up':<4} {'ready':<6} {'events':>8} {'outbox':>7}"]
    for name, s in report["services"].items():
        lines.append(
            f"{name:<11} {'yes' if s['up'] else 'NO':<4} {'yes' if s['ready'] else 'NO':<6} "
            f"{s['events_stored']:>8} {s['outbox_backlog']:>7}"
        )
    lines.append("")
    width = max([20, *(len(r["stream"]) for r in report["streams"])])  # sources' own are long
    lines.append(
        f"{'stream':<{width}} {'group':<11} {'length':>7} {'lag':>6} {'pending':>8} "
        f"{'oldest':>8} {'dead':>5}"
    )
    for r in report["streams"]:
        if not r.get("exists"):
            lines.append(f"{r['stream']:<{width}} {r['group']:<11} missing")
            continue
        oldest = f"{r['oldest_pending_ms'] / 1000:.0f}s" if r["oldest_pending_ms"] else "-"
        lines.append(
            f"{r['stream']:<{width}} {r['group']:<11} {r['length']:>7} {r['lag']:>6} "
            f"{r['pending']:>8} {oldest:>8} {r['dead_letters']:>5}"
        )
    lines.append("")
    lines.append(
        "service levels: "
        + (
            ", ".join(f"{k} {v}" for k, v in sorted(report["service_levels"].items()))
            or "none reported"
        )
    )
    for notice in report.get("notices", []):
        lines.append(f"{notice['level'].upper()}: {notice['message']}")
    lines.append("healthy" if report["healthy"] else "UNHEALTHY: " + "; ".join(report["problems"]))
    return lines
