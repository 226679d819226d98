"""One shape for the CLI: ``--out`` refused in words when it cannot be a file, counts with
their nouns in the right number, and the yearly report's figures named in words."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from infra.settings import Settings
from tests.support.cli import lots
from tests.support.intake import Clock, make_intake, referral


@pytest.fixture
def one(settings: Settings) -> Settings:
    """Stores holding one referral: one event in intake's."""
    intake = make_intake(settings, Clock())
    intake.submit(json.dumps(referral()).encode())
    intake.close()
    return settings


@pytest.mark.parametrize(
    "command",
    [
        ("report", "year", "2026", "--out"),
        ("report", "year", "2026", "--format", "html", "--out"),
        ("export", "--out"),
        ("contracts", "asyncapi", "--out"),
    ],
)
def test_out_to_a_directory_or_into_a_missing_one_says_so_and_exits_2(
    one: Settings, tmp_path: Path, command: tuple[str, ...]
) -> None:
    code, _ = lots(one, *command, str(tmp_path))
    assert code == 2
    missing = tmp_path / "not-there" / "file.out"
    code, _ = lots(one, *command, str(missing))
    assert code == 2 and not missing.parent.exists()


def test_the_refusal_names_the_problem_without_a_traceback(one: Settings, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lots.cli import app
    from tests.support.cli import cli_env

    runner = CliRunner()
    result = runner.invoke(app, ["export", "--out", str(tmp_path)], env=cli_env(one))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"cannot write {tmp_path}: it is a directory" in result.output
    missing = tmp_path / "a" / "b.jsonl"
    result = runner.invoke(app, ["report", "year", "2026", "--out", str(missing)], env=cli_env(one))
    assert result.exit_code == 2
    assert f"the directory {missing.parent} does not exist" in result.output


def test_one_event_is_one_event(one: Settings) -> None:
    code, out = lots(one, "audit", "verify")
    assert code == 0
    assert "intake: intact (1 event)" in out and "billing: intact (0 events)" in out


def test_the_yearly_reports_figures_are_words_not_keys(one: Settings) -> None:
    code, text = lots(one, "report", "year", "2026", "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(text)))
    sections = rows[rows.index(["section", "figure", "value"]) + 1 :]
    identifier = re.compile(r"[a-z]+_[a-z_]+|[a-z]\.[a-z]")
    for section, figure, _ in sections:
        assert not identifier.search(figure), figure
        assert not identifier.search(section), section
    figures = {figure for _, figure, _ in sections}
    assert {"KASAM at start, mean", "reports to IVO made", "network: cases closed"} <= figures
    code, text = lots(one, "report", "year", "2026")
    assert "follow-up of the families in coordinated support" in text
    assert "kasam" not in text and "median_days" not in text
