"""Contract terms as shared data (infra/contract_terms.py): intake flags a referral to a
programme with no contract in force, naming the contract and its end (issue 14 item 7)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from events.messages import SubmitReferral
from infra.contract_terms import SEED_TERMS, NoContract, no_contract, with_ends
from infra.settings import Settings
from services.billing.tariffs import default_catalogue
from services.intake.app import policy
from services.intake.rules import Accepted, IntakePolicy, evaluate
from tests.support.intake import referral

RECEIVED = datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_the_seed_terms_are_billing_s_default_catalogue() -> None:
    billing = {
        t.contract: (tuple(sorted(t.programmes)), t.valid_from, t.valid_to)
        for t in default_catalogue().terms
    }
    shared = {
        t.contract: (tuple(sorted(t.programmes)), t.first_day, t.last_day) for t in SEED_TERMS
    }
    assert shared == billing


def test_a_programme_whose_contract_ended_names_it_and_its_end() -> None:
    assert no_contract(SEED_TERMS, "network", date(2021, 8, 31)) is None
    ended = no_contract(SEED_TERMS, "network", date(2021, 9, 1))
    assert ended == NoContract("network", date(2021, 9, 1), "coordinated-network-2018",
                               date(2021, 8, 31))  # fmt: skip
    assert ended.message == (
        "network: contract coordinated-network-2018 ended on 2021-08-31; "
        "no contract in force on 2021-09-01"
    )
    extended = with_ends(SEED_TERMS, {"coordinated-network-2018": date(2024, 8, 31)})
    assert no_contract(extended, "coordinated", date(2024, 8, 31)) is None
    assert no_contract(SEED_TERMS, "counselling", date(2021, 5, 3)) == NoContract(
        "counselling", date(2021, 5, 3), None, None
    )  # none had begun
    assert no_contract(SEED_TERMS, "counselling", date(2026, 11, 2)) is None


def test_an_end_for_an_unknown_contract_or_before_its_start_is_refused() -> None:
    with pytest.raises(ValueError, match="no contract"):
        with_ends(SEED_TERMS, {"network-2019": None})
    with pytest.raises(ValueError, match="before it starts"):
        with_ends(SEED_TERMS, {"field-2021": date(2020, 12, 31)})
    with pytest.raises(ValueError):
        Settings(intake_contract_ends={"nope": "2024-08-31"})


def test_intake_accepts_and_flags_a_referral_with_no_contract_in_force() -> None:
    flagged = evaluate(SubmitReferral.model_validate(referral()), received_at=RECEIVED,
                       policy=IntakePolicy())  # fmt: skip
    assert isinstance(flagged, Accepted) and flagged.no_contract is not None
    assert (flagged.no_contract.contract, flagged.no_contract.ended_on) == (
        "coordinated-network-2018", date(2021, 8, 31),
    )  # fmt: skip
    extended = policy(Settings(intake_contract_ends={"coordinated-network-2018": None}))
    served = evaluate(SubmitReferral.model_validate(referral()), received_at=RECEIVED,
                      policy=extended)  # fmt: skip
    assert isinstance(served, Accepted) and served.no_contract is None
