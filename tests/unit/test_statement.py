"""The statement a finance officer reads (statement_html.py, statement_words.py): lines in words,
every amount kronor of the document's öre, lineage as references, grouped notes, Stockholm time."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from infra.money import kronor
from lots.settlement_cli import settlement_app
from services.billing.adjustments import manual_adjustment
from services.billing.offline import compute_from_export
from services.billing.settlement import PROGRAMMES, settle
from services.billing.settlement_lines import Awaiting
from services.billing.statement import to_csv, to_html
from services.billing.statement_words import line_name, lineage, rate_ore
from services.billing.tariff_entries import Extension, Indexation
from services.billing.tariff_seeds import default_catalogue

CATALOGUE = default_catalogue()
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "billing-may-2022.jsonl"
AMOUNT = re.compile(r"-?\d{1,3}(?:\u00a0\d{3})*,\d{2}\u00a0kr")
CELL = re.compile(r'<td class="n amount">([^<]*)</td>')


def worked_example() -> dict[str, Any]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return compute_from_export(lines, "2022-05", "counselling", CATALOGUE)


def figures(document: dict[str, Any]) -> set[int]:
    """Every sum of öre the statement may show: the lines and their parts, and the month's."""
    lines = document["lines"]
    shown = {document["total_ore"], document["fees_ore"], document["net_ore"]}
    for line in lines:
        shown |= {line["amount_ore"], line.get("fees_collected_ore", 0),
                  line.get("period_amount_ore", 0)}  # fmt: skip
        if "rate" in line:
            shown.add(rate_ore(line["rate"]))
    for programme in {line["programme"] for line in lines}:
        shown.add(sum(line["amount_ore"] for line in lines if line["programme"] == programme))
    return shown


