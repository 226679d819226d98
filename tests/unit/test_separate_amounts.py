"""Premises share and state grants (003 §1.2): recorded, reported apart, never in the sums."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.billing import SeparateAmountRecorded
from services.billing.separate import SeparateAmountError, separate_amount
from services.billing.settlement import settle, verify
from services.billing.statement import to_csv, to_html
from services.billing.tariff_seeds import default_catalogue

CATALOGUE = default_catalogue()


def amount(
    kind: str, ore: int, reference: str = "R-1", programme: str = "network"
) -> SeparateAmountRecorded:
    return separate_amount(
        kind=kind, programme=programme, amount_ore=ore, period_from=date(2019, 1, 1),
        period_to=date(2019, 12, 31), month="2019-03", reference=reference,
    )  # fmt: skip


KIND = st.sampled_from(["premises_share", "state_grant"])


@given(st.lists(st.tuples(KIND, st.integers(min_value=0, max_value=10**12)), max_size=6))
def test_amounts_reported_apart_never_change_the_sums(items: list[tuple[str, int]]) -> None:
    without = settle("2019-03", [], CATALOGUE)
    records = [amount(kind, ore, f"R-{n}") for n, (kind, ore) in enumerate(items)]
    document = settle("2019-03", [], CATALOGUE, separate=records)
    assert verify(document)
    for key in ("lines", "total_ore", "fees_ore", "net_ore", "billable_hours"):
        assert document[key] == without[key]
    apart = document.get("reported_separately")
    if not items:
        assert apart is None and document == without
        return
    assert apart is not None and len(apart["items"]) == len(items)
    for kind in ("premises_share", "state_grant"):
        assert apart[f"{kind}_ore"] == sum(ore for k, ore in items if k == kind)


def test_they_are_shown_on_the_statement_and_kept_to_their_month_and_programme() -> None:
    records = [amount("premises_share", 12_345_600), amount("state_grant", 50_000_000, "SB-9")]
    document = settle("2019-03", [], CATALOGUE, separate=records)
    text = to_csv(document)
    assert "premises share 123\u00a0456,00\u00a0kr" in text and "state grant" in text
    page = to_html({"document": document, "status": "open"})
    assert "Premises share and state grants" in page and "SB-9" in page
    assert "reported_separately" not in settle("2019-04", [], CATALOGUE, separate=records)
    counselling = settle("2019-03", [], CATALOGUE, programme="counselling", separate=records)
    assert "reported_separately" not in counselling


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(SeparateAmountError, match="before it starts"):
        separate_amount(
            kind="state_grant", programme="network", amount_ore=1, period_from=date(2019, 2, 1),
            period_to=date(2019, 1, 31), month="2019-03", reference="R",
        )  # fmt: skip
