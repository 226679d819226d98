"""Logs an operator can read: no line per health check, every line naming its service, and a
Redis outage said once when it starts and once when it ends, however often the loops retry.

A real billing service on a real redis-server of the test's own, which the test stops and
starts again.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from infra.auth import Role
from infra.dev_tokens import bearer_headers, client_token
from infra.logging import NotPolling
from infra.redis_server import EmbeddedRedis
from infra.settings import Settings
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_for(what: Callable[[], bool], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_an_outage_is_said_once_each_way_and_every_line_names_the_service(
    tmp_path: Path,
) -> None:
    server = EmbeddedRedis(free_port(), tmp_path / "redis")  # the test's own: it stops it
    server.start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTS_")} | {
        "LOTS_VAR_DIR": str(tmp_path / "var"),
        "LOTS_REDIS_URL": server.url,
        "LOTS_BILLING_PORT": str(port),
        "LOTS_LOG_LEVEL": "INFO",
    }
    log = tmp_path / "billing.log"
    with log.open("w") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "services.billing"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: ready(port), log)
        for _ in range(5):  # a supervisor's, a status page's, a load balancer's polling
            httpx.get(f"http://127.0.0.1:{port}/health/live")
            httpx.get(f"http://127.0.0.1:{port}/health/ready")
        assert httpx.get(f"http://127.0.0.1:{port}/counters").status_code == 401

        operator = bearer_headers(client_token(Settings(var_dir=tmp_path / "var"), Role.OPERATOR))
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=operator)
        assert "lots_stream_length{" in scraped.text

        server.stop()
        wait_for(lambda: "Redis unreachable" in log.read_text(), log)
        for _ in range(3):  # Prometheus scrapes on: answered from the store, not a traceback
            scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=operator)
            assert scraped.status_code == 200 and "lots_outbox_backlog" in scraped.text
            assert "lots_stream_length{" not in scraped.text, "not known while Redis is away"
        time.sleep(4)  # the loops retry about once a second each, all the while
        server.start()
        wait_for(lambda: "Redis reachable again" in log.read_text(), log)
        wait_for(lambda: ready(port), log)
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=60)
        server.stop()

    lines = [line for line in log.read_text().splitlines() if line.strip()]
    down = [line for line in lines if "Redis unreachable" in line]
    assert len(down) == 1, lines
    assert f"Redis unreachable at {server.url} since " in down[0]
    again = [line for line in lines if "Redis reachable again" in line]
    assert len(again) == 1 and f"at {server.url} after " in again[0], lines
    assert lines.index(down[0]) < lines.index(again[0])
    assert not [line for line in lines if "/health/" in line], "health polling left out"
    assert [line for line in lines if '"GET /counters HTTP/1.1" 401' in line], "other requests kept"
    assert all("service=billing" in line for line in lines), lines
    assert "Traceback" not in log.read_text()


def access(path: str) -> logging.LogRecord:
    """A uvicorn access line, as uvicorn makes it."""
    args = ("127.0.0.1:5000", "GET", path, "1.1", 200)
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None
    )


def test_only_polling_is_left_out_of_the_access_lines() -> None:
    polling = NotPolling()
    assert not polling.filter(access("/health/ready")) and not polling.filter(access("/metrics"))
    assert polling.filter(access("/settlements/2026-11")) and polling.filter(access("/docs"))
