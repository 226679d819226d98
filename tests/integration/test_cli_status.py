"""``lots status`` over a damaged store (SQLite and PostgreSQL): the store and the event that
fail are named, in the text and the JSON, and the exit code is 1 — not a traceback."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest
from typer.testing import CliRunner

from infra.settings import ServiceName, Settings
from infra.store import postgres_conninfo, postgres_schema
from lots.cli import app
from lots.stores import open_reader
from services.billing.app import make_app as make_billing
from tests.conftest import free_port
from tests.support.intake import Clock, make_intake, referral


def cli_env(settings: Settings) -> dict[str, str]:
    """The command's settings: the test's stores, its stream prefix, no service running."""
    env = {
        "LOTS_VAR_DIR": str(settings.var_dir),
        "LOTS_REDIS_URL": settings.redis_url,
        "LOTS_EMBEDDED_REDIS": "never",
        "LOTS_STREAM_PREFIX": settings.stream_prefix,
        "LOTS_STORE": settings.store,
        **{f"LOTS_{s.upper()}_PORT": str(free_port()) for s in ("intake", "scheduling", "billing")},
    }
    if settings.store == "postgres":
        for name in ("host", "port", "user", "dbname", "schema_prefix"):
            env[f"LOTS_POSTGRES_{name.upper()}"] = str(getattr(settings, f"postgres_{name}"))
    return env


def alter(settings: Settings, service: ServiceName, position: int, state: bytes) -> None:
    """Overwrite the stored bytes of the event at ``position``, behind the application."""
    if settings.store == "sqlite":
        with sqlite3.connect(settings.var_dir / f"{service}.sqlite") as db:
            db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state, position))
        return
    reader = open_reader(settings, service)
    table = f'"{postgres_schema(settings, service)}"."{reader.store.events_table_name}"'
    reader.close()
    with psycopg.connect(postgres_conninfo(settings), autocommit=True) as db:
        db.execute(f"UPDATE {table} SET state = %s WHERE notification_id = %s", (state, position))


def status(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["status", *args], env=cli_env(settings))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


def test_an_unreadable_event_is_named_with_its_store(store_settings: Settings) -> None:
    intake = make_intake(store_settings, Clock())
    for _ in range(5):
        intake.submit(json.dumps(referral()).encode())
    intake.close()
    alter(store_settings, "intake", 3, b"\x00not what was stored")

    code, out = status(store_settings, "--json")
    report = json.loads(out)
    assert code == 1 and report["healthy"] is False
    damaged = report["services"]["intake"]["damaged"]
    assert damaged["position"] == 3 and damaged["version"] == 1
    assert damaged["topic"] == "services.intake.domain:Case.Opened"
    assert damaged["problem"] == "the event cannot be read"
    assert report["services"]["intake"]["events_stored"] == 5
    assert report["services"]["billing"]["damaged"] is None
    assert any("intake's store is damaged at event 3" in p for p in report["problems"])

    code, out = status(store_settings)
    assert code == 1
    assert "intake's store is damaged at event 3 (services.intake.domain:Case.Opened of " in out


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        (b"not json", "the event cannot be read"),
        (b"{}", "the event or the one before it was altered, inserted or removed"),
    ],
)
def test_a_store_damaged_where_its_service_starts_is_named_too(
    store_settings: Settings, state: bytes, problem: str
) -> None:
    make_billing(store_settings).close()  # records the default tariff book: event 1
    alter(store_settings, "billing", 1, state)  # the second still decodes, into nothing usable

    code, out = status(store_settings, "--json")
    report = json.loads(out)
    assert code == 1
    damaged = report["services"]["billing"]["damaged"]
    assert (damaged["position"], damaged["problem"]) == (1, problem)
    assert any(p.startswith("billing's store is damaged at event 1") for p in report["problems"])
