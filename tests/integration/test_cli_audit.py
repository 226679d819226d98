"""``lots audit verify`` over real stores: exit 0 when intact, 1 naming the first broken link."""

from __future__ import annotations

import json
import sqlite3
import uuid
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


def _case(settings: Settings) -> str:
    intake = make_intake(settings, Clock())
    answer = intake.submit(json.dumps(referral()).encode())
    assert answer.case_id is not None
    intake.acknowledge(answer.case_id, "anna")
    intake.close_case(answer.case_id, "goals_met", "anna")
    intake.close()
    return str(answer.case_id)


def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"LOTS_VAR_DIR": str(settings.var_dir), "LOTS_EMBEDDED_REDIS": "never"}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout


def test_a_cases_history_in_order_without_personal_data_for_an_auditor(
    settings: Settings,
) -> None:
    case_id = _case(settings)
    code, out = _cli(settings, "audit", "case", case_id, "--reason", "yearly audit", "--json")
    assert code == 0
    report = json.loads(out)
    assert [e["event"] for e in report["events"]] == [
        "Case.Opened",
        "Case.Acknowledged",
        "Case.Closed",
    ]
    assert report["personal_data_shown"] is False
    household = report["events"][0]["data"]["household"]
    assert {m["personal_number"] for m in household} == {"(hidden)"}
    assert {m["name"] for m in household} == {"(hidden)"}

    opened_at = report["events"][0]["at"]
    code, out = _cli(
        settings, "audit", "case", case_id, "--reason", "r", "--as-of", opened_at, "--json"
    )
    assert [e["event"] for e in json.loads(out)["events"]] == ["Case.Opened"]

    code, out = _cli(
        settings, "audit", "case", case_id, "--reason", "r", "--role", "case_officer", "--json"
    )
    shown = json.loads(out)["events"][0]["data"]["household"]
    assert all(m["personal_number"].isdigit() for m in shown)


def test_every_look_at_a_case_is_recorded_and_listed(settings: Settings) -> None:
    case_id = _case(settings)
    _cli(settings, "audit", "case", case_id, "--reason", "complaint 12", "--by", "eva")
    _cli(
        settings,
        "audit",
        "case",
        case_id,
        "--reason",
        "follow-up",
        "--by",
        "olle",
        "--role",
        "case_officer",
    )
    code, out = _cli(settings, "audit", "access", "--case", case_id, "--json")
    looks = json.loads(out)
    assert code == 0
    assert [
        (look["by"], look["role"], look["reason"], look["personal_data_shown"]) for look in looks
    ] == [
        ("eva", "auditor", "complaint 12", False),
        ("olle", "case_officer", "follow-up", True),
    ]
    assert all(look["case_id"] == case_id and look["at"] for look in looks)


def test_bad_audit_arguments_say_what_is_wrong(settings: Settings) -> None:
    code, _ = _cli(settings, "audit", "case", "not-a-uuid", "--reason", "x")
    assert code == 2
    code, _ = _cli(
        settings, "audit", "case", str(uuid.uuid4()), "--reason", "x", "--as-of", "yesterday"
    )
    assert code == 2
    code, _ = _cli(settings, "audit", "case", str(uuid.uuid4()))  # no --reason
    assert code == 2


def test_the_yearly_report_reads_the_stores_and_writes_csv_and_html(
    filled: Settings, tmp_path: Path
) -> None:
    code, out = _cli(filled, "report", "year", "2026")
    assert code == 0 and "referrals received" in out
    code, _ = _cli(
        filled, "report", "year", "2026", "--format", "csv", "--out", str(tmp_path / "r.csv")
    )
    assert code == 0
    rows = (tmp_path / "r.csv").read_text().splitlines()
    assert rows[1] == "referrals received,5,0,0,0"
    code, _ = _cli(
        filled, "report", "year", "2026", "--format", "html", "--out", str(tmp_path / "r.html")
    )
    assert code == 0 and "activity report 2026" in (tmp_path / "r.html").read_text()
    assert _cli(filled, "report", "year", "26")[0] == 2
    assert _cli(filled, "report", "year", "2026", "--format", "pdf")[0] == 2
    assert _cli(filled, "report", "year", "twenty")[0] == 2
