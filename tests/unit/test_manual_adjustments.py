"""Manual adjustments (adjustments.py): the record, its id, and the document's sums with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.billing import AdjustmentRecorded
from services.billing.adjustments import (
    AdjustmentError,
    adjustment_id_for,
    manual_adjustment,
    rederived,
)
from services.billing.offline import compute_from_export
from services.billing.settlement import PROGRAMMES, settle, verify
from services.billing.statement import describe
from services.billing.tariff_seeds import default_catalogue

CATALOGUE = default_catalogue()
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "billing-may-2022.jsonl"


def made(**over: Any) -> AdjustmentRecorded:
    fields: dict[str, Any] = {
        "month": "2022-06", "programme": "counselling", "amount_ore": -30_250,
        "reason": "billed twice", "reference": "SON-2022-114", "corrects": "2022-05",
    } | over  # fmt: skip
    return manual_adjustment(**fields)


def test_the_record_names_its_months_reason_and_reference_and_re_derives() -> None:
    adjustment = made(recorded_by="ekonom")
    assert adjustment == rederived(adjustment)
    assert adjustment.adjustment_id == adjustment_id_for(
        "counselling", "2022-06", "2022-05", "SON-2022-114"
    )
    assert (adjustment.belongs_to_month, adjustment.cause) == ("2022-05", "manual")
    assert made(corrects=None).belongs_to_month == "2022-06"


@pytest.mark.parametrize(
    ("over", "says"),
    [
        ({"amount_ore": 0}, "non-zero"),
        ({"amount_ore": 10**13 + 1}, "non-zero"),
        ({"reason": "  "}, "reason must not be blank"),
        ({"reference": ""}, "reference must not be blank"),
        ({"reference": "x" * 201}, "longer than 200"),
        ({"reason": "line\u202eforged"}, "control or format"),
        ({"corrects": "2022-07"}, "later month"),
    ],
)
def test_what_cannot_be_an_adjustment_is_refused(over: dict[str, object], says: str) -> None:
    with pytest.raises(AdjustmentError, match=says):
        made(**over)


def test_an_altered_record_does_not_re_derive() -> None:
    adjustment = made()
    altered = adjustment.model_copy(update={"reference": "SON-2"})
    with pytest.raises(AdjustmentError, match="does not re-derive"):
        rederived(altered)


amounts = st.lists(
    st.tuples(st.sampled_from(PROGRAMMES), st.integers(-(10**9), 10**9).filter(bool)),
    max_size=8,
)


@given(amounts, st.sampled_from(["2019-03", "2021-12", "2022-06"]), st.sampled_from(PROGRAMMES))
def test_the_total_is_the_sum_of_the_lines_and_adjustments_add_exactly_their_amounts(
    booked: list[tuple[str, int]], month: str, programme: str
) -> None:
    adjustments = [
        made(month=month, corrects=None, programme=p, amount_ore=a, reference=f"R-{n}")
        for n, (p, a) in enumerate(booked)
    ]
    for scope in (None, programme):
        without = settle(month, [], CATALOGUE, programme=scope)
        document = settle(month, [], CATALOGUE, programme=scope, adjustments=adjustments)
        assert verify(document)
        assert document["total_ore"] == sum(line["amount_ore"] for line in document["lines"])
        assert document["net_ore"] == document["total_ore"] - document["fees_ore"]
        added = sum(a for p, a in booked if scope in (None, p))
        assert document["total_ore"] == without["total_ore"] + added
        assert (document["fees_ore"], document["billable_hours"]) == (
            without["fees_ore"], without["billable_hours"],
        )  # fmt: skip


def test_the_line_is_shown_with_its_reason_and_reference() -> None:
    document = settle("2022-06", [], CATALOGUE, programme="counselling", adjustments=[made()])
    [line] = [x for x in document["lines"] if x["kind"] == "adjustment"]
    assert describe(line, "2022-06") == (
        "Family counselling, adjustment for May 2022: billed twice; "
        "manual correction, reference SON-2022-114"
    )


def test_the_worked_example_is_unchanged() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    document = compute_from_export(lines, "2022-05", "counselling", CATALOGUE)
    [hourly] = [x for x in document["lines"] if x["kind"] == "hourly"]
    assert (hourly["amount_ore"], document["billable_hours"], document["fees_ore"]) == (
        680_625, "11.25", 220_000,
    )  # fmt: skip
