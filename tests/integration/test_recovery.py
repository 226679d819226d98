"""Recovery over a real Redis: a consumer killed mid-batch, and a Redis that lost everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from infra.redis_server import EmbeddedRedis
from infra.settings import Settings
from tests.conftest import free_port
from tests.support.flow import Hop, eventually, expected_ids, meeting, publish, wait_until
from tests.support.ledger import make_ledger

ROOT = Path(__file__).resolve().parents[2]


def _entries(settings: Settings, name: str) -> list[str]:
    app = make_ledger(settings, name, "ledger.out")
    try:
        return app.entries()
    finally:
        app.close()


def _processed(settings: Settings, name: str) -> int:
    app = make_ledger(settings, name, "ledger.out")
    try:
        return app.store.count_processed(name)
    finally:
        app.close()


def _spawn_hop(settings: Settings, name: str, source: str, output: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        LOTS_REDIS_URL=settings.redis_url,
        LOTS_EMBEDDED_REDIS="never",
        LOTS_STREAM_PREFIX=settings.stream_prefix,
        LOTS_VAR_DIR=str(settings.var_dir),
        LOTS_BATCH_SIZE="500",
        LOTS_BLOCK_MS="100",
        LOTS_RECLAIM_IDLE_MS="500",
        LOTS_RECLAIM_INTERVAL_MS="100",
        LOTS_LOG_LEVEL="WARNING",
        LEDGER_NAME=name,
        LEDGER_INPUT=source,
        LEDGER_OUTPUT=output,
        LEDGER_HANDLER_DELAY="0.0005",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.ledger_service"], cwd=ROOT, env=env
    )


def test_a_consumer_killed_in_the_middle_of_a_batch_applies_every_entry_exactly_once(
    settings: Settings, redis_client: redis.Redis
) -> None:
    messages = [meeting(n) for n in range(3000)]
    publish(redis_client, settings.stream("ledger.in"), messages)
    pending = 0
    for _ in range(5):  # the kill can land between two batches; then try the next batch
        consumer = _spawn_hop(settings, "hop_a", "ledger.in", "ledger.mid")
        try:
            before = _processed(settings, "hop_a")
            wait_until(
                lambda b=before: _processed(settings, "hop_a") > b, timeout=60, interval=0.02
            )
            # Its next 500-entry batch is read (pending) and being applied (0.5 ms per entry):
            # kill it where it stands.
            wait_until(
                lambda: redis_client.xpending(settings.stream("ledger.in"), "hop_a")["pending"] > 0,
                interval=0.01,
            )
            consumer.send_signal(signal.SIGKILL)
            consumer.wait()
        finally:
            if consumer.poll() is None:
                consumer.kill()
        done_at_kill = _processed(settings, "hop_a")
        assert done_at_kill < len(messages), "killed before the end"
        pending = redis_client.xpending(settings.stream("ledger.in"), "hop_a")["pending"]
        if pending > 0:
            break
    assert pending > 0, "a consumer died holding a batch it had read but not acknowledged"
    second = _spawn_hop(settings, "hop_a", "ledger.in", "ledger.mid")
    try:
        wait_until(lambda: _processed(settings, "hop_a") == len(messages), timeout=120)
        wait_until(
            lambda: redis_client.xpending(settings.stream("ledger.in"), "hop_a")["pending"] == 0
        )
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, "a graceful stop exits 0"
    assert _entries(settings, "hop_a") == expected_ids(messages)
    assert redis_client.xlen(settings.stream("ledger.in.dead")) == 0


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    """A Redis of this test's own: FLUSHALL must not touch anyone else's data."""
    server = EmbeddedRedis(free_port(), tmp_path / "redis")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


async def test_flushall_in_the_middle_of_a_run_recovers_to_the_same_state(
    settings: Settings, private_redis: str
) -> None:
    # Batches of 50: hop_b commits its work in steps, so the wipe can come between them (with
    # the default of 500 it could take all 400 in one batch, and the wipe came after it).
    settings = settings.model_copy(update={"redis_url": private_redis, "batch_size": 50})
    client = redis.Redis.from_url(private_redis, decode_responses=True)
    messages = [meeting(n) for n in range(400)]
    async with (
        Hop(settings, "hop_a", "ledger.in", "ledger.mid") as a,
        Hop(settings, "hop_b", "ledger.mid", "ledger.out", handler_delay=0.002) as b,
    ):
        publish(client, settings.stream("ledger.in"), messages)
        await eventually(lambda: len(a.app.entries()) == 400)
        await eventually(lambda: len(b.app.entries()) > 0)
        assert len(b.app.entries()) < 400, "the wipe must come while hop_b is still working"
        client.flushall()
        await eventually(lambda: len(b.app.entries()) >= 400, timeout=60)
        await eventually(lambda: client.exists(settings.stream("ledger.mid")) == 1)
        assert a.runtime.counters.recoveries + b.runtime.counters.recoveries >= 1
        await eventually(
            lambda: client.xpending(settings.stream("ledger.mid"), "hop_b")["pending"] == 0
        )
    assert _entries(settings, "hop_a") == expected_ids(messages)
    assert _entries(settings, "hop_b") == expected_ids(messages)
    client.close()
