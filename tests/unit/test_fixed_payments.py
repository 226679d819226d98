"""Fixed payments by the month: the months a payment covers sum to its share, rounded once."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from infra.months import last_day
from services.billing.fixed import monthly_share, rounded_share
from services.billing.settlement import settle
from services.billing.tariff_entries import ContractTerm, Extension, FixedPayment
from services.billing.tariff_seeds import default_catalogue
from services.billing.tariffs import Catalogue

JOINT = "coordinated-network-2018"
YEAR = 280_000_000  # 2.8 MSEK a year (002)


def paid(catalogue: Catalogue, year: int, months: range, programme: str | None = None) -> int:
    return sum(
        settle(f"{year}-{m:02d}", [], catalogue, programme=programme)["total_ore"] for m in months
    )


def half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


def test_the_joint_contract_pays_its_first_four_months_as_four_twelfths_rounded_once() -> None:
    # 2018-09..12: 2.8 MSEK x 4 / 12 = 933,333.33 SEK -> 93,333,333 öre (not 3 öre more).
    amounts = [
        settle(f"2018-{m:02d}", [], default_catalogue(), programme="coordinated")["total_ore"]
        for m in range(9, 13)
    ]
    assert amounts == [23_333_333, 23_333_334, 23_333_333, 23_333_333]
    assert sum(amounts) == 93_333_333


def test_the_joint_contract_pays_eight_months_of_2021_when_it_is_not_extended() -> None:
    # 2021-01..08: 2.8 MSEK x 8 / 12 = 1,866,666.67 SEK -> 186,666,667 öre (not 3 öre less).
    catalogue = default_catalogue()
    assert paid(catalogue, 2021, range(1, 9), "network") == 186_666_667
    assert paid(catalogue, 2021, range(9, 13), "network") == 0


def test_an_extension_recorded_after_august_leaves_the_months_paid_and_the_year_exact() -> None:
    before = default_catalogue()
    after = before.with_entries(Extension(entry_id="ext-2021", contract=JOINT))
    august = settle("2021-08", [], before, programme="network")["total_ore"]
    assert settle("2021-08", [], after, programme="network")["total_ore"] == august
    assert paid(after, 2021, range(1, 13), "network") == YEAR
    [line] = settle("2021-09", [], after, programme="network")["lines"]
    assert (line["covered_from"], line["covered_months"], line["month_of_period"]) == (
        "2021-01",
        9,
        9,
    )


def test_a_yearly_line_says_which_months_of_the_year_it_has_covered() -> None:
    [line] = settle("2018-11", [], default_catalogue(), programme="network")["lines"]
    assert (line["covered_from"], line["covered_months"]) == ("2018-09", 3)
    assert (line["period_months"], line["month_of_period"]) == (12, 11)


def test_field_work_pays_each_month_within_an_ore_of_a_twelfth_and_the_year_exactly() -> None:
    amounts = [
        settle(f"2023-{m:02d}", [], default_catalogue(), programme="field")["total_ore"]
        for m in range(1, 13)
    ]
    assert sum(amounts) == 500_000_000
    assert all(abs(Fraction(a) - Fraction(500_000_000, 12)) < 1 for a in amounts)


@given(
    amount=st.integers(min_value=0, max_value=10**12),
    months=st.integers(min_value=1, max_value=48),
    data=st.data(),
)
def test_the_first_months_of_a_period_sum_to_their_share_rounded_once(
    amount: int, months: int, data: st.DataObject
) -> None:
    covered = data.draw(st.integers(min_value=0, max_value=months))
    shares = [monthly_share(amount, months, j) for j in range(1, covered + 1)]
    assert sum(shares) == rounded_share(amount, months, covered)
    assert rounded_share(amount, months, covered) == half_up(Fraction(amount * covered, months))
    assert all(abs(Fraction(s) - Fraction(amount, months)) < 1 for s in shares)
    assert rounded_share(amount, months, months) == amount


def month_strategy() -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(st.integers(min_value=2018, max_value=2022), st.integers(1, 12))


@given(
    start=month_strategy(),
    length=st.integers(min_value=1, max_value=40),
    open_ended=st.booleans(),
    yearly=st.integers(min_value=1, max_value=10**11),
)
def test_every_year_of_a_term_sums_to_the_yearly_amount_times_its_months_over_12(
    start: tuple[int, int], length: int, open_ended: bool, yearly: int
) -> None:
    first = date(start[0], start[1], 1)
    end_index = first.year * 12 + first.month - 1 + length - 1
    end = last_day(end_index // 12, end_index % 12 + 1)
    catalogue = Catalogue(
        terms=(
            ContractTerm(entry_id="t-term", contract="t", programmes=("field",), billing="fixed",
                         valid_from=first, valid_to=None if open_ended else end),
        ),
        fixed=(
            FixedPayment(entry_id="t-pay", contract="t", amount_ore=yearly, per="year",
                         price_level_year=first.year, valid_from=first),
        ),
    )  # fmt: skip
    for year in range(first.year, end.year + 1):
        covered = [
            m
            for m in range(1, 13)
            if first <= date(year, m, 1) and (open_ended or date(year, m, 1) <= end)
        ]
        assert paid(catalogue, year, range(1, 13)) == half_up(Fraction(yearly * len(covered), 12))


@given(
    first=st.integers(min_value=1, max_value=10**11),
    second=st.integers(min_value=1, max_value=10**11),
    change=st.integers(min_value=2, max_value=12),
)
def test_a_year_whose_amount_changes_pays_each_part_as_its_months_share(
    first: int, second: int, change: int
) -> None:
    catalogue = Catalogue(
        terms=(
            ContractTerm(entry_id="t-term", contract="t", programmes=("field",), billing="fixed",
                         valid_from=date(2023, 1, 1)),
        ),
        fixed=(
            FixedPayment(entry_id="t-pay-1", contract="t", amount_ore=first, per="year",
                         price_level_year=2023, valid_from=date(2023, 1, 1),
                         valid_to=last_day(2023, change - 1)),
            FixedPayment(entry_id="t-pay-2", contract="t", amount_ore=second, per="year",
                         price_level_year=2023, valid_from=date(2023, change, 1)),
        ),
    )  # fmt: skip
    assert paid(catalogue, 2023, range(1, change)) == rounded_share(first, 12, change - 1)
    if first == second:  # one amount all year: one run of twelve months
        assert paid(catalogue, 2023, range(1, 13)) == first
    else:
        assert paid(catalogue, 2023, range(change, 13)) == rounded_share(second, 12, 13 - change)
