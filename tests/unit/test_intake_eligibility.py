"""Coordinated support's consent form and indicators (002 §1), for any referral: the reasons
are exactly the fields missing or late, and exactly the indicators not given."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.referrals import Consent, Person, SubmitReferral
from infra.calendar import STOCKHOLM, local_date
from services.intake.coordinated import INDICATOR_TEXTS, INDICATORS, missing_indicators
from services.intake.eligibility import IndicatorRule, policy_for
from services.intake.rules import Accepted, IntakePolicy, evaluate
from tests.support.intake import personal_number

CHILD = personal_number(date(2016, 5, 10))  # 10 in 2026
GUARDIAN = personal_number(date(1985, 7, 9), "980")
ORDER = list(INDICATOR_TEXTS)


def referral(**fields: object) -> SubmitReferral:
    """A coordinated referral that is accepted on 2 November 2026, but for ``fields``."""
    base: dict[str, object] = {
        "source": "linkoping.elevhalsa",
        "referral_id": "EH-1",
        "programme": "coordinated",
        "persons": [
            Person(role="child", personal_number=CHILD, municipality_code="0580"),
            Person(role="guardian", personal_number=GUARDIAN, municipality_code="0580"),
        ],
        "consent": Consent(given=True, form_ref="SAMTYCKE-1", given_at=date(2026, 1, 1)),
        "indicators": ORDER,
    }
    return SubmitReferral.model_validate({**base, **fields})


def reasons_of(r: SubmitReferral, at: datetime, policy: IntakePolicy | None = None) -> list:
    outcome = evaluate(r, received_at=at, policy=policy or IntakePolicy())
    return [] if isinstance(outcome, Accepted) else list(outcome.reasons)


received = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
consents = st.none() | st.builds(
    Consent,
    given=st.booleans(),
    form_ref=st.none() | st.sampled_from(["", "  ", "SAMTYCKE-88"]),
    given_at=st.none() | st.dates(min_value=date(1998, 1, 1), max_value=date(2027, 2, 1)),
)


def expected_consent(consent: Consent | None, day: date) -> set[tuple[str, str]]:
    """The seed's consent form, restated: given, with its reference and a date no later than
    the day received; a date before 2000 cannot be one (malformed)."""
    if consent is None:
        return {("missing_consent", "consent")}
    if not consent.given:
        out = {("missing_consent", "consent.given")}
        if consent.given_at is not None and not (
            date(2000, 1, 1) <= consent.given_at <= day + timedelta(days=1)
        ):
            out.add(("malformed", "consent.given_at"))
        return out
    out = set()
    if not (consent.form_ref or "").strip():
        out.add(("missing_consent", "consent.form_ref"))
    if consent.given_at is None or consent.given_at > day:
        out.add(("missing_consent", "consent.given_at"))
    elif consent.given_at < date(2000, 1, 1):
        out.add(("malformed", "consent.given_at"))
    return out


@given(consent=consents, at=received)
@settings(max_examples=1500, deadline=None)
def test_consent_reasons_are_exactly_the_fields_missing_or_late(
    consent: Consent | None, at: datetime
) -> None:
    found = reasons_of(referral(consent=consent), at)
    consent_fields = {(r.code, r.field) for r in found if r.field.startswith("consent")}
    assert consent_fields == expected_consent(consent, local_date(at))
    assert len(found) == len({(r.code, r.field) for r in found}), "one reason per field"


def test_a_consent_signed_on_the_stockholm_day_of_receipt_is_in_time() -> None:
    late_evening = datetime(2026, 11, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 November in Stockholm
    signed_that_morning = Consent(given=True, form_ref="S-1", given_at=date(2026, 11, 2))
    assert reasons_of(referral(consent=signed_that_morning), late_evening) == []
    the_day_before = datetime(2026, 11, 1, 22, 30, tzinfo=UTC)  # 23:30 on 1 November there
    [late] = reasons_of(referral(consent=signed_that_morning), the_day_before)
    assert (late.code, late.field) == ("missing_consent", "consent.given_at")
    assert "no later than the day the referral is received" in late.message


def test_consent_without_a_form_names_the_field() -> None:
    at = datetime(2026, 11, 2, 9, tzinfo=STOCKHOLM)
    [reason] = reasons_of(referral(consent=Consent(given=True, given_at=date(2026, 11, 1))), at)
    assert (reason.code, reason.field) == ("missing_consent", "consent.form_ref")
    assert "consent form" in reason.message


@given(
    given_=st.lists(st.sampled_from([*ORDER, "poverty", "Uncoordinated_Actors"]), max_size=8),
    needed=st.integers(1, 5),
)
@settings(max_examples=1000, deadline=None)
def test_indicator_reasons_name_exactly_the_indicators_not_given(
    given_: list[str], needed: int
) -> None:
    at = datetime(2026, 11, 2, 9, tzinfo=STOCKHOLM)
    found = [
        r
        for r in reasons_of(referral(indicators=given_), at, IntakePolicy(min_indicators=needed))
        if r.code == "no_eligibility_indicator"
    ]
    met = INDICATORS.intersection(given_)
    missing = [name for name in ORDER if name not in met] if len(met) < needed else []
    assert [r.field for r in found] == ["indicators"] * len(missing)
    assert len(found) == len(missing)
    for reason, name in zip(found, missing, strict=True):
        assert f"not given: {name} ({INDICATOR_TEXTS[name]})" in reason.message
        assert ("at least" in reason.message) is (needed < 5)


def test_the_default_is_the_seeds_literal_reading_all_five() -> None:
    assert IntakePolicy().min_indicators == 5
    assert len(missing_indicators(ORDER[:4], 5)) == 1
    assert missing_indicators(ORDER, 5) == []


def test_a_recorded_decision_applies_from_the_moment_it_was_recorded() -> None:
    t0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
    rule = IndicatorRule(required=3, decided_by="Omsorgsnämnden", decision_ref="ON-1", reason="r",
                         at=t0)  # fmt: skip
    rule.decide(5, "Omsorgsnämnden", "ON-2", "back to the seed", t0 + timedelta(days=30))
    seed = IntakePolicy()
    assert policy_for(seed, rule, t0 - timedelta(seconds=1)).min_indicators == 5
    assert policy_for(seed, rule, t0).min_indicators == 3
    assert policy_for(seed, rule, t0 + timedelta(days=29)).min_indicators == 3
    assert policy_for(seed, rule, t0 + timedelta(days=30)).min_indicators == 5
    assert policy_for(seed, None, t0) is seed
    assert [d["decision_ref"] for d in rule.decisions] == ["ON-1", "ON-2"]


@pytest.mark.parametrize("required", [0, 6])
def test_a_decision_cannot_abolish_or_exceed_the_indicators(required: int) -> None:
    from services.intake.eligibility import EligibilityError, decide

    with pytest.raises(EligibilityError):
        decide(None, required, "a", "b", "c")  # type: ignore[arg-type]
