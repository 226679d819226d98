"""Redis Sentinel: clients that follow the master the sentinels name.

``LOTS_REDIS_SENTINELS=host:port,host:port,...`` and ``LOTS_REDIS_SENTINEL_MASTER=<name>`` make
:attr:`infra.settings.Settings.redis_address` a ``redis+sentinel://host:port,.../<name>/<db>``
address, which is what the processes hand each other (``lots up`` passes it to its children as
``LOTS_REDIS_URL``, where it is accepted too). Every client of the project is made from it by
:func:`infra.redis.client` / :func:`infra.redis.async_client`: redis-py's
``Sentinel(...).master_for(...)``, whose connection pool asks the sentinels for the master on
every new connection and drops a connection to a master that was demoted. A failover breaks the
connections in use; the loops that use them retry (:mod:`infra.runtime`) on new connections, to
the new master, without a restart.

What the old master had not yet replicated is lost with it. The sentinels' configuration epoch
(raised by every failover) is part of each service's relay epoch, so a failover makes every
service republish its outbox, as after a wipe, and consumers skip what they had done. The first
service to see the epoch rise records the failover (from which master to which, and when) at
``lots:failover`` (:func:`record_failover`), which ``lots status`` shows: the sentinels keep no
such history (docs/operations.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelPool
from redis.sentinel import Sentinel

from infra.calendar import STOCKHOLM

SCHEME = "redis+sentinel"
#: The sentinels' own connections: a sentinel that does not answer within this is skipped.
SENTINEL_TIMEOUTS = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}


@dataclass(frozen=True)
class SentinelAddress:
    """Where the sentinels are, the name of the master they watch, and the database."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0


def parse(url: str) -> SentinelAddress | None:
    """The address of ``redis+sentinel://host:port,host:port/<master>[/<db>]``; None for any
    other URL."""
    parts = urlsplit(url)
    if parts.scheme != SCHEME:
        return None
    sentinels = []
    for host_port in parts.netloc.split(","):
        host, _, port = host_port.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{url}: a sentinel is host:port, not {host_port!r}")
        sentinels.append((host.strip("[]"), int(port)))
    master, _, db = parts.path.strip("/").partition("/")
    if not master:
        raise ValueError(f"{url}: the master's name is missing (…/<master>/<db>)")
    return SentinelAddress(tuple(sentinels), master, int(db) if db.isdigit() else 0)


def master(address: SentinelAddress, **kwargs: Any) -> redis.Redis:
    """A client of the master the sentinels name now and after every failover."""
    manager = Sentinel(  # type: ignore[no-untyped-call]
        address.sentinels, sentinel_kwargs=dict(SENTINEL_TIMEOUTS)
    )
    made = manager.master_for(address.master, db=address.db, **kwargs)  # type: ignore[no-untyped-call]
    return cast(redis.Redis, made)


def async_master(address: SentinelAddress, **kwargs: Any) -> aioredis.Redis:
    """:func:`master` for asyncio."""
    manager = AsyncSentinel(  # type: ignore[no-untyped-call]
        address.sentinels, sentinel_kwargs=dict(SENTINEL_TIMEOUTS)
    )
    return cast(aioredis.Redis, manager.master_for(address.master, db=address.db, **kwargs))


async def failover_epoch(client: aioredis.Redis) -> int | None:
    """The sentinels' configuration epoch of ``client``'s master (it rises with every
    failover); None for a client not made through sentinels or when none answers."""
    state = await failover_state(client)
    return None if state is None else state[0]


async def failover_state(client: aioredis.Redis) -> tuple[int, str] | None:
    """The configuration epoch of ``client``'s master and its ``host:port``, as the first
    sentinel to answer names them (``SENTINEL MASTER``); None without sentinels."""
    pool = client.connection_pool
    if not isinstance(pool, AsyncSentinelPool):
        return None
    manager = pool.sentinel_manager
    for watcher in manager.sentinels:
        try:
            state = await watcher.sentinel_master(pool.service_name)
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError, OSError):
            continue
        if isinstance(state, dict) and "config-epoch" in state:
            return int(state["config-epoch"]), f"{state.get('ip')}:{state.get('port')}"
    return None


async def record_failover(
    client: aioredis.Redis, key: str, epoch: int, before: str, after: str
) -> bool:
    """Record at ``key`` (``lots:failover``) that the master moved from ``before`` to
    ``after`` at ``epoch``, now; False when a record of this failover or a later one is there
    already (every service notices the same failover: the first to write it keeps its time)."""
    found = await client.get(key)
    if found is not None and int(json.loads(found).get("epoch", 0)) >= epoch:
        return False
    record = {"epoch": epoch, "from": before, "to": after, "at": datetime.now(UTC).isoformat()}
    await client.set(key, json.dumps(record))
    return True


def last_failover(client: redis.Redis, key: str) -> dict[str, Any] | None:
    """The failover recorded at ``key`` by :func:`record_failover`; None if none was."""
    found = client.get(key)
    return None if found is None else dict(json.loads(found))


