"""The default tariff catalogue: the seeds' prices and terms (000, 002, 003, 004).

Recorded as the first version of a store's tariff book (``booking.py``); every later price is
recorded on top of it (``tariff_commands.py``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.billing.tariff_entries import (
    FEE_REVISION,
    OPI,
    UPLIFT,
    ClientFee,
    ContractTerm,
    FixedPayment,
    HourlyRate,
    Posts,
    YearlyCap,
)
from services.billing.tariffs import Catalogue


# fmt: off
def default_catalogue() -> Catalogue:
    """The seeds' prices (000, 002, 003, 004); no indexation and no extension is recorded."""
    joint = "coordinated-network-2018"
    return Catalogue(
        terms=(
            ContractTerm(entry_id="network-2018-term", contract="network-2018",
                         programmes=("network",), billing="fixed",
                         valid_from=date(2018, 1, 1), valid_to=date(2018, 8, 31)),
            ContractTerm(entry_id=f"{joint}-term", contract=joint,
                         programmes=("coordinated", "network"), billing="fixed",
                         valid_from=date(2018, 9, 1), valid_to=date(2021, 8, 31),
                         extension_years=3),
            ContractTerm(entry_id="counselling-2022-term", contract="counselling-2022",
                         programmes=("counselling",), billing="hourly",
                         valid_from=date(2022, 1, 1)),
            ContractTerm(entry_id="field-2021-term", contract="field-2021",
                         programmes=("field",), billing="fixed", valid_from=date(2021, 1, 1)),
        ),
        fixed=(
            FixedPayment(entry_id="network-2018-payment", contract="network-2018",
                         amount_ore=64_700_000, per="term", price_level_year=2017,
                         indexed_by=OPI, valid_from=date(2018, 1, 1),
                         valid_to=date(2018, 8, 31)),
            FixedPayment(entry_id=f"{joint}-payment", contract=joint,
                         amount_ore=280_000_000, per="year", price_level_year=2018,
                         indexed_by=OPI, valid_from=date(2018, 9, 1)),
            FixedPayment(entry_id="field-2021-payment", contract="field-2021",
                         amount_ore=500_000_000, per="year", price_level_year=2021,
                         valid_from=date(2021, 1, 1)),
        ),
        rates=(HourlyRate(entry_id="counselling-rate-2022", programme="counselling",
                          sek_per_hour=Decimal("605.00"), price_level_year=2022,
                          indexed_by=UPLIFT, valid_from=date(2022, 1, 1)),),
        fees=(ClientFee(entry_id="counselling-fee-2022", programme="counselling",
                        ore_per_visit=20_000, price_level_year=2022, indexed_by=FEE_REVISION,
                        valid_from=date(2022, 1, 1)),),
        caps=(YearlyCap(entry_id="counselling-cap-2022", programme="counselling", hours=2590,
                        valid_from=date(2022, 1, 1)),),
        # 002: "2,8 mnkr/år, vilket motsvarar 4 årsarbetare" (700 000 SEK a post and year).
        posts=(Posts(entry_id=f"{joint}-posts", contract=joint, ftes=Decimal(4),
                     payment_ftes=Decimal(4), valid_from=date(2018, 9, 1)),),
    )
# fmt: on
