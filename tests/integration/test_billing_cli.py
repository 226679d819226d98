"""``lots settlement show|close|replay`` over billing's store, found from the LOTS_ settings."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from events.codec import Envelope
from events.scheduling import MeetingHeld
from infra.batches import Incoming
from infra.settings import Settings
from lots.settlement_cli import settlement_app
from services.billing import replay_sessions as replay
from services.billing.app import make_app

CEST = timezone(timedelta(hours=2))
runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(settlement_app, list(args), catch_exceptions=False)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A billing store with a May 2022 of two sessions, as the CLI finds it from LOTS_ settings."""
    monkeypatch.setenv("LOTS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LOTS_STORE", "sqlite")
    settings = Settings()
    app = make_app(settings)
    for n, minutes in enumerate((45, 80)):
        start = datetime(2022, 5, 3 + n, 9, tzinfo=CEST)
        meeting = MeetingHeld(
            meeting_id=uuid.uuid4(), case_id=uuid.uuid4(), programme="counselling",
            kind="counselling", format="couple", provider="leanlink", staff=["s"],
            started_at=start, ended_at=start + timedelta(minutes=minutes), participants=2,
            client_visits=1,
        )  # fmt: skip
        app.process(
            "billing", [Incoming("1-0", "scheduling.events", Envelope(meeting, uuid.uuid4()))]
        )
    app.close()
    return settings


def test_show_close_and_replay_a_month_from_the_store(store: Settings, tmp_path: Path) -> None:
    shown = run("show", "2022-05", "--programme", "counselling", "--json")
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["total_ore"] == 45_375 + 90_750
    assert "open: as it stands" in run("show", "2022-05", "--format", "html").stdout

    closed = run("close", "2022-05", "--by", "ekonom", "--json")
    assert closed.exit_code == 0
    document = json.loads(closed.stdout)
    again = run("close", "2022-05")
    assert again.exit_code == 1 and "already closed" in again.output
    assert "closed " in run("show", "2022-05").stdout

    replayed = run("replay", "2022-05", "--json")
    assert replayed.exit_code == 0
    body = json.loads(replayed.stdout)
    assert body["matches"] is True and body["digest"] == document["digest"]
    assert body["closed_digest"] == document["digest"] and body["differences"] == []
    assert run("replay", "2022-05", "--programme", "counselling").exit_code == 0
    assert "replays to the closed document" in run("replay", "2022-05").stdout


def test_replay_exits_1_when_the_rules_no_longer_give_the_closed_month(
    store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("close", "2022-05").exit_code == 0
    priced = replay.price_source

    def one_ore_more(*args: Any) -> Any:  # as if the pricing code had changed since the close
        session = priced(*args)
        return session.model_copy(update={"amount_ore": session.amount_ore + 1})

    monkeypatch.setattr(replay, "price_source", one_ore_more)
    result = run("replay", "2022-05")
    assert result.exit_code == 1
    assert "does NOT replay" in result.stdout and "total_ore: closed" in result.stdout


def test_replay_of_a_month_not_closed_says_so_and_exits_2(store: Settings) -> None:
    result = run("replay", "2022-05")
    assert result.exit_code == 2 and "2022-05 is not closed" in result.output


def test_closing_a_month_not_yet_over_is_refused_with_exit_1(store: Settings) -> None:
    result = run("close", "2999-01")
    assert result.exit_code == 1 and "2999-01 is not over" in result.output


def test_a_notice_of_termination_is_recorded_from_the_command_line(store: Settings) -> None:
    done = run("terminate", "field-2021", "--given-on", "2023-03-15", "--reference", "SON 2023-3")
    assert done.exit_code == 0 and "ends on 2024-03-31" in done.stdout
    again = run("terminate", "field-2021", "--given-on", "2023-03-15", "--reference", "x")
    assert again.exit_code == 1 and "already recorded" in again.output
    assert (
        run("terminate", "field-2021", "--given-on", "2023-13-01", "--reference", "x").exit_code
        == 2
    )
    shown = json.loads(run("show", "2024-04", "--programme", "field", "--json").stdout)
    assert shown["lines"] == [] and "by the notice given on 2023-03-15" in shown["notes"][0]


def test_an_adjustment_is_booked_from_the_command_line_and_never_on_a_closed_month(
    store: Settings,
) -> None:
    assert run("close", "2022-05").exit_code == 0
    args = ["--programme", "counselling", "--reason", "a quarter billed twice",
            "--reference", "SON-2022-7"]  # fmt: skip
    refused = run("adjust", "2022-05", "--amount-ore", "-15125", *args)
    assert refused.exit_code == 1 and "first open month, 2022-06" in refused.output
    done = run("adjust", "2022-06", "--amount-ore", "-15125", "--corrects", "2022-05", *args)
    assert done.exit_code == 0 and "booked on 2022-06 for 2022-05" in done.stdout
    assert (
        run("adjust", "2022-06", "--amount-ore", "1", "--corrects", "2022-5", *args).exit_code == 2
    )
    shown = run("show", "2022-06", "--programme", "counselling")
    assert "a quarter billed twice; manual correction, reference SON-2022-7" in shown.stdout
    document = json.loads(run("show", "2022-06", "--programme", "counselling", "--json").stdout)
    assert document["total_ore"] == -15_125
