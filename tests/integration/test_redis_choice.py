"""The Redis used is the one asked for: the embedded one unless ``LOTS_REDIS_URL`` names one.

Whatever answers on 6379 (here: the tests' own Redis) is never taken for the project's, a named
Redis that does not answer is an error rather than a quiet switch to another, and every start
says which Redis it uses and whether it has the project's ACL users.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from infra.redis import RedisUnavailable, embedded_url
from infra.redis_guard import check, describe
from infra.redis_server import EmbeddedRedis, resolve_redis
from infra.settings import Settings
from lots.status import collect
from tests.conftest import free_port
from tests.support.acl import require_redis7

ROOT = Path(__file__).resolve().parents[2]


def unnamed(settings: Settings, **update: object) -> Settings:
    """``settings`` as a user's without ``LOTS_REDIS_URL``, the embedded Redis on a free port."""
    return settings.model_copy(
        update={
            "redis_url": None,
            "embedded_redis": "auto",
            "embedded_redis_port": free_port(),
            **update,
        }
    )


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_the_default_is_nothing_named_and_never_the_redis_on_6379(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOTS_REDIS_URL", raising=False)
    monkeypatch.delenv("LOTS_EMBEDDED_REDIS", raising=False)
    assert Settings().redis_url is None


def test_without_a_named_redis_the_embedded_one_is_started_under_var_and_says_so(
    settings: Settings, redis_url: str
) -> None:
    require_redis7()
    mine = unnamed(settings)
    url, started = resolve_redis(mine)  # the tests' Redis answers, and is not taken
    assert started is not None
    try:
        assert url == embedded_url(mine) != redis_url
        assert (mine.var_dir / "redis" / "users.acl").exists(), "its data under var/redis"
        found = check(mine, url, warn=False)
        line = describe(mine, url, found)
        assert line.startswith(f"Redis: embedded, started by lots, data in {mine.var_dir}/redis/")
        assert url in line and "it has the project's ACL users" in line
    finally:
        started.stop()


def test_a_named_redis_that_does_not_answer_is_an_error_not_a_switch(settings: Settings) -> None:
    port = free_port()
    named = unnamed(settings, redis_url=f"redis://someone:hunter2@127.0.0.1:{free_port()}/0")
    named = named.model_copy(update={"embedded_redis_port": port})
    with pytest.raises(RedisUnavailable, match="LOTS_REDIS_URL") as refused:
        resolve_redis(named)
    assert "hunter2" not in str(refused.value)
    assert not listening(port), "no embedded Redis was started in its place"


def test_production_without_a_named_redis_refuses_to_start_one(settings: Settings) -> None:
    production = unnamed(settings, env="production")
    with pytest.raises(RedisUnavailable, match="set LOTS_REDIS_URL"):
        resolve_redis(production)
    assert not listening(production.embedded_redis_port)


def test_a_named_redis_is_said_to_be_external_without_its_password(
    settings: Settings, tmp_path: Path
) -> None:
    server = EmbeddedRedis(free_port(), tmp_path / "plain")  # no ACL: anyone may write
    server.start()
    try:
        named = settings.model_copy(update={"redis_url": server.url})
        assert resolve_redis(named) == (server.url, None)
        url = server.url.replace("redis://", "redis://someone:hunter2@")
        line = describe(named, url, check(named, url, warn=False))
        assert line == (
            f"Redis: external, named by LOTS_REDIS_URL, at {server.url}; "
            "it does NOT have the project's ACL users"
        )
    finally:
        server.stop()


def start_billing(
    env: dict[str, str], log: Path, stop: signal.Signals = signal.SIGTERM
) -> list[str]:
    """``python -m services.billing`` with ``env`` until ready, then stopped with ``stop``
    (SIGTERM as a supervisor stops it, SIGINT as Ctrl-C does): its log lines."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTS_")} | env
    env |= {"LOTS_BILLING_PORT": str(port), "LOTS_LOG_LEVEL": "INFO"}
    with log.open("w") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "services.billing"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not ready(port):
                assert child.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        finally:
            # Ctrl-C reaches the terminal's whole process group; a supervisor signals the child
            os.killpg(child.pid, stop) if stop == signal.SIGINT else child.send_signal(stop)
            child.wait(timeout=30)
    assert child.returncode == 0, log.read_text()  # a clean stop
    return log.read_text().splitlines()


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_service_says_once_which_redis_it_starts_on(tmp_path: Path) -> None:
    require_redis7()
    var = tmp_path / "var"
    embedded = free_port()
    lines = start_billing(
        {"LOTS_VAR_DIR": str(var), "LOTS_EMBEDDED_REDIS_PORT": str(embedded)},
        tmp_path / "embedded.log",
    )
    said = [line for line in lines if "Redis: " in line]
    assert len(said) == 1, lines
    assert f"Redis: embedded, started by lots, data in {var}/redis/" in said[0]
    assert "it has the project's ACL users" in said[0]
    assert not listening(embedded), "stopped by the service that started it, on SIGTERM"

    server = EmbeddedRedis(free_port(), tmp_path / "plain")
    server.start()
    try:
        env = {"LOTS_VAR_DIR": str(tmp_path / "var2"), "LOTS_REDIS_URL": server.url}
        lines = start_billing(env, tmp_path / "external.log")
    finally:
        server.stop()
    said = [line for line in lines if "Redis: " in line]
    assert len(said) == 1, lines
    assert f"Redis: external, named by LOTS_REDIS_URL, at {server.url}" in said[0]
    assert "does NOT have the project's ACL users" in said[0] and "NOT GUARDED" in said[0]


def test_ctrl_c_stops_the_service_before_the_embedded_redis_it_started(tmp_path: Path) -> None:
    """Ctrl-C signals the terminal's process group: the embedded Redis must not die under the
    service (which then logged an outage at every stop) but be stopped by it, last."""
    require_redis7()
    embedded = free_port()
    env = {"LOTS_VAR_DIR": str(tmp_path / "var"), "LOTS_EMBEDDED_REDIS_PORT": str(embedded)}
    lines = start_billing(env, tmp_path / "ctrl-c.log", stop=signal.SIGINT)
    assert not [line for line in lines if "unreachable" in line or "Traceback" in line], lines
    assert any("service stopped" in line for line in lines), lines
    assert not listening(embedded), "stopped by the service that started it"


def test_status_without_a_named_redis_reads_only_the_embedded_one(settings: Settings) -> None:
    mine = unnamed(settings, **{f"{s}_port": free_port() for s in ("intake", "scheduling")})
    report = collect(mine.model_copy(update={"billing_port": free_port()}))
    assert report["redis"] is False, "the Redis on 6379 answers, but is not the project's"
    assert "Redis does not answer" in report["problems"]
