"""``lots settlement``: the worked example offline, and show, close and replay over a store."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from events.billing import SessionLogged
from lots.settlement_cli import settlement_app
from services.billing.settlement import verify

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "billing-may-2022.jsonl"
CEST = timezone(timedelta(hours=2))
runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(settlement_app, list(args), catch_exceptions=False)


def test_the_worked_example_computes_exactly_and_always_to_the_same_digest() -> None:
    args = ("compute", "--events", str(EXAMPLE), "--month", "2022-05")
    first = run(*args, "--programme", "counselling", "--json")
    assert first.exit_code == 0, first.output
    document = json.loads(first.stdout)
    hourly = [line for line in document["lines"] if line["kind"] == "hourly"]
    assert sum(line["amount_ore"] for line in hourly) == 680_625
    assert document["billable_hours"] == "11.25"
    assert document["fees_ore"] == 220_000
    assert document["total_ore"] == 680_625 and document["net_ore"] == 460_625
    assert verify(document)  # the output is the document itself: its digest checks
    again = json.loads(run(*args, "--programme", "counselling", "--json").stdout)
    assert again["digest"] == document["digest"]
    everything = json.loads(run(*args, "--json").stdout)
    assert everything["digest"] != document["digest"] and everything["billable_hours"] == "11.25"


def test_the_worked_example_as_text_csv_and_html(tmp_path: Path) -> None:
    args = ("compute", "--events", str(EXAMPLE), "--month", "2022-05", "--programme", "counselling")
    text = run(*args)
    assert text.exit_code == 0
    assert "6\u00a0806,25\u00a0kr" in text.stdout and "digest " in text.stdout
    out = tmp_path / "may.csv"
    assert run(*args, "--format", "csv", "--out", str(out)).exit_code == 0
    assert out.read_text().splitlines()[1].endswith(",680625,6806.25")
    page = tmp_path / "may.html"
    assert run(*args, "--format", "html", "--out", str(page)).exit_code == 0
    assert "computed offline" in page.read_text()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("compute", "--events", str(EXAMPLE), "--month", "2024-13"), "month must be YYYY-MM"),
        (("compute", "--events", str(EXAMPLE), "--month", "2022-05", "--programme", "x"),
         "unknown programme"),
        (("compute", "--events", "/no/such/file", "--month", "2022-05"), "cannot read"),
        (("compute", "--events", str(EXAMPLE), "--month", "2022-05", "--call-off", "A:x:1"),
         "REFERENCE:YEAR:HOURS"),
        (("show", "2022-5"), "month must be YYYY-MM"),
        (("close", "13-2022"), "month must be YYYY-MM"),
        (("replay", "2022-00"), "month must be YYYY-MM"),
    ],
)  # fmt: skip
def test_a_bad_argument_says_what_was_wrong_and_exits_2(args: tuple[str, ...], says: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert says in result.output


def test_a_bad_export_line_is_named_and_exits_2(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text(EXAMPLE.read_text() + "{not json\n")
    result = run("compute", "--events", str(export), "--month", "2022-05")
    assert result.exit_code == 2 and "line 6: not JSON" in result.output


def test_a_call_off_given_on_the_command_line_raises_the_cap(tmp_path: Path) -> None:
    earlier = json.loads(EXAMPLE.read_text().splitlines()[0])["data"]
    session = SessionLogged(
        session_id=uuid.uuid4(), case_id=uuid.uuid4(), meeting_id=None, programme="counselling",
        provider="leanlink", performed_on="2022-04-04", minutes=60, billable_quarters=4,
        client_hours=Decimal("2589.00"), rate=Decimal("605.00"), amount_ore=1, fee_ore=0,
        tariff_version="v", settlement_month="2022-04",
    )  # fmt: skip
    export = tmp_path / "export.jsonl"
    lines = EXAMPLE.read_text().splitlines()
    lines.append(
        json.dumps(
            {
                "stream": "billing.events",
                "type": "SessionLogged",
                "version": 1,
                "id": str(uuid.uuid4()),
                "data": session.model_dump(mode="json"),
            }
        )
    )
    export.write_text("\n".join(lines))  # fmt: skip
    base = ("compute", "--events", str(export), "--month", "2022-05", "--json")
    capped = json.loads(run(*base).stdout)
    assert capped["billable_hours"] == "1.00" and earlier["programme"] == "counselling"
    free = json.loads(run(*base, "--call-off", "AVROP-2022-1:2022:100").stdout)
    assert free["billable_hours"] == "11.25"


def test_a_meeting_with_no_price_in_force_is_listed_as_waiting_and_exits_0(
    tmp_path: Path,
) -> None:
    """As billing does: the meeting waits for its price, the rest of the month is settled."""
    first = json.loads(EXAMPLE.read_text().splitlines()[0])
    december = dict(first["data"])  # a month before the counselling contract (003) started
    december |= {
        "meeting_id": str(uuid.uuid4()),
        "started_at": "2021-12-07T09:00:00+01:00",
        "ended_at": "2021-12-07T10:00:00+01:00",
    }
    export = tmp_path / "export.jsonl"
    lines = [
        *EXAMPLE.read_text().splitlines(),
        json.dumps(first | {"id": str(uuid.uuid4()), "data": december}),
    ]
    export.write_text("\n".join(lines) + "\n")  # fmt: skip
    result = run("compute", "--events", str(export), "--month", "2021-12", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    [waiting] = document["awaiting_price"]
    assert waiting["meeting_id"] == december["meeting_id"]
    assert waiting["reason"].startswith("counselling hourly rate is not known for 2021-12-07")
    assert document["billable_hours"] == "0.00" and verify(document)
    text = run("compute", "--events", str(export), "--month", "2021-12")
    assert text.exit_code == 0
    assert "waiting for a price: 1 session: counselling hourly rate" in text.stdout
    may = json.loads(run("compute", "--events", str(export), "--month", "2022-05", "--json").stdout)
    assert may["billable_hours"] == "11.25" and may["awaiting_price"] == []


def test_every_verb_takes_the_month_the_same_way_and_compute_also_as_contracts_md_names_it() -> (
    None
):
    verbs = {"show", "preview", "close", "adjust", "replay", "compute"}
    for verb in verbs:  # MONTH, the first argument, in every verb's usage
        usage = run(verb, "--help").stdout
        assert re.search(rf"{verb} \[OPTIONS\] [{{\[]?MONTH\b", usage), verb
    positional = run("compute", "2022-05", "--events", str(EXAMPLE), "--json")
    named = run("compute", "--events", str(EXAMPLE), "--month", "2022-05", "--json")
    assert positional.exit_code == named.exit_code == 0
    assert json.loads(positional.stdout)["digest"] == json.loads(named.stdout)["digest"]
    both = run("compute", "2022-05", "--events", str(EXAMPLE), "--month", "2022-06")
    assert both.exit_code == 2 and "two months given" in both.output
    neither = run("compute", "--events", str(EXAMPLE))
    assert neither.exit_code == 2 and "give the month" in neither.output


def test_out_to_a_directory_or_into_a_missing_one_is_refused_in_words(tmp_path: Path) -> None:
    args = ("compute", "2022-05", "--events", str(EXAMPLE), "--format", "csv")
    into_directory = run(*args, "--out", str(tmp_path))
    assert into_directory.exit_code == 2
    assert f"cannot write {tmp_path}: it is a directory" in into_directory.output
    missing = tmp_path / "no" / "such" / "may.csv"
    into_missing = run(*args, "--out", str(missing))
    assert into_missing.exit_code == 2
    assert f"the directory {missing.parent} does not exist" in into_missing.output
    assert not missing.parent.exists()
