"""The scale-out benchmark: the pipeline on PostgreSQL with one, then two processes per service.

Several machines share one PostgreSQL (issue 19): each service's processes share its schema,
billing's take turns through an advisory lock (infra/turns.py), and every process is its own
consumer in its service's group. Both runs live through the same month, with the same referrals
(the same ids, persons and meetings held), each in schemas of its own (``bench_<run>_``, dropped
afterwards) and on streams of its own; both must settle the month to the same digest (the bench
fails otherwise), and both report their throughput as the pipeline does (:mod:`bench.pipeline`).

PostgreSQL is the one of ``LOTS_POSTGRES_HOST``/``_PORT``/``_USER``/``_PASSWORD`` (default
127.0.0.1:5432, user ``postgres`` or ``PGUSER``), database ``LOTS_POSTGRES_DBNAME`` (default
``test``). When it does not answer, the part is skipped, and the table says so in a line.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from bench.pipeline import run_pipeline
from infra.settings import Settings
from infra.store import postgres_conninfo


def postgres(settings: Settings) -> dict[str, Any]:
    """The store settings of the runs (a schema prefix is added per run)."""
    return {
        "store": "postgres",
        "postgres_host": settings.postgres_host,
        "postgres_port": settings.postgres_port,
        "postgres_user": os.environ.get("LOTS_POSTGRES_USER") or os.environ.get("PGUSER")
        or "postgres",
        "postgres_password": settings.postgres_password,
        "postgres_dbname": os.environ.get("LOTS_POSTGRES_DBNAME", "test"),
    }  # fmt: skip


def unavailable(store: dict[str, Any]) -> str | None:
    """Why PostgreSQL cannot be used, in a line; None when it answers."""
    where = f"{store['postgres_host']}:{store['postgres_port']} (db {store['postgres_dbname']})"
    try:
        with psycopg.connect(_conninfo(store), connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL at {where} does not answer: {reason}"


def _conninfo(store: dict[str, Any]) -> str:
    return postgres_conninfo(Settings(**store))


def drop_schemas(store: dict[str, Any], prefix: str) -> None:
    with psycopg.connect(_conninfo(store), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,)
        ).fetchall()
        for (name,) in rows:
            conn.execute(SQL("DROP SCHEMA {} CASCADE").format(Identifier(name)))


def run(
    redis_url: str,
    count: int,
    work: Path,
    *,
    settings: Settings | None = None,
    profile: Path | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """One, then two processes per service on PostgreSQL; their runs, the digest and the
    speed-up; ``{"skipped": why}`` without PostgreSQL."""
    store = postgres(settings or Settings())
    why = unavailable(store)
    if why is not None:
        echo(f"  scale-out skipped: {why}")
        return {"skipped": why}
    label = uuid.uuid4().hex[:8]  # the referrals' ids, the same in both runs
    runs: dict[int, dict[str, Any]] = {}
    for instances in (1, 2):
        prefix = f"bench_{label}_{instances}x_"
        try:
            result = run_pipeline(
                redis_url, count, work, instances=instances, profile=profile, echo=echo,
                store={**store, "postgres_schema_prefix": prefix}, label=label,
            )  # fmt: skip
        finally:
            drop_schemas(store, prefix)
        runs[instances] = result.as_dict()
        echo(f"    digest {runs[instances]['checks']['digest']}")
    digests = {n: r["checks"]["digest"] for n, r in runs.items()}
    if len(set(digests.values())) != 1:
        raise AssertionError(f"one and two processes per service settle differently: {digests}")
    one, two = runs[1], runs[2]
    where = f"{store['postgres_host']}:{store['postgres_port']}/{store['postgres_dbname']}"
    return {
        "store": "postgres",
        "postgres": where,
        "schemas": f"bench_{label}_*",  # dropped after each run
        "one": one,
        "two": two,
        "digest": digests[1],
        "same_digest": True,
        "speedup": round(two["referrals_per_second"] / one["referrals_per_second"], 3),
        "cores": os.cpu_count() or 1,
        "busy_cores_one": busy_cores(one),
    }


def busy_cores(run: dict[str, Any]) -> float:
    """How many cores the services' processes kept busy over one run's timed segments: their
    CPU seconds (user + system) over the segments' wall time. Redis and PostgreSQL come on top.
    When one process per service already keeps the machine's cores busy, a second one has no
    core to run on, and two per service cannot finish faster than one."""
    checks = run["checks"]
    cpu = sum(checks["cpu_seconds_segment1"].values()) + sum(
        checks["cpu_seconds_segment2"].values()
    )
    wall = run["segment1_referrals_to_cases_seconds"] + run["segment2_held_to_sessions_seconds"]
    return round(cpu / wall, 2) if wall > 0 else 0.0
