"""The tariff catalogue: the seeds' prices, effective dates, indexation and unknown prices."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from services.billing.tariff_entries import (
    OPI,
    UPLIFT,
    ClientFee,
    ContractTerm,
    Extension,
    HourlyRate,
    Indexation,
    TariffError,
)
from services.billing.tariff_quotes import PriceNotKnown, ore_half_up
from services.billing.tariff_seeds import default_catalogue
from services.billing.tariffs import Catalogue

JOINT = "coordinated-network-2018"


def uplifted() -> Catalogue:
    """The default catalogue with two uplifts: 3.1 % for 2023, 2.0 % for 2024 from 1 April."""
    return default_catalogue().with_entries(
        Indexation(entry_id="uplift-2023", series=UPLIFT, year=2023,
                   percent=Decimal("3.1"), applies_from=date(2023, 1, 1)),
        Indexation(entry_id="uplift-2024", series=UPLIFT, year=2024,
                   percent=Decimal("2.0"), applies_from=date(2024, 4, 1)),
    )  # fmt: skip


def test_counselling_rate_fee_and_cap_of_2022_are_the_seeds() -> None:
    catalogue = default_catalogue()
    on = date(2022, 5, 4)
    assert catalogue.hourly_rate("counselling", on).sek_per_hour == Decimal("605.00")
    assert catalogue.client_fee("counselling", on).ore == 20_000
    assert catalogue.yearly_cap("counselling", on).hours == 2590


def test_counselling_contract_starts_on_1_january_2022() -> None:
    catalogue = default_catalogue()
    assert catalogue.hourly_rate("counselling", date(2022, 1, 1)).sek_per_hour == Decimal("605")
    with pytest.raises(PriceNotKnown) as raised:
        catalogue.hourly_rate("counselling", date(2021, 12, 31))
    assert str(raised.value) == (
        "counselling hourly rate is not known for 2021-12-31: no tariff entry is in force"
    )
    assert raised.value.price == "counselling hourly rate"
    assert raised.value.on == date(2021, 12, 31)


def test_a_price_never_set_raises_instead_of_pricing_at_zero() -> None:
    with pytest.raises(PriceNotKnown, match="network hourly rate is not known for 2022-05-04"):
        default_catalogue().hourly_rate("network", date(2022, 5, 4))
    with pytest.raises(PriceNotKnown, match="field yearly hour cap"):
        default_catalogue().yearly_cap("field", date(2022, 5, 4))


def rate_on(catalogue: Catalogue, on: date) -> str:
    return str(catalogue.hourly_rate("counselling", on).sek_per_hour)


@pytest.mark.parametrize(
    ("on", "rate"),
    [
        (date(2022, 12, 31), "605.00"),
        (date(2023, 1, 1), "623.76"),
        (date(2024, 3, 31), "623.76"),
        (date(2024, 4, 1), "636.23"),
    ],
)
def test_uplift_applies_from_its_first_day_not_the_day_before(on: date, rate: str) -> None:
    assert rate_on(uplifted(), on) == rate


def test_indexed_rate_is_rounded_half_up_to_whole_ore_per_hour() -> None:
    # 605 * 1.031 = 623.755 exactly: half an öre rounds up.
    assert rate_on(uplifted(), date(2023, 6, 1)) == "623.76"


def test_indexation_compounds_on_the_base_price_not_on_a_rounded_rate() -> None:
    # 605 * 1.031 * 1.02 = 636.2301 -> 636.23; compounding the rounded 623.76 would give 636.24.
    quote = uplifted().hourly_rate("counselling", date(2024, 6, 1))
    assert quote.sek_per_hour == Decimal("636.23")
    assert "uplift-2023#" in quote.tariff_version and "uplift-2024#" in quote.tariff_version


def test_version_names_the_entries_used_and_is_stable() -> None:
    first = default_catalogue().hourly_rate("counselling", date(2022, 5, 4)).tariff_version
    again = default_catalogue().hourly_rate("counselling", date(2022, 5, 4)).tariff_version
    assert first == again
    assert first.startswith("counselling-rate-2022#") and len(first.split("#")[1]) == 8
    assert uplifted().hourly_rate("counselling", date(2022, 5, 4)).tariff_version == first


def test_changed_value_under_the_same_id_changes_the_version() -> None:
    changed = replace(
        default_catalogue(),
        rates=(HourlyRate(entry_id="counselling-rate-2022", programme="counselling",
                          sek_per_hour=Decimal("606.00"), price_level_year=2022,
                          indexed_by=UPLIFT, valid_from=date(2022, 1, 1)),),
    )  # fmt: skip
    on = date(2022, 5, 4)
    assert (
        changed.hourly_rate("counselling", on).tariff_version
        != default_catalogue().hourly_rate("counselling", on).tariff_version
    )


def test_year_without_recorded_uplift_carries_the_price_forward_visibly() -> None:
    quote = default_catalogue().hourly_rate("counselling", date(2023, 3, 1))
    assert quote.sek_per_hour == Decimal("605.00")
    assert quote.tariff_version.endswith(f"+unindexed-{UPLIFT}-2023")
    assert quote.notes == (
        f"counselling hourly rate: no {UPLIFT} indexation recorded for 2023; "
        "the previous price level is carried forward",
    )


def test_refuse_policy_raises_for_a_year_without_recorded_uplift() -> None:
    strict = default_catalogue().with_policy("refuse")
    assert strict.hourly_rate("counselling", date(2022, 12, 31)).sek_per_hour == Decimal("605")
    with pytest.raises(PriceNotKnown) as raised:
        strict.hourly_rate("counselling", date(2023, 1, 1))
    assert str(raised.value) == (
        "counselling hourly rate is not known for 2023-01-01: "
        f"no {UPLIFT} indexation recorded for 2023"
    )


def test_a_new_fee_entry_replaces_the_old_from_its_first_day() -> None:
    catalogue = default_catalogue().with_entries(
        ClientFee(entry_id="counselling-fee-2023", programme="counselling", ore_per_visit=21_000,
                  price_level_year=2023, valid_from=date(2023, 1, 1)),
    )  # fmt: skip
    assert catalogue.client_fee("counselling", date(2022, 12, 31)).ore == 20_000
    fee_2023 = catalogue.client_fee("counselling", date(2023, 1, 1))
    assert fee_2023.ore == 21_000
    assert fee_2023.notes == ()


def test_network_work_2018_is_647000_sek_for_the_period_at_2017_level() -> None:
    quote = default_catalogue().fixed_payment("network-2018", date(2018, 5, 1))
    assert quote.period_amount_ore == 64_700_000
    assert quote.payment.per == "term" and quote.payment.price_level_year == 2017
    assert "unindexed-OPI-2018" in quote.tariff_version
    with pytest.raises(PriceNotKnown):
        default_catalogue().with_policy("refuse").fixed_payment("network-2018", date(2018, 5, 1))


def test_joint_payment_is_indexed_by_opi_from_2019() -> None:
    catalogue = default_catalogue().with_entries(
        Indexation(entry_id="opi-2019", series=OPI, year=2019, percent=Decimal("2.7"),
                   applies_from=date(2019, 1, 1)),
    )  # fmt: skip
    assert catalogue.fixed_payment(JOINT, date(2018, 12, 1)).period_amount_ore == 280_000_000
    assert catalogue.fixed_payment(JOINT, date(2019, 1, 1)).period_amount_ore == 287_560_000
    assert catalogue.fixed_payment(JOINT, date(2018, 12, 1)).notes == ()


def test_joint_contract_ends_2021_08_31_unless_an_extension_is_recorded() -> None:
    catalogue = default_catalogue()
    assert catalogue.term_end(JOINT) == date(2021, 8, 31)
    contracts = [t.contract for t in catalogue.terms_in_force(date(2021, 9, 1))]
    assert contracts == ["field-2021"]
    extended = catalogue.with_entries(Extension(entry_id="ext-2021", contract=JOINT))
    assert extended.term_end(JOINT) == date(2024, 8, 31)
    assert [t.contract for t in extended.terms_in_force(date(2024, 8, 1))] == [
        JOINT,
        "counselling-2022",
        "field-2021",
    ]
    twice = extended.with_entries(Extension(entry_id="ext-2024", contract=JOINT))
    assert twice.term_end(JOINT) == date(2027, 8, 31)
    assert "ext-2024#" in twice.fixed_payment(JOINT, date(2025, 1, 1)).tariff_version


def test_only_extendable_contracts_can_be_extended() -> None:
    with pytest.raises(TariffError, match="not extendable"):
        default_catalogue().with_entries(Extension(entry_id="x", contract="counselling-2022"))


def test_catalogue_refuses_ambiguous_entries() -> None:
    with pytest.raises(TariffError, match="duplicate entry id"):
        default_catalogue().with_entries(
            Indexation(entry_id="counselling-rate-2022", series=UPLIFT, year=2023,
                       percent=Decimal(1), applies_from=date(2023, 1, 1)),
        )  # fmt: skip
    with pytest.raises(TariffError, match="duplicate rate start"):
        default_catalogue().with_entries(
            HourlyRate(entry_id="other", programme="counselling", sek_per_hour=Decimal(600),
                       price_level_year=2022, valid_from=date(2022, 1, 1)),
        )  # fmt: skip


def test_a_rate_does_not_outlive_its_contract_term() -> None:
    ended = default_catalogue().with_entries(
        ContractTerm(entry_id="counselling-2019-term", contract="counselling-2019",
                     programmes=("counselling",), billing="hourly",
                     valid_from=date(2019, 1, 1), valid_to=date(2019, 12, 31)),
        HourlyRate(entry_id="counselling-rate-2019", programme="counselling",
                   sek_per_hour=Decimal("550.00"), price_level_year=2019,
                   valid_from=date(2019, 1, 1), valid_to=date(2020, 12, 31)),
    )  # fmt: skip
    assert rate_on(ended, date(2019, 12, 31)) == "550.00"
    with pytest.raises(PriceNotKnown) as raised:
        ended.hourly_rate("counselling", date(2020, 1, 1))
    assert str(raised.value) == (
        "counselling hourly rate is not known for 2020-01-01: no hourly contract term is in force"
    )


def test_field_work_is_5_million_sek_a_year() -> None:
    quote = default_catalogue().fixed_payment("field-2021", date(2024, 2, 1))
    assert quote.period_amount_ore == 500_000_000 and quote.notes == ()


@pytest.mark.parametrize(
    ("ore", "rounded"),
    [("0.5", 1), ("1.49", 1), ("1.5", 2), ("2.5", 3), ("-0.5", -1), ("7", 7)],
)
def test_ore_rounding_is_half_up(ore: str, rounded: int) -> None:
    assert ore_half_up(Decimal(ore)) == rounded
