"""Fixtures shared by every level: a real Redis, unique stream names, settings, PostgreSQL.

Redis is the machine's (127.0.0.1:6379) when it answers, otherwise an embedded ``redis-server``
started for the session. Every test gets its own stream prefix and var directory, so tests never
see each other's entries or stores.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from hypothesis import settings as hypothesis_settings

from infra.logging import configure
from infra.redis import reachable
from infra.redis_server import EmbeddedRedis
from infra.settings import Settings

# The processes' own logging (tracebacks without locals, personal numbers masked), so that a
# test's output shows what a service's log would.
configure(os.environ.get("LOTS_LOG_LEVEL", "INFO"))

# Property tests: in CI the same examples on every run (derandomized, no example database),
# so a red build is reproducible; on a developer's machine new examples each run, with the
# failures found kept in .hypothesis/. HYPOTHESIS_PROFILE chooses explicitly.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev")
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev")
)

LOCAL_REDIS = os.environ.get("LOTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES = dict(
    host="127.0.0.1", port=5432, user=os.environ.get("PGUSER", "postgres"), dbname="test"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if reachable(LOCAL_REDIS):
        yield LOCAL_REDIS
        return
    server = EmbeddedRedis(free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def redis_client(redis_url: str, prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture
def settings(tmp_path: Path, redis_url: str, prefix: str) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        redis_url=redis_url,
        embedded_redis="never",
        stream_prefix=prefix,
        block_ms=100,
        reclaim_idle_ms=300,
        reclaim_interval_ms=100,
        max_deliveries=3,
        relay_interval_ms=20,
        consumer_name=f"test-{uuid.uuid4().hex[:6]}",
    )


def _postgres_available() -> bool:
    try:
        with psycopg.connect(**POSTGRES, connect_timeout=2):  # type: ignore[arg-type]
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def postgres_settings(settings: Settings) -> Iterator[Settings]:
    if not _postgres_available():
        if os.environ.get("LOTS_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required (LOTS_REQUIRE_POSTGRES=1) but does not answer")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    schema_prefix = f"t{uuid.uuid4().hex[:8]}_"
    yield settings.model_copy(
        update={
            "store": "postgres",
            "postgres_host": POSTGRES["host"],
            "postgres_port": POSTGRES["port"],
            "postgres_user": POSTGRES["user"],
            "postgres_dbname": POSTGRES["dbname"],
            "postgres_schema_prefix": schema_prefix,
        }
    )
    with psycopg.connect(**POSTGRES, autocommit=True) as conn:  # type: ignore[arg-type]
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{schema_prefix}%",)
        ).fetchall()
        for (name,) in rows:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "sqlite":
        return settings
    return request.getfixturevalue("postgres_settings")  # type: ignore[no-any-return]
