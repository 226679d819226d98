"""``lots audit verify`` over real stores: exit 0 when intact, 1 naming the first broken link."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from infra.settings import Settings
from lots.cli import app
from tests.support.intake import Clock, make_intake, referral


@pytest.fixture
def filled(settings: Settings) -> Settings:
    intake = make_intake(settings, Clock())
    for _ in range(5):
        intake.submit(json.dumps(referral()).encode())
    intake.close()
    return settings


def _verify(settings: Settings) -> tuple[int, dict[str, object]]:
    env = {"LOTS_VAR_DIR": str(settings.var_dir), "LOTS_EMBEDDED_REDIS": "never"}
    result = CliRunner().invoke(app, ["audit", "verify", "--json"], env=env)
    return result.exit_code, json.loads(result.stdout)


def test_intact_stores_verify(filled: Settings) -> None:
    code, report = _verify(filled)
    assert code == 0 and report["intact"] is True
    assert report["stores"]["intake"] == {"events": 5, "broken_at": None, "problem": None}  # type: ignore[index]


def test_an_altered_row_fails_verification_naming_store_and_position(filled: Settings) -> None:
    with sqlite3.connect(filled.var_dir / "intake.sqlite") as db:
        db.execute("UPDATE stored_events SET state = X'00' WHERE rowid = 3")
    code, report = _verify(filled)
    assert code == 1 and report["intact"] is False
    assert report["stores"]["intake"]["broken_at"] == 3  # type: ignore[index]
    assert report["stores"]["billing"]["broken_at"] is None  # type: ignore[index]
