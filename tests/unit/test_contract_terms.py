"""Contract terms shared by billing and intake (infra/contract_terms.py): intake flags a referral
to a programme with no contract in force, naming the contract and its end, by the terms billing
records, with billing's own rule (issue 14 item 7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.billing import TariffEntry
from events.referrals import SubmitReferral
from infra.contract_terms import SEED_TERMS, NoContract, followed, no_contract
from infra.months import last_day
from infra.settings import SettingsError
from services.billing.tariff_entries import (
    ContractTerm,
    Entry,
    Extension,
    Termination,
    entry_record,
)
from services.billing.tariff_seeds import default_catalogue
from services.billing.terms import _ended
from services.intake.rules import Accepted, IntakePolicy, evaluate
from services.intake.settings import IntakeSettings
from services.intake.terms import FollowedTerms, policy_for
from tests.support.intake import referral

RECEIVED = datetime(2026, 11, 2, 9, tzinfo=UTC)
JOINT = "coordinated-network-2018"
PROGRAMMES = ("network", "coordinated", "counselling", "field")


def published(*entries: Entry) -> list[dict[str, Any]]:
    """The entries as intake reads them from ``TariffRecorded`` on billing.events."""
    return [TariffEntry.model_validate(entry_record(e)).model_dump(mode="json") for e in entries]


def test_the_seed_terms_are_billing_s_default_catalogue() -> None:
    billing = {
        t.contract: (tuple(sorted(t.programmes)), t.valid_from, t.valid_to, t.extension_years)
        for t in default_catalogue().terms
    }
    shared = {
        t.contract: (tuple(sorted(t.programmes)), t.first_day, t.last_day, t.extension_years)
        for t in SEED_TERMS
    }
    assert shared == billing


def test_a_programme_whose_contract_ended_names_it_and_its_end() -> None:
    assert no_contract(SEED_TERMS, "network", date(2021, 8, 31)) is None
    ended = no_contract(SEED_TERMS, "network", date(2021, 9, 1))
    assert ended == NoContract("network", date(2021, 9, 1), JOINT, date(2021, 8, 31))
    assert ended.message == (
        "network: contract coordinated-network-2018 ended on 2021-08-31; "
        "no contract in force on 2021-09-01"
    )
    extended = followed(SEED_TERMS, published(Extension(entry_id="x-1", contract=JOINT)))
    assert no_contract(extended, "coordinated", date(2024, 8, 31)) is None
    assert no_contract(extended, "coordinated", date(2024, 9, 1)) == NoContract(
        "coordinated", date(2024, 9, 1), JOINT, date(2024, 8, 31)
    )
    assert no_contract(SEED_TERMS, "counselling", date(2021, 5, 3)) == NoContract(
        "counselling", date(2021, 5, 3), None, None
    )  # none had begun
    assert no_contract(SEED_TERMS, "counselling", date(2026, 11, 2)) is None


def test_the_old_setting_for_the_ends_is_refused() -> None:
    with pytest.raises((ValueError, SettingsError), match="LOTS_INTAKE_CONTRACT_ENDS"):
        IntakeSettings(intake_contract_ends={JOINT: "2024-08-31"})


def test_intake_flags_a_referral_until_billing_s_extensions_reach_it() -> None:
    def judged(policy: IntakePolicy) -> NoContract | None:
        outcome = evaluate(
            SubmitReferral.model_validate(referral()), received_at=RECEIVED, policy=policy
        )
        assert isinstance(outcome, Accepted)
        return outcome.no_contract

    flagged = judged(policy_for(IntakePolicy(), None))
    assert flagged is not None and (flagged.contract, flagged.ended_on) == (
        JOINT, date(2021, 8, 31),
    )  # fmt: skip
    one = published(Extension(entry_id=f"{JOINT}-extension-1", contract=JOINT))
    book = FollowedTerms(one, 2, "m-1")
    still = judged(policy_for(IntakePolicy(), book))
    assert still is not None and still.ended_on == date(2024, 8, 31)
    book.follow(one, 2, "m-1 again")  # the same entry again: kept once
    book.follow(published(Extension(entry_id=f"{JOINT}-extension-2", contract=JOINT)), 3, "m-2")
    assert len(book.entries) == 2 and judged(policy_for(IntakePolicy(), book)) is None


# --- intake's answer equals billing's, for any entries billing may record -----------------

NEW_PROGRAMMES = st.lists(st.sampled_from(PROGRAMMES), min_size=1, max_size=2, unique=True)
MONTHS = st.tuples(st.integers(2017, 2032), st.integers(1, 12))


@st.composite
def recordings(draw: st.DrawFn) -> list[Entry]:
    """Terms, extensions and notices in an order billing accepts them (application.py: an
    extendable term with an end; one notice per contract; no extension after a notice)."""
    catalogue = default_catalogue()
    made: list[Entry] = []
    for n in range(draw(st.integers(0, 8))):
        contracts = [t.contract for t in catalogue.terms]
        noticed = {t.contract for t in catalogue.terminations}
        choice = draw(st.sampled_from(["term", "extension", "termination"]))
        entry: Entry
        if choice == "term":
            (y1, m1), years = draw(MONTHS), draw(st.one_of(st.none(), st.integers(0, 6)))
            end = None if years is None else last_day(y1 + years, m1)
            entry = ContractTerm(
                entry_id=f"t{n}", contract=f"c{n}", programmes=tuple(draw(NEW_PROGRAMMES)),
                billing="fixed", valid_from=date(y1, m1, 1), valid_to=end,
                extension_years=draw(st.sampled_from([None, 1, 3])) if end else None,
            )  # fmt: skip
        elif choice == "extension":
            open_ = [
                t.contract
                for t in catalogue.terms
                if t.extension_years and t.valid_to and t.contract not in noticed
            ]
            if not open_:
                continue
            entry = Extension(entry_id=f"e{n}", contract=draw(st.sampled_from(open_)))
        else:
            free = [c for c in contracts if c not in noticed]
            if not free:
                continue
            (year, month) = draw(MONTHS)
            entry = Termination(
                entry_id=f"n{n}", contract=draw(st.sampled_from(free)),
                given_on=date(year, month, 1), ends_on=last_day(year, month),
            )  # fmt: skip
        catalogue = catalogue.with_entries(entry)
        made.append(entry)
    return made


@settings(max_examples=300, deadline=None)
@given(recordings(), st.dates(date(2017, 1, 1), date(2036, 12, 31)))
def test_intake_and_billing_agree_on_the_contract_in_force(entries: list[Entry], on: date) -> None:
    catalogue = default_catalogue().with_entries(*entries)
    terms = followed(SEED_TERMS, published(*entries))
    for programme in PROGRAMMES:
        in_force = any(programme in t.programmes for t in catalogue.terms_in_force(on))
        found = no_contract(terms, programme, on)
        assert (found is None) == in_force
        ended = _ended(catalogue, programme, on)
        if found is not None and found.contract is not None:
            assert ended is not None and (ended[0].contract, ended[1]) == (
                found.contract, found.ended_on,
            )  # fmt: skip
        else:
            assert ended is None
