"""A Redis anyone may write to: production refuses it, development warns, status names it.

The machine's Redis on 127.0.0.1:6379 has no ACL (its ``default`` user may do anything): it is
the plain Redis of the issue. A server with the project's ACL is the guarded one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs
from typer.testing import CliRunner

from infra.redis_guard import OPEN_REDIS, Guard, check, inspect, where
from infra.redis_server import EmbeddedRedis
from infra.settings import Role, Settings, SettingsError
from infra.tokens import entry_for, new_token
from lots.cli import app as cli
from lots.status import collect
from lots.status_text import render
from lots.supervisor import Supervisor
from tests.conftest import free_port
from tests.support.acl import acl_server, password

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def plain(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """A plain Redis (no ACL): the machine's when it is one, else a server of the test's own."""
    if inspect(settings, settings.redis_url).open:
        yield settings.redis_url
        return
    server = EmbeddedRedis(free_port(), tmp_path / "plain-redis")  # no ACL given: plain
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def guarded(tmp_path: Path, prefix: str) -> Iterator[EmbeddedRedis]:
    with acl_server(tmp_path / "redis", prefix) as server:
        yield server


def production(settings: Settings, **update: object) -> Settings:
    return settings.model_copy(update={"env": "production", **update})


def test_a_service_in_production_refuses_a_plain_redis_and_says_how_to_fix_it(
    plain: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTS_")}
    entry = entry_for(new_token(), Role.OPERATOR).model_dump(mode="json")
    env |= {
        "LOTS_ENV": "production",
        "LOTS_VAR_DIR": str(tmp_path / "var"),
        "LOTS_REDIS_URL": plain,
        "LOTS_EMBEDDED_REDIS": "never",
        "LOTS_API_TOKENS": json.dumps([entry]),
        "LOTS_BILLING_PORT": str(free_port()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "services.billing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode != 0
    assert f"refusing to start: {OPEN_REDIS}" in done.stderr, done.stderr[-2000:]
    assert "python -m infra.acl" in done.stderr and "LOTS_ALLOW_OPEN_REDIS=1" in done.stderr
    assert not (tmp_path / "var" / "billing.sqlite").exists(), "it stopped before its store"


def test_lots_up_in_production_refuses_it_before_starting_any_service(
    plain: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = Supervisor(production(settings))
    with pytest.raises(SettingsError, match="Redis has no access control"):
        supervisor.start()
    assert supervisor.children == {}
    for name, value in supervisor.child_env().items():
        if name.startswith("LOTS_"):
            monkeypatch.setenv(name, value)
    done = CliRunner().invoke(cli, ["up"])
    assert done.exit_code == 1 and "error: refusing to start: Redis has no" in done.output


def test_credentials_in_the_url_neither_hide_an_open_redis_nor_reach_the_message(
    plain: str, settings: Settings
) -> None:
    with_password = plain.replace("redis://", "redis://someone:hunter2@")
    assert where(with_password) == plain and where("unix:///run/r.sock?db=1") == (
        "unix:///run/r.sock?db=1"
    )
    with pytest.raises(SettingsError, match="has no access control") as refused:
        check(production(settings), with_password)
    assert "hunter2" not in str(refused.value) and plain in str(refused.value)


def test_told_explicitly_production_runs_on_it_and_development_warns_once(
    plain: str, settings: Settings
) -> None:
    with capture_logs() as logs:
        allowed = check(production(settings, allow_open_redis=True), plain)
        developing = check(settings, plain)
        quiet = check(settings, plain, warn=False)
    assert allowed == developing == quiet == Guard(open=True, unrestricted=True, user="default")
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [w["allowed"] for w in warnings] == ["LOTS_ALLOW_OPEN_REDIS", "development"]
    assert all(OPEN_REDIS in w["problem"] and "python -m infra.acl" in w["fix"] for w in warnings)


def test_the_projects_acl_passes_and_a_service_logged_in_as_admin_does_not(
    guarded: EmbeddedRedis, settings: Settings
) -> None:
    def as_user(user: str) -> Settings:
        update = {"redis_username": user, "redis_password": SecretStr(password(user))}
        return production(settings, redis_url=guarded.url, **update)

    with capture_logs() as logs:
        for user in ("intake", "scheduling", "billing", "operator"):
            assert check(as_user(user), guarded.url).guarded, user
    assert logs == []
    with pytest.raises(SettingsError, match="logs in to Redis as admin, which may run commands"):
        check(as_user("admin"), guarded.url)


def test_lots_status_names_the_risk_in_text_and_json(
    plain: str, guarded: EmbeddedRedis, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = {f"{s}_port": free_port() for s in ("intake", "scheduling", "billing")}
    report = collect(settings.model_copy(update=ports))
    assert report["redis_acl"]["open"] is True and report["redis_acl"]["guarded"] is False
    assert report["redis_acl"]["warning"].startswith(OPEN_REDIS)
    assert f"WARNING: {OPEN_REDIS}" in "\n".join(render(report))
    for name, value in {**ports, "var_dir": settings.var_dir, "redis_url": plain}.items():
        monkeypatch.setenv(f"LOTS_{name.upper()}", str(value))
    monkeypatch.setenv("LOTS_EMBEDDED_REDIS", "never")
    shown = json.loads(CliRunner().invoke(cli, ["status", "--json"]).output)
    assert shown["redis_acl"]["open"] is True
    [open_redis] = [n for n in shown["notices"] if n["service"] == "redis"]
    assert open_redis["code"] == "redis_unguarded" and OPEN_REDIS in open_redis["message"]
    assert "load the project's ACL (python -m infra.acl" in open_redis["message"], "what to do"
    as_operator = settings.model_copy(
        update={
            **ports,
            "redis_url": guarded.url,
            "redis_username": "operator",
            "redis_password": SecretStr(password("operator")),
        }
    )
    report = collect(as_operator)
    assert report["redis_acl"] == {"guarded": True, "open": False, "warning": None}
    assert OPEN_REDIS not in "\n".join(render(report))
