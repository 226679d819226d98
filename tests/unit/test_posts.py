"""The joint contract's 2.8 MSEK is for four agreed full-time posts (002): the line follows them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.billing.settlement import settle
from services.billing.tariff_entries import (
    OPI,
    Indexation,
    Posts,
    TariffError,
    entry_from_record,
    entry_record,
)
from services.billing.tariff_seeds import default_catalogue
from services.billing.tariffs import Catalogue

JOINT = "coordinated-network-2018"
YEAR = 280_000_000  # 2.8 MSEK a year for 4 posts (002)


def posts(ftes: str, valid_from: date, payment_ftes: str = "4", **over: object) -> Posts:
    fields: dict[str, object] = {
        "entry_id": f"posts-{valid_from}", "contract": JOINT, "ftes": Decimal(ftes),
        "payment_ftes": Decimal(payment_ftes), "valid_from": valid_from,
    }  # fmt: skip
    return Posts(**(fields | over))  # type: ignore[arg-type]


def year_paid(catalogue: Catalogue, year: int) -> int:
    return sum(
        settle(f"{year}-{m:02d}", [], catalogue, programme="network")["total_ore"]
        for m in range(1, 13)
    )


def half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2))


def test_the_default_is_four_posts_and_pays_exactly_the_seeds_amount() -> None:
    catalogue = default_catalogue()
    assert year_paid(catalogue, 2019) == YEAR
    [line] = settle("2019-03", [], catalogue, programme="network")["lines"]
    assert (line["ftes"], line["payment_ftes"], line["period_amount_ore"]) == ("4", "4", YEAR)
    assert f"{JOINT}-posts#" in line["tariff_version"]


def test_a_fifth_post_from_july_pays_each_half_year_at_its_own_amount() -> None:
    catalogue = default_catalogue().with_entries(posts("5", date(2020, 7, 1)))
    # 2.8 MSEK x 6/12 + 3.5 MSEK (700 000 SEK a post x 5) x 6/12.
    assert year_paid(catalogue, 2020) == 140_000_000 + 175_000_000
    [line] = settle("2020-07", [], catalogue, programme="network")["lines"]
    assert (line["ftes"], line["period_amount_ore"], line["covered_from"]) == (
        "5", 350_000_000, "2020-07",
    )  # fmt: skip
    assert year_paid(catalogue, 2019) == YEAR


def test_posts_ending_return_the_contract_to_the_posts_before() -> None:
    catalogue = default_catalogue().with_entries(
        posts("2", date(2020, 1, 1), valid_to=date(2020, 3, 31))
    )
    assert [
        settle(f"2020-{m:02d}", [], catalogue, programme="network")["lines"][0]["ftes"]
        for m in (3, 4)
    ] == ["2", "4"]


@given(
    st.decimals(min_value=0, max_value=12, places=2, allow_nan=False),
    st.integers(min_value=2, max_value=12),
    st.decimals(min_value=-5, max_value=10, places=1, allow_nan=False),
)
def test_a_change_of_posts_pays_the_year_rounded_once_per_part(
    ftes: Decimal, month: int, opi: Decimal
) -> None:
    catalogue = default_catalogue().with_entries(
        posts(str(ftes), date(2020, month, 1)),
        Indexation(entry_id="opi-2020", series=OPI, year=2020, percent=opi,
                   applies_from=date(2020, 1, 1)),
    )  # fmt: skip
    factor = 1 + Fraction(opi) / 100
    before = half_up(YEAR * factor)
    after = half_up(YEAR * factor * Fraction(ftes) / 4)
    expected = half_up(Fraction(before * (month - 1), 12)) + half_up(
        Fraction(after * (13 - month), 12)
    )
    assert year_paid(catalogue, 2020) == expected


def test_a_change_inside_a_month_or_for_an_hourly_contract_is_refused() -> None:
    with pytest.raises(TariffError, match="first day"):
        default_catalogue().with_entries(posts("5", date(2020, 7, 15)))
    with pytest.raises(TariffError, match="no fixed-price term"):
        default_catalogue().with_entries(posts("5", date(2022, 7, 1), contract="counselling-2022"))
    with pytest.raises(TariffError, match="posts"):
        default_catalogue().with_entries(posts("5", date(2020, 7, 1), payment_ftes="0"))


def test_posts_are_recorded_and_read_back_unchanged() -> None:
    entry = posts("4.5", date(2020, 7, 1), valid_to=date(2020, 12, 31))
    assert entry_from_record(entry_record(entry)).ref == entry.ref
