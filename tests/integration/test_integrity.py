"""The hash chain catches an altered, inserted or removed row (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import psycopg
import pytest

from infra.integrity import verify
from infra.settings import Settings
from infra.store import postgres_conninfo, postgres_schema
from tests.support.flow import incoming
from tests.support.ledger import Ledger, make_ledger

Tamper = Callable[[Settings, Ledger], None]


def _filled(settings: Settings) -> Ledger:
    app = make_ledger(settings, "hop", "ledger.out")
    for n in range(0, 30, 3):
        app.process("hop", [incoming(n), incoming(n + 1), incoming(n + 2)])
    return app


def _sql(settings: Settings, app: Ledger, statement: str) -> None:
    if settings.store == "sqlite":
        with sqlite3.connect(settings.var_dir / "hop" / "intake.sqlite") as db:
            db.execute(statement.replace("{events}", "stored_events").replace("{schema}.", ""))
    else:
        schema = postgres_schema(settings, "intake")
        with psycopg.connect(postgres_conninfo(settings), autocommit=True) as db:
            db.execute(
                statement.replace("{events}", f'"{schema}"."{app.store.events_table_name}"')  # type: ignore[arg-type]
                .replace("{schema}", f'"{schema}"')
                .replace("rowid", "notification_id")
            )


def test_an_untouched_store_verifies(store_settings: Settings) -> None:
    app = _filled(store_settings)
    verdict = verify(app.store)
    assert verdict.intact and verdict.events == app.recorder.max_notification_id()
    app.close()


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("UPDATE {events} SET topic = topic || 'x' WHERE rowid = 7", "altered"),
        ("DELETE FROM {events} WHERE rowid = 7", "removed"),
        ("DELETE FROM {schema}.event_chain WHERE notification_id = 7", "inserted"),
    ],
)
def test_a_tampered_row_is_caught_at_its_position(
    store_settings: Settings, tamper: str, problem: str
) -> None:
    app = _filled(store_settings)
    _sql(store_settings, app, tamper)
    verdict = verify(app.store)
    assert verdict.broken_at == 7 and problem in (verdict.problem or "")
    app.close()


def test_a_row_removed_with_its_link_breaks_the_next_link(store_settings: Settings) -> None:
    app = _filled(store_settings)
    _sql(store_settings, app, "DELETE FROM {events} WHERE rowid = 7")
    _sql(store_settings, app, "DELETE FROM {schema}.event_chain WHERE notification_id = 7")
    verdict = verify(app.store)
    assert verdict.broken_at == 8
    app.close()
