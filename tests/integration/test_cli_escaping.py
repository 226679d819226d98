"""What the CLI prints of stored strings cannot forge a line: control characters are escaped
in ``lots audit case``, ``lots audit access`` and the settlement's text."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from infra.batches import Incoming
from infra.settings import Settings
from infra.topology import REFERRALS
from lots.cli import app
from tests.support.intake import Clock, entry, make_intake, referral

FORGED = "anna\n2026-11-02T10:00:00+01:00  intake     Case.Reopened                by=mallory"


def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"LOTS_VAR_DIR": str(settings.var_dir), "LOTS_EMBEDDED_REDIS": "never"}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout


def test_a_case_whose_stored_strings_hold_line_feeds_prints_one_line_an_event(
    settings: Settings,
) -> None:
    intake = make_intake(settings, Clock())
    body = referral()
    answer = intake.submit(json.dumps(body).encode())
    assert answer.case_id is not None
    again = intake.decode(REFERRALS, entry(body))  # sent again: answered again
    assert intake.process("intake", [Incoming("1-0", REFERRALS, again)]) == {"1-0": None}
    intake.acknowledge(answer.case_id, "\x1b[2J\x1b[H")  # a terminal's "clear the screen"
    intake.close_case(answer.case_id, "goals_met", FORGED)
    intake.close()
    case = str(answer.case_id)
    for role in ("auditor", "case_officer"):
        code, out = _cli(settings, "audit", "case", case, "--reason", "why\nforged", "--role", role)
        assert code == 0
        lines = out.splitlines()
        heads = [block.splitlines()[0] for block in out.strip().split("\n\n")[1:]]
        assert [head.rsplit(" · ", 1)[1] for head in heads] == [
            "Case.Opened",
            "RepeatedReferral.AnsweredAgain",
            "Case.Acknowledged",
            "Case.Closed",
        ]
        assert any(line.startswith("  by: anna\\n2026-11-02T10:00:00+01:00") for line in lines)
        assert "\x1b" not in out and "  by: \\x1b[2J\\x1b[H" in lines
    code, out = _cli(settings, "audit", "access", "--case", case)
    assert code == 0 and len(out.splitlines()) == 2
    assert all(line.endswith(": why\\nforged") for line in out.splitlines())


def test_the_settlement_text_escapes_who_closed_it(settings: Settings) -> None:
    code, _ = _cli(settings, "settlement", "close", "2026-10", "--by", FORGED)
    assert code == 0
    code, out = _cli(settings, "settlement", "show", "2026-10")
    assert code == 0
    assert "by anna\\n2026-11-02" in out
    assert not any(line.startswith("2026-11-02") for line in out.splitlines())