def master_address(client: redis.Redis) -> tuple[str, int] | None:
    """Where the sentinels say ``client``'s master is; None for a client not made through
    sentinels."""
    pool = client.connection_pool
    manager = getattr(pool, "sentinel_manager", None)
    if manager is None:
        return None
    found = manager.discover_master(pool.service_name)  # type: ignore[attr-defined]
    return str(found[0]), int(found[1])


def replication(client: redis.Redis, url: str, failover_key: str | None = None) -> dict[str, Any]:
    """The master (``host:port``; on Sentinel the one the sentinels name) and each replica's
    state and lag, from ``INFO replication`` on the master; for a user that may not run
    ``INFO``, the replicas as the sentinels see them (their offsets, no lag), or None: not
    known. With ``failover_key``, the last failover the services recorded there
    (:func:`record_failover`) and the sentinels' configuration epoch now."""
    named = master_address(client)
    if named is not None:
        master = f"{named[0]}:{named[1]}"
    else:
        parts = urlsplit(url)
        master = f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"
    report: dict[str, Any] = {"master": master, "sentinel": named is not None, "replicas": []}
    report["failover_epoch"] = _config_epoch(client)
    report["last_failover"] = report["failover_unreadable"] = None
    try:
        if failover_key is not None:
            report["last_failover"] = last_failover(client, failover_key)
    except redis.exceptions.NoPermissionError:  # an ACL rendered before the key existed
        report["failover_unreadable"] = True
    try:
        info = client.info("replication")
    except redis.exceptions.NoPermissionError:
        report["replicas"] = _seen_by_sentinels(client)
        return report
    offset = int(info.get("master_repl_offset", 0))
    report["role"] = info.get("role")
    for key in sorted(k for k in info if k.startswith("slave") and isinstance(info[k], dict)):
        replica = info[key]
        report["replicas"].append(
            {
                "address": f"{replica.get('ip')}:{replica.get('port')}",
                "state": replica.get("state"),
                "lag_bytes": max(0, offset - int(replica.get("offset", 0))),
                "lag_seconds": int(replica.get("lag", 0)),
            }
        )
    return report


def _config_epoch(client: redis.Redis) -> int | None:
    """The configuration epoch the first sentinel to answer gives the master; None without."""
    pool = client.connection_pool
    manager = getattr(pool, "sentinel_manager", None)
    if manager is None:
        return None
    for watcher in manager.sentinels:
        try:
            state = watcher.sentinel_master(pool.service_name)  # type: ignore[attr-defined]
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError, OSError):
            continue
        return int(state["config-epoch"]) if "config-epoch" in state else None
    return None


def _seen_by_sentinels(client: redis.Redis) -> list[dict[str, Any]] | None:
    """The replicas the first sentinel to answer knows; None without sentinels."""
    pool = client.connection_pool
    manager = getattr(pool, "sentinel_manager", None)
    if manager is None:
        return None
    for watcher in manager.sentinels:
        try:
            replicas = watcher.sentinel_slaves(pool.service_name)  # type: ignore[attr-defined]
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError, OSError):
            continue
        return [
            {
                "address": f"{r.get('ip')}:{r.get('port')}",
                "state": r.get("master-link-status"),
                "offset": r.get("slave-repl-offset"),
                "lag_bytes": None,
                "lag_seconds": None,
            }
            for r in replicas
        ]
    return None


def replication_lines(found: dict[str, Any] | None) -> list[str]:
    """:func:`replication` in words for ``lots status``: ``redis master host:port``, then a
    line per replica with its lag."""
    if found is None:
        return []
    lines = [
        f"redis master {found['master']}" + (" (named by sentinel)" if found["sentinel"] else "")
    ]
    if found["replicas"] is None:
        return [*lines, "  replicas not known: this Redis user may not run INFO"]
    for r in found["replicas"]:
        lag = (
            f"{r['lag_bytes']} bytes, {r['lag_seconds']} s behind"
            if r["lag_bytes"] is not None
            else f"offset {r.get('offset')}, lag not known (INFO refused)"
        )
        lines.append(f"  replica {r['address']} {r['state']}: {lag}")
    if not found["replicas"]:
        lines.append("  no replica known")
    return [*lines, *failover_lines(found)]


def failover_lines(found: dict[str, Any]) -> list[str]:
    """The last failover in words, its time in Stockholm time; or that none was recorded."""
    last, epoch = found.get("last_failover"), found.get("failover_epoch")
    if last is not None:
        at = datetime.fromisoformat(last["at"]).astimezone(STOCKHOLM)
        line = (
            f"  last failover {at:%Y-%m-%d %H:%M:%S} Stockholm time ({at:%Z}): "
            f"from {last['from']} to {last['to']} (epoch {last['epoch']})"
        )
        if epoch is not None and epoch > int(last["epoch"]):
            line += f"; the sentinels are at epoch {epoch}: a later one was not recorded"
        return [line]
    if found.get("failover_unreadable"):
        return ["  last failover not known: this Redis user may not read it (docs/redis-acl.md)"]
    if not found.get("sentinel"):
        return []
    return [f"  no failover recorded (the sentinels' epoch is {epoch})"]
