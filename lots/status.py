"""``lots status``: is each service up and keeping up, and are the service levels met.

Read from the places that know: each service's health routes, each store (events stored, the
outbox's backlog, the service-level figures) and Redis (stream lengths, consumer lag, pending
entries and their age, dead letters). A store that cannot be read is reported with the event
that fails, not with a traceback.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import httpx
import redis

from infra.application import ServiceApplication
from infra.integrity import first_unreadable, verify
from infra.monitor import stream_report
from infra.redis import (
    RedisUnavailable,
    auth,
    chosen_url,
    connect,
    embedded_url,
    external,
    reachable,
    where,
)
from infra.redis_guard import FIX, inspect
from infra.redis_passwords import login
from infra.sentinel import replication
from infra.settings import SERVICES, ServiceName, Settings
from infra.topology import PUBLISHES
from lots.stores import open_reader, open_store

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
    """The Redis the services use: the one ``LOTS_REDIS_URL`` names, else the embedded one if
    it runs (never another one that happens to answer)."""
    if external(settings):
        named = chosen_url(settings)  # on Sentinel: its address, the master the sentinels name
        if reachable(named, **auth(settings)):
            return named
        raise RedisUnavailable(f"Redis at {where(named)} does not answer")
    embedded = embedded_url(settings)
    if settings.embedded_allowed() and reachable(embedded):
        return embedded
    raise RedisUnavailable(f"the embedded Redis ({embedded}) does not run")


def _figures(app: ServiceApplication, service: ServiceName) -> dict[str, Any]:
    position = app.store.relay_position(PUBLISHES[service])
    return {
        "events_stored": app.recorder.max_notification_id() or 0,
        "outbox_backlog": app.outbox_backlog(position),
        "damaged": None,
    }


def _read_store(
    settings: Settings, service: ServiceName
) -> tuple[dict[str, Any], dict[str, int], list[dict[str, str]]]:
    """The store's figures, the service levels and the notices, read from the service's store."""
    app = open_store(settings, service)
    try:
        return _figures(app, service), app.service_levels(), app.notices()
    finally:
        app.close()


def _damaged(settings: Settings, service: ServiceName, error: Exception) -> dict[str, Any]:
    """The store's figures naming the event that cannot be read, or where its chain breaks
    (``lots audit verify``'s check); ``error`` raised again when the store is sound."""
    app = open_reader(settings, service)
    try:
        damage: dict[str, Any]
        unreadable = first_unreadable(app.store, app.mapper)
        if unreadable is not None:
            damage = asdict(unreadable) | {"problem": "the event cannot be read"}
        else:
            verdict = verify(app.store)
            if verdict.intact:
                raise error
            damage = {"position": verdict.broken_at, "problem": verdict.problem}
        return _figures(app, service) | {"damaged": damage}
    finally:
        app.close()


def _damage_problem(service: str, damage: dict[str, Any]) -> str:
    event = f"event {damage['position']}"
    if "topic" in damage:
        event += f" ({damage['topic']} of {damage['aggregate']}, version {damage['version']})"
    return f"{service}'s store is damaged at {event}: {damage['problem']}; see lots audit verify"


def collect(settings: Settings) -> dict[str, Any]:
    services, levels, notices = _services(settings)
    report: dict[str, Any] = {"services": services, "service_levels": levels, "notices": notices}
    refused = _read_redis(settings, report)
    report.setdefault("dead_letters", dead_letters(settings, None))
    report["problems"] = _problems(settings, report, refused)
    report["breaches"] = _breaches(levels)
    report["healthy"] = not report["problems"]
    return report


def _services(
    settings: Settings,
) -> tuple[dict[str, Any], dict[str, int], list[dict[str, str]]]:
    """Each service's health and store figures, the service levels and the notices."""
    services: dict[str, Any] = {}
    levels: dict[str, int] = {}
    notices: list[dict[str, str]] = []
    for service in SERVICES:
        live, ready, failing = _probe(f"http://{settings.http_host}:{settings.port_of(service)}")
        try:
            figures, service_levels, service_notices = _read_store(settings, service)
        except Exception as exc:  # reported if the store is damaged, else raised again
            figures, service_levels, service_notices = _damaged(settings, service, exc), {}, []
        services[service] = {"up": live, "ready": ready, "failing": failing, **figures}
        levels.update(service_levels)
        notices += [{"service": service, **n} for n in service_notices]
    return services, levels, notices


def _read_redis(settings: Settings, report: dict[str, Any]) -> str | None:
    """Streams, dead letters, replication and the ACL into ``report``, read as the operator;
    why Redis refused the operator's login, if it did."""
    refused = None
    report["redis_refused"] = None  # why Redis refused the operator's login, if it did
    report["redis_acl"] = None  # not known: Redis did not answer
    report["redis_replication"] = None
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
            report["dead_letters"] = dead_letters(settings, client)
            report["redis_replication"] = replication(client, url, settings.key("failover"))
        finally:
            client.close()
        report["redis"] = True
        report["redis_acl"] = _redis_acl(operator, url, report["notices"])
    except (redis.AuthenticationError, redis.exceptions.NoPermissionError) as exc:
        refused = report["redis_refused"] = str(exc)
        report["streams"] = []
        report["redis"] = False
    except (RedisUnavailable, redis.RedisError):
        report["streams"] = []
        report["redis"] = False
    return refused


def _problems(settings: Settings, report: dict[str, Any], refused: str | None) -> list[str]:
    """What makes the system unhealthy, in words."""
    services: dict[str, Any] = report["services"]
    problems = [_damage_problem(s, v["damaged"]) for s, v in services.items() if v["damaged"]]
    problems += [f"{s} is down" for s, v in services.items() if not v["up"]]
    problems += [f"{s} is not ready" for s, v in services.items() if v["up"] and not v["ready"]]
    problems += [
        f"{s}'s {loop} loop is failing: {detail.get('error', '?')}"
        for s, v in services.items()
        for loop, detail in v["failing"].items()
    ]
    if "unreadable" in report["dead_letters"]:
        problems.append(
            "the record of actions on dead letters cannot be read: "
            f"{report['dead_letters']['unreadable']}"
        )
    if refused is not None:
        problems.append(f"Redis refuses this user ({refused}): see docs/redis-acl.md")
    elif not report["redis"]:
        problems.append("Redis does not answer")
    return problems + _stream_problems(settings, report)


def _stream_problems(settings: Settings, report: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for row in report["streams"]:
        if not row.get("exists"):
            problems.append(f"group {row['group']} on {row['stream']} is missing")
        elif opened := _open(report["dead_letters"], row):
            problems.append(f"{opened} dead letters on {row['stream']}.dead")
        if row.get("stuck"):
            problems.append(
                f"{row['stuck']} entries of {row['stream']} delivered more than "
                f"{settings.max_deliveries} times to {row['group']} and not dead-lettered: "
                "its consumer fails before it can (see its log)"
            )
    return problems


def _breaches(levels: dict[str, int]) -> dict[str, int]:
    """The service levels breached: those of :data:`BREACHES` above zero, and the counselling
    cap when it is fully used."""
    breaches = {k: v for k, v in levels.items() if k in BREACHES and v}
    if levels.get("counselling_cap_used_percent", 0) >= 100:
        breaches["counselling_cap_used_percent"] = levels["counselling_cap_used_percent"]
    return breaches


def dead_letters(settings: Settings, client: redis.Redis | None) -> dict[str, Any]:
    """Dead letters per stream, open and in all (none known without Redis), and the latest
    actions on them, from the ``deadletters`` store (``lots dead-letters``)."""
    from infra.dead_letter_log import report
    from infra.dead_letters import consumed_streams, read

    streams = consumed_streams(settings)
    letters = [] if client is None else read(client, settings.stream_prefix, streams)
    return report(settings, letters)


def _open(dead: dict[str, Any], row: dict[str, Any]) -> int:
    """The stream's open dead letters: those nobody has retried or marked handled."""
    counts = dead["streams"].get(f"{row['stream']}.dead")
    return int(counts["open"]) if counts else 0


def _redis_acl(settings: Settings, url: str, notices: list[dict[str, str]]) -> dict[str, Any]:
    """Whether the project's ACL guards Redis (:mod:`infra.redis_guard`); a warning if not."""
    guard = inspect(settings, url)
    problem = guard.problem()
    if problem is not None:
        notices.append(
            {"service": "redis", "level": "warning", "code": "redis_unguarded",
             "message": f"{problem}: {FIX}"}
        )  # fmt: skip
    return {"guarded": guard.guarded, "open": guard.open, "warning": problem}
