"""``lots audit verify`` over real stores: exit 0 when intact, 1 naming the first broken link."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

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


def test_export_is_the_contract_format_and_the_same_every_time(
    filled: Settings, tmp_path: Path
) -> None:
    env = {"LOTS_VAR_DIR": str(filled.var_dir), "LOTS_EMBEDDED_REDIS": "never"}
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (first, second):
        result = CliRunner().invoke(app, ["export", "--out", str(path)], env=env)
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()
    lines = [json.loads(line) for line in first.read_text().splitlines()]
    assert len(lines) == 5
    assert {line["stream"] for line in lines} == {"intake.events"}
    assert {line["type"] for line in lines} == {"ReferralReceived"}
    assert all(set(line) >= {"stream", "type", "version", "id", "data"} for line in lines)
    assert "personal_number" not in first.read_text()


def test_export_to_an_unwritable_place_says_so(filled: Settings, tmp_path: Path) -> None:
    env = {"LOTS_VAR_DIR": str(filled.var_dir), "LOTS_EMBEDDED_REDIS": "never"}
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "file" / "x")], env=env)
    assert result.exit_code == 2 and "cannot write" in result.output
