"""Running the ``lots`` command in-process over a test's stores, and altering a stored event."""

from __future__ import annotations

import sqlite3

import psycopg
from typer.testing import CliRunner

from infra.settings import SERVICES, ServiceName, Settings
from infra.store import postgres_conninfo, postgres_schema
from lots.cli import app
from lots.stores import open_reader
from tests.conftest import free_port


def cli_env(settings: Settings) -> dict[str, str]:
    """The command's settings: the test's stores and stream prefix, no service running."""
    env = {
        "LOTS_VAR_DIR": str(settings.var_dir),
        "LOTS_REDIS_URL": settings.redis_url,
        "LOTS_EMBEDDED_REDIS": "never",
        "LOTS_STREAM_PREFIX": settings.stream_prefix,
        "LOTS_STORE": settings.store,
        **{f"LOTS_{s.upper()}_PORT": str(free_port()) for s in SERVICES},
    }
    if settings.store == "postgres":
        for name in ("host", "port", "user", "dbname", "schema_prefix"):
            env[f"LOTS_POSTGRES_{name.upper()}"] = str(getattr(settings, f"postgres_{name}"))
    return env


def lots(settings: Settings, *args: str) -> tuple[int, str]:
    """``lots ARGS`` over the test's stores: its exit code and what it printed."""
    result = CliRunner().invoke(app, list(args), env=cli_env(settings))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


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