amounts = st.lists(
    st.tuples(st.sampled_from(PROGRAMMES), st.integers(-(10**11), 10**11).filter(bool)),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(amounts, st.sampled_from(["2018-05", "2019-03", "2021-12", "2022-05", "2024-11"]))
def test_every_amount_shown_is_kronor_of_the_documents_ore(
    booked: list[tuple[str, int]], month: str
) -> None:
    adjustments = [
        manual_adjustment(month=month, programme=p, amount_ore=a, reason="r", reference=f"R-{n}")
        for n, (p, a) in enumerate(booked)
    ]
    document = settle(month, [], CATALOGUE, adjustments=adjustments)
    if month == "2022-05":
        document = {**worked_example(), "lines": document["lines"] + worked_example()["lines"]}
    page = to_html({"document": document, "status": "open"})
    ordered = sorted(document["lines"], key=lambda line: line["programme"])
    assert CELL.findall(page) == [kronor(line["amount_ore"]) for line in ordered]
    allowed = {kronor(ore) for ore in figures(document)}
    assert set(AMOUNT.findall(page)) <= allowed
    assert "SEK" not in page and not re.search(r"\d\.\d\d kr", page)


def test_the_worked_example_names_its_line_in_words_and_keeps_the_csv_machine_readable() -> None:
    document = worked_example()
    [hourly] = document["lines"]
    assert (hourly["amount_ore"], document["billable_hours"], document["fees_ore"]) == (
        680_625, "11.25", 220_000,
    )  # fmt: skip
    page = to_html({"document": document, "status": "computed"})
    assert "Family counselling, 11.25 client hours at 605,00\u00a0kr/h" in page
    assert "6\u00a0806,25\u00a0kr" in page and "2\u00a0200,00\u00a0kr" in page
    assert 'href="#ref-1"' in page and "hourly rate (counselling-rate-2022#" in page
    assert "counselling-rate-2022#" not in page.split("References")[0]  # lineage not inline
    rows = to_csv(document).splitlines()
    assert rows[0].split(",")[-2:] == ["amount_ore", "amount_sek"]
    assert rows[1].endswith(",680625,6806.25") and ",counselling,hourly," in rows[1]


def test_a_fixed_line_says_its_contract_month_price_level_and_extension() -> None:
    catalogue = CATALOGUE.with_entries(
        Extension(entry_id="coordinated-network-2018-extension-1",
                  contract="coordinated-network-2018"),
        Indexation(entry_id="OPI-2019", series="OPI", year=2019, percent=Decimal("2.5"),
                   applies_from=date(2019, 1, 1)),
    )  # fmt: skip
    document = settle("2023-11", [], catalogue, programme="network")
    view = {"document": document, "status": "open",
            "term_ends": {"coordinated-network-2018": "2024-08-31"}}  # fmt: skip
    page = to_html(view)
    assert (
        "Coordinated support and network work, November 2023, 2\u00a0870\u00a0000,00\u00a0kr a "
        "year indexed from the 2018 price level, extended to 2024-08-31"
    ) in page
    assert "extension 1 of the term (coordinated-network-2018-extension-1#" in page
    # Four years carried forward: one note naming the years, not four.
    [note] = [li for li in page.splitlines() if "no OPI indexation recorded" in li]
    assert "recorded for 2020, 2021, 2022, 2023;" in note
    plain = settle("2019-02", [], CATALOGUE, programme="network")
    assert "2\u00a0800\u00a0000,00\u00a0kr a year at the 2018 price level" in to_html(
        {"document": plain, "status": "open"}
    )


def test_near_identical_notes_and_waiting_sessions_are_one_entry_each() -> None:
    waiting = [
        Awaiting(UUID(int=n), UUID(int=1000 + n), "counselling", "2023-01",
                 f"hourly rate of counselling is not known for 2023-01-{n + 2:02d}: no "
                 "linkoping-uplift indexation recorded for 2023")
        for n in range(16)
    ]  # fmt: skip
    document = settle("2023-01", [], CATALOGUE, awaiting=waiting)
    page = to_html({"document": document, "status": "open"})
    [entry] = [li for li in page.splitlines() if "hourly rate of counselling" in li]
    assert entry.startswith("<li>16 sessions: hourly rate of counselling is not known for ")
    assert "2023-01-02, 2023-01-03" in entry and "2023-01-17:" in entry
    [ended] = [li for li in page.splitlines() if "no contract in force" in li]
    assert ended.startswith("<li>Coordinated support, Network work: contract")


def test_times_are_shown_in_stockholm_time_with_the_zone_named() -> None:
    document = settle("2022-05", [], CATALOGUE)
    view = {"document": document, "status": "closed", "closed_by": "ekonom",
            "closed_at": "2022-06-01T08:15:00+00:00"}  # fmt: skip
    page = to_html(view)
    assert "closed 1 June 2022, 10:15 Stockholm time (CEST) by ekonom" in page
    winter = {**view, "closed_at": "2022-12-01T08:15:00+00:00"}
    assert "1 December 2022, 09:15 Stockholm time (CET)" in to_html(winter)


def test_the_text_statement_groups_its_notes_too() -> None:
    example = str(EXAMPLE)
    shown = (
        CliRunner()
        .invoke(settlement_app, ["compute", "--events", example, "--month", "2022-05"])
        .stdout
    )
    [note] = [row for row in shown.splitlines() if "no contract in force" in row]
    assert note.startswith("  note: Coordinated support, Network work: contract")
    assert "Field work, May 2022, 5\u00a0000\u00a0000,00\u00a0kr a year" in shown


def test_the_lineage_names_each_kind_of_entry_as_billing_ids_them() -> None:
    line = {
        "kind": "hourly",
        "tariff_version": "counselling-rate-2023-01-01#0a1b2c3d+linkoping-uplift-2024#1a2b3c4d"
        "+unindexed-linkoping-uplift-2025;counselling-fee-2023-01-01#2b3c4d5e",
    }
    assert lineage(line) == (
        "hourly rate (counselling-rate-2023-01-01#0a1b2c3d); linkoping-uplift indexation for "
        "2024 (linkoping-uplift-2024#1a2b3c4d); no linkoping-uplift index for 2025, level "
        "carried forward; client fee (counselling-fee-2023-01-01#2b3c4d5e)"
    )


def test_an_adjustment_says_its_cause_in_words() -> None:
    line = {"kind": "adjustment", "programme": "counselling", "belongs_to_month": "2022-05",
            "reason": "OPI 2022 late", "cause": "catch_up", "reference": "SON-2023-2"}  # fmt: skip
    said = line_name(line, "2023-03")
    assert "catch-up for a tariff recorded after the month closed, reference SON-2023-2" in said
    assert "catch_up" not in said
