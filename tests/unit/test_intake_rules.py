"""The intake rules: which referrals are accepted, and the reasons given for the others."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError, field_validator

from events.intake import Reason
from events.referrals import SOURCE_PATTERN, Consent, Person, SubmitReferral
from infra.calendar import STOCKHOLM, CalendarPolicy, add_business_hours, local_date
from services.intake.coordinated import INDICATORS
from services.intake.household import Member
from services.intake.malformed import field_path, malformed
from services.intake.personal_numbers import age_on, parse_personal_number
from services.intake.policy import IntakePolicy
from services.intake.reasons import conflicting_resubmission
from services.intake.reevaluation import only_residency
from services.intake.resubmission import fingerprint
from services.intake.rules import Accepted, Rejected, evaluate

POLICY = IntakePolicy()
RECEIVED = datetime(2026, 11, 2, 9, 14, tzinfo=STOCKHOLM)  # a Monday
DAY = RECEIVED.date()
CODES = {
    "malformed", "unknown_programme", "invalid_personal_number", "age_out_of_range",
    "not_resident", "missing_consent", "missing_decision_ref", "no_eligibility_indicator",
    "missing_child", "missing_persons", "note_too_long",
    "invalid_role", "duplicate_person", "basis_not_offered",
}  # fmt: skip


def luhn_digit(digits: str) -> int:
    """The check digit of a personal number's ten-digit form (YYMMDDNNN)."""
    total = 0
    for i, ch in enumerate(digits):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return (10 - total % 10) % 10


def pnr(birth: date, serial: str = "238", *, coordination: bool = False) -> str:
    """A valid 12-digit personal number (or samordningsnummer) for ``birth``."""
    day = birth.day + 60 if coordination else birth.day
    body = f"{birth.year % 100:02d}{birth.month:02d}{day:02d}{serial}"
    return f"{birth.year:04d}{birth.month:02d}{day:02d}{serial}{luhn_digit(body)}"


def years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


CHILD = pnr(date(2016, 5, 10))  # 10 on DAY
GUARDIAN = pnr(date(1985, 7, 9), "980")
PARTNER = pnr(date(1990, 1, 20), "123")


def person(number: str, role: str = "child", code: str | None = "0580", name: str = "") -> Person:
    return Person(role=role, personal_number=number, municipality_code=code, name=name or None)


def referral(**overrides: Any) -> SubmitReferral:
    fields: dict[str, Any] = {
        "source": "linkoping.elevhalsa",
        "referral_id": "EH-2026-000123",
        "programme": "network",
        "persons": [person(CHILD, name="Alva Lind"), person(GUARDIAN, "guardian")],
    }
    if overrides.get("programme") == "coordinated":
        fields["consent"] = Consent(given=True, form_ref="SAMTYCKE-88", given_at=DAY)
        fields["indicators"] = sorted(INDICATORS)
    if overrides.get("programme") == "counselling":
        fields["persons"] = [person(GUARDIAN, "partner"), person(PARTNER, "partner")]
    fields.update(overrides)
    return SubmitReferral(**fields)


def problems(r: SubmitReferral, **kwargs: Any) -> set[tuple[str, str]]:
    outcome = evaluate(r, received_at=kwargs.pop("received_at", RECEIVED), policy=POLICY, **kwargs)
    if isinstance(outcome, Accepted):
        return set()
    return {(reason.code, reason.field) for reason in outcome.reasons}


def accepted(r: SubmitReferral, **kwargs: Any) -> Accepted:
    outcome = evaluate(r, received_at=RECEIVED, policy=kwargs.pop("policy", POLICY), **kwargs)
    assert isinstance(outcome, Accepted), outcome
    return outcome


def child_born(birth: date) -> list[Person]:
    return [person(pnr(birth)), person(GUARDIAN, "guardian")]


# The same digits in another script: str.isdigit() would accept them.
FULLWIDTH = "".join(chr(0xFF10 + int(c)) for c in CHILD)
PN0, PN1 = "persons[0].personal_number", "persons[1].personal_number"
wrong_check = CHILD[:-1] + str((int(CHILD[-1]) + 1) % 10)
feb_30 = "20230230" + "123" + str(luhn_digit("230230123"))
TABLE: list[tuple[str, SubmitReferral, set[tuple[str, str]]]] = [
    ("network service referral", referral(), set()),
    (
        "coordinated with a signed consent form and every indicator",
        referral(programme="coordinated"),
        set(),
    ),
    ("counselling for two resident partners", referral(programme="counselling"), set()),
    (
        "counselling for one person",
        referral(programme="counselling", persons=[person(PARTNER, "other")]),
        set(),
    ),
    (
        "network by decision with its reference",
        referral(basis="decision", decision_ref="SoL-1"),
        set(),
    ),
    ("acute network referral", referral(urgency="acute"), set()),
    (
        "child with a samordningsnummer",
        referral(persons=[person(pnr(date(2016, 5, 10), coordination=True))]),
        set(),
    ),
    (
        "hyphen before the last four digits",
        referral(persons=[person(CHILD[:8] + "-" + CHILD[8:])]),
        set(),
    ),
    ("non-resident child in network work", referral(persons=[person(CHILD, code="0581")]), set()),
    ("unknown programme", referral(programme="daycare"), {("unknown_programme", "programme")}),
    (
        "field work takes no referrals",
        referral(programme="field"),
        {("unknown_programme", "programme")},
    ),
    (
        "wrong check digit",
        referral(persons=[person(wrong_check)]),
        {("invalid_personal_number", PN0)},
    ),
    (
        "30 February does not exist",
        referral(persons=[person(feb_30)]),
        {("invalid_personal_number", PN0)},
    ),
    (
        "samordningsnummer day 90 of February",
        referral(persons=[person("20230290" + "123" + str(luhn_digit("230290123")))]),
        {("invalid_personal_number", PN0)},
    ),
    (
        "ten-digit form has no century",
        referral(persons=[person(CHILD[2:])]),
        {("invalid_personal_number", PN0)},
    ),
    (
        "serial 000 is never issued",
        referral(persons=[person("20160510000" + str(luhn_digit("160510000")))]),
        {("invalid_personal_number", PN0)},
    ),
    ("non-ASCII digits", referral(persons=[person(FULLWIDTH)]), {("invalid_personal_number", PN0)}),
    (
        "born after the day received",
        referral(persons=[person(pnr(DAY + timedelta(days=1)))]),
        {("invalid_personal_number", PN0)},
    ),
    (
        "network: day before the 21st birthday",
        referral(persons=child_born(years_before(DAY + timedelta(days=1), 21))),
        set(),
    ),
    (
        "network: the 21st birthday",
        referral(persons=child_born(years_before(DAY, 21))),
        {("age_out_of_range", PN0)},
    ),
    ("network: born today", referral(persons=child_born(DAY)), set()),
    (
        "coordinated: day before the 6th birthday",
        referral(
            programme="coordinated", persons=child_born(years_before(DAY + timedelta(days=1), 6))
        ),
        {("age_out_of_range", PN0)},
    ),
    (
        "coordinated: the 6th birthday",
        referral(programme="coordinated", persons=child_born(years_before(DAY, 6))),
        set(),
    ),
    (
        "coordinated: day before the 17th birthday",
        referral(
            programme="coordinated", persons=child_born(years_before(DAY + timedelta(days=1), 17))
        ),
        set(),
    ),
    (
        "coordinated: the 17th birthday",
        referral(programme="coordinated", persons=child_born(years_before(DAY, 17))),
        {("age_out_of_range", PN0)},
    ),
    (
        "every child is checked",
        referral(persons=[person(CHILD), person(pnr(years_before(DAY, 25)))]),
        {("age_out_of_range", PN1)},
    ),
    (
        "no child in network work",
        referral(persons=[person(GUARDIAN, "guardian")]),
        {("missing_child", "persons")},
    ),
    (
        "no child in coordinated support",
        referral(programme="coordinated", persons=[person(GUARDIAN, "sibling")]),
        {("missing_child", "persons")},
    ),
    ("no persons", referral(persons=[]), {("missing_persons", "persons")}),
    (
        "unknown role",
        referral(persons=[person(CHILD), person(GUARDIAN, "mother")]),
        {("invalid_role", "persons[1].role")},
    ),
    (
        "unknown role may be the child",
        referral(persons=[person(CHILD, "Child")]),
        {("invalid_role", "persons[0].role")},
    ),
    (
        "same person twice",
        referral(persons=[person(CHILD), person(CHILD, "sibling")]),
        {("duplicate_person", PN1)},
    ),
    (
        "counselling partner elsewhere",
        referral(
            programme="counselling",
            persons=[person(GUARDIAN, "partner"), person(PARTNER, "partner", "0581")],
        ),
        {("not_resident", "persons[1].municipality_code")},
    ),
    (
        "counselling without municipality",
        referral(programme="counselling", persons=[person(PARTNER, "partner", None)]),
        {("not_resident", "persons[0].municipality_code")},
    ),
    (
        "coordinated without consent",
        referral(programme="coordinated", consent=None),
        {("missing_consent", "consent")},
    ),
    (
        "coordinated with consent refused",
        referral(programme="coordinated", consent=Consent(given=False)),
        {("missing_consent", "consent.given")},
    ),
    (
        "coordinated consent without the form's reference",
        referral(programme="coordinated", consent=Consent(given=True, given_at=DAY)),
        {("missing_consent", "consent.form_ref")},
    ),
    (
        "coordinated consent with a blank form reference and no date",
        referral(programme="coordinated", consent=Consent(given=True, form_ref=" ")),
        {("missing_consent", "consent.form_ref"), ("missing_consent", "consent.given_at")},
    ),
    (
        "coordinated consent signed the day after it was received",
        referral(
            programme="coordinated",
            consent=Consent(given=True, form_ref="S-1", given_at=DAY + timedelta(days=1)),
        ),
        {("missing_consent", "consent.given_at")},
    ),
    (
        "coordinated without indicators",
        referral(programme="coordinated", indicators=[]),
        {("no_eligibility_indicator", "indicators")},
    ),
    (
        "coordinated with one indicator of five",
        referral(programme="coordinated", indicators=["uncoordinated_actors"]),
        {("no_eligibility_indicator", "indicators")},
    ),
    (
        "unknown indicators count for nothing",
        referral(programme="coordinated", indicators=["poverty", "Uncoordinated_Actors"]),
        {("no_eligibility_indicator", "indicators")},
    ),
    (
        "decision without reference",
        referral(basis="decision"),
        {("missing_decision_ref", "decision_ref")},
    ),
    (
        "decision with a blank reference",
        referral(basis="decision", decision_ref="  "),
        {("missing_decision_ref", "decision_ref")},
    ),
    (
        "coordinated support is not decided",
        referral(programme="coordinated", basis="decision"),
        {("basis_not_offered", "basis")},
    ),
    (
        "counselling is not decided",
        referral(programme="counselling", basis="decision", decision_ref="X"),
        {("basis_not_offered", "basis")},
    ),
    ("note of 2,000 characters", referral(note="x" * 2000), set()),
    ("note of 2,001 characters", referral(note="x" * 2001), {("note_too_long", "note")}),
    ("unknown basis", referral(basis="bistånd"), {("malformed", "basis")}),
    ("unknown urgency", referral(urgency="urgent"), {("malformed", "urgency")}),
    (
        "several problems at once",
        referral(
            programme="coordinated",
            urgency="later",
            basis="decision",
            consent=Consent(given=False),
            indicators=[],
            note="y" * 2001,
            persons=[
                person(wrong_check),
                person(pnr(years_before(DAY, 3)), "child"),
                person(GUARDIAN, "aunt"),
            ],
        ),
        {
            ("malformed", "urgency"),
            ("basis_not_offered", "basis"),
            ("invalid_personal_number", PN0),
            ("age_out_of_range", PN1),
            ("invalid_role", "persons[2].role"),
            ("missing_consent", "consent.given"),
            ("no_eligibility_indicator", "indicators"),
            ("note_too_long", "note"),
        },
    ),
    (
        "unknown programme still lists the other problems",
        referral(programme="", persons=[person(feb_30, "kid")], basis="x"),
        {
            ("unknown_programme", "programme"),
            ("malformed", "basis"),
            ("invalid_personal_number", PN0),
            ("invalid_role", "persons[0].role"),
        },
    ),
]


@pytest.mark.parametrize(
    ("r", "expected"), [(r, e) for _, r, e in TABLE], ids=[n for n, _, _ in TABLE]
)
def test_referral_table(r: SubmitReferral, expected: set[tuple[str, str]]) -> None:
    assert problems(r) == expected


def test_the_table_uses_every_reason_code() -> None:
    assert {code for _, _, expected in TABLE for code, _ in expected} == CODES


def test_field_work_rejection_says_why() -> None:
    outcome = evaluate(referral(programme="field"), received_at=RECEIVED, policy=POLICY)
    assert isinstance(outcome, Rejected)
    assert "takes no referrals" in outcome.reasons[0].message


def test_residency_exception_admits_non_residents_to_counselling() -> None:
    r = referral(programme="counselling", persons=[person(PARTNER, "partner", "0581")])
    assert problems(r, residency_exception=True) == set()


def test_every_indicator_is_required_and_each_one_missing_is_named() -> None:
    r = referral(programme="coordinated", indicators=["uncoordinated_actors"])
    outcome = evaluate(r, received_at=RECEIVED, policy=POLICY)
    assert isinstance(outcome, Rejected)
    assert [x.message for x in outcome.reasons] == [
        "coordinated support needs every indicator of 002 §1; not given: "
        "several_members_need_support (several members of the child's family need coordinated "
        "support)",
        "coordinated support needs every indicator of 002 §1; not given: "
        "extraordinary_support_needs (the child needs extraordinary support in school, social "
        "services and/or health care)",
        "coordinated support needs every indicator of 002 §1; not given: "
        "economic_vulnerability (the family lives in an economically vulnerable situation, with "
        "little attachment to the labour market and a weak social network)",
        "coordinated support needs every indicator of 002 §1; not given: "
        "risk_not_qualifying_upper_secondary (the child risks not qualifying for a national "
        "upper-secondary programme)",
    ]
    assert {(x.code, x.field) for x in outcome.reasons} == {
        ("no_eligibility_indicator", "indicators")
    }


def test_a_relaxed_rule_needs_that_many_and_still_names_the_missing_ones() -> None:
    policy = IntakePolicy(min_indicators=2)
    r = referral(programme="coordinated", indicators=["uncoordinated_actors"])
    outcome = evaluate(r, received_at=RECEIVED, policy=policy)
    assert isinstance(outcome, Rejected)
    assert len(outcome.reasons) == 4
    assert all("at least 2 of the five" in x.message for x in outcome.reasons)
    assert all("1 given" in x.message for x in outcome.reasons)
    both = referral(programme="coordinated", indicators=sorted(INDICATORS)[:2])
    assert isinstance(evaluate(both, received_at=RECEIVED, policy=policy), Accepted)


@pytest.mark.parametrize(
    ("urgency", "basis", "ref", "priority"),
    [("acute", "service", None, 2), ("acute", "decision", "D", 1), ("normal", "decision", "D", 1),
     ("normal", "service", None, 3)],
)  # fmt: skip
def test_network_work_serves_decided_assistance_first_then_acute_service(
    urgency: str, basis: str, ref: str | None, priority: int
) -> None:
    r = referral(urgency=urgency, basis=basis, decision_ref=ref)
    assert accepted(r).priority == priority


def test_accepted_referral_carries_household_deadlines_and_consent() -> None:
    r = referral(
        programme="coordinated",
        indicators=[
            *sorted(INDICATORS),
            "poverty",
            "economic_vulnerability",
        ],
        persons=[person(CHILD[:8] + "-" + CHILD[8:]), person(GUARDIAN, "guardian")],
    )
    a = accepted(r)
    assert (a.programme, a.basis, a.urgency, a.consent) == (
        "coordinated",
        "service",
        "normal",
        True,
    )
    assert a.household == (Member(CHILD, "child", 10), Member(GUARDIAN, "guardian", 41))
    assert a.indicators_met == tuple(sorted(INDICATORS))
    assert a.first_contact_due == date(2026, 11, 16)
    assert a.ack_due == datetime(2026, 11, 3, 9, 14, tzinfo=STOCKHOLM)


def test_consent_is_reported_for_programmes_that_do_not_require_it() -> None:
    assert accepted(referral()).consent is False
    assert accepted(referral(consent=Consent(given=True))).consent is True


def test_deadlines_run_from_the_stockholm_date_of_receipt() -> None:
    late = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)  # 00:30 on 1 April in Stockholm
    a = evaluate(referral(), received_at=late, policy=POLICY)
    assert isinstance(a, Accepted)
    assert a.first_contact_due == date(2026, 4, 15)
    assert a.ack_due == datetime(2026, 4, 2, 0, 30, tzinfo=STOCKHOLM)
    friday = datetime(2026, 11, 6, 15, tzinfo=STOCKHOLM)
    b = evaluate(referral(), received_at=friday, policy=POLICY)
    assert isinstance(b, Accepted)
    assert b.ack_due == datetime(2026, 11, 9, 15, tzinfo=STOCKHOLM)


def test_first_contact_days_are_a_setting_per_programme() -> None:
    policy = IntakePolicy(first_contact_days={"network": 7, "coordinated": 14, "counselling": 14})
    assert accepted(referral(), policy=policy).first_contact_due == date(2026, 11, 9)


@pytest.mark.parametrize(
    "bad",
    [
        {"first_contact_days": {"network": 14}},
        {"age_ranges": {"network": (5, 2)}},
        {"age_ranges": {"field": (0, 20)}},
        {"decision_programmes": frozenset({"field"})},
        {"min_indicators": 6},
        {"note_max_chars": -1},
    ],
)
def test_a_policy_that_cannot_be_applied_is_refused_up_front(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        IntakePolicy(**bad)


def test_leap_day_child_turns_a_year_older_on_first_of_march() -> None:
    birth = date(2012, 2, 29)
    assert age_on(birth, date(2018, 2, 28)) == 5
    assert age_on(birth, date(2018, 3, 1)) == 6
    assert age_on(birth, date(2020, 2, 29)) == 8


def test_personal_number_package_behaviour_we_rely_on() -> None:
    assert parse_personal_number(CHILD, DAY) == (CHILD, date(2016, 5, 10))
    assert parse_personal_number(pnr(date(2016, 5, 10), coordination=True), DAY) == (
        pnr(date(2016, 5, 10), coordination=True),
        date(2016, 5, 10),
    )
    assert parse_personal_number(wrong_check, DAY) == "check"
    assert parse_personal_number(feb_30, DAY) == "date"
    assert parse_personal_number(CHILD[:6] + "-" + CHILD[6:], DAY) == "format"
    assert parse_personal_number(CHILD[:8] + "+" + CHILD[8:], DAY) == "format"


def test_naive_receipt_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        evaluate(referral(), received_at=datetime(2026, 11, 2, 9), policy=POLICY)


# --- malformed referrals -------------------------------------------------------------------


def test_malformed_gives_one_reason_per_error_with_its_path_and_no_value() -> None:
    raw = {
        "source": "s",
        "referral_id": "",
        "programme": "network",
        "persons": [
            {"role": "child", "personal_number": CHILD},
            {"role": "guardian", "personal_number": 198507099805},
        ],
        "consent": {"given": CHILD},
        "submitted_at": "2026-11-02T09:14:00",
    }
    with pytest.raises(ValidationError) as caught:
        SubmitReferral.model_validate(raw)
    reasons = malformed(caught.value)
    assert {r.field for r in reasons} == {
        "referral_id",
        "persons[1].personal_number",
        "consent.given",
        "submitted_at",
    }
    assert all(r.code == "malformed" for r in reasons)
    assert not any(CHILD in r.message or "198507099805" in r.message for r in reasons)


STRICT_FIELDS: list[tuple[str, dict[str, Any], str]] = [
    ("a line feed forges lines", {"referral_id": "EH-1\n2026-11-02 intake x"}, "referral_id"),
    ("a right-to-left override", {"referral_id": "EH-\u202e1"}, "referral_id"),
    ("a private-use character", {"referral_id": "EH-\ue000"}, "referral_id"),
    ("a source with a space", {"source": "linkoping elevhalsa"}, "source"),
    ("a source with a slash", {"source": "linkoping/elevhalsa"}, "source"),
    ("a source starting with a dot", {"source": ".linkoping"}, "source"),
    ("a source of 101 characters", {"source": "s" * 101}, "source"),
    ("consent as a word", {"consent": {"given": "yes"}}, "consent.given"),
    ("consent as a number", {"consent": {"given": 1}}, "consent.given"),
    ("a time stamp as Unix time", {"submitted_at": 1793606040}, "submitted_at"),
    ("a consent date as a number", {"consent": {"given": True, "given_at": 0}}, "consent.given_at"),
    ("three digits", {"persons": [{"role": "child", "personal_number": CHILD,
                                   "municipality_code": "580"}]}, "persons[0].municipality_code"),
    ("other digits", {"persons": [{"role": "child", "personal_number": CHILD,
                                   "municipality_code": "\u0660580"}]},
     "persons[0].municipality_code"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "change", "where"), STRICT_FIELDS, ids=[c[0] for c in STRICT_FIELDS]
)
def test_lax_fields_are_malformed_naming_the_field_and_not_the_value(
    case: str, change: dict[str, Any], where: str
) -> None:
    raw = {"source": "linkoping.elevhalsa", "referral_id": "EH-1", "programme": "network", **change}
    with pytest.raises(ValidationError) as caught:
        SubmitReferral.model_validate(raw)
    [reason] = malformed(caught.value)
    assert (reason.code, reason.field) == ("malformed", where)
    assert "invalid value" not in reason.message, "a message of our own, not a placeholder"
    for value in change.values():
        assert str(value) not in reason.message


def test_strict_fields_take_what_the_contract_allows() -> None:
    raw = {
        "source": "region.ostergotland_bup-2",
        "referral_id": "2026/EH 000123 — Åsa's",  # '/' and any printable text
        "programme": "network",
        "consent": {"given": False, "given_at": "2026-11-01"},
        "persons": [{"role": "child", "personal_number": CHILD, "municipality_code": "0580"}],
        "submitted_at": "2026-11-02T09:14:00+01:00",
    }
    assert SubmitReferral.model_validate(raw).referral_id == raw["referral_id"]


EAST, WEST = timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))
SUBMITTED: list[tuple[str, datetime, bool]] = [
    ("year 1, which converting would overflow", datetime(1, 1, 1, 0, 30, tzinfo=EAST), False),
    ("year 9999", datetime(9999, 12, 31, 23, 59, tzinfo=WEST), False),
    ("1999's last minute in Stockholm", datetime(1999, 12, 31, 23, 59, tzinfo=STOCKHOLM), False),
    ("1999 in UTC but 2000 in Stockholm", datetime(1999, 12, 31, 23, 0, tzinfo=UTC), True),
    ("the day received", RECEIVED, True),
    ("the day after, its last minute", datetime(2026, 11, 3, 23, 59, tzinfo=STOCKHOLM), True),
    ("two days after", datetime(2026, 11, 4, 0, 0, tzinfo=STOCKHOLM), False),
]  # fmt: skip


@pytest.mark.parametrize(("case", "at", "ok"), SUBMITTED, ids=[c[0] for c in SUBMITTED])
def test_submitted_at_lies_from_2000_to_the_day_after_receipt(
    case: str, at: datetime, ok: bool
) -> None:
    found = problems(referral(submitted_at=at))
    assert found == (set() if ok else {("malformed", "submitted_at")})


def test_a_consent_dated_outside_the_bounds_is_malformed_without_its_value() -> None:
    outcome = evaluate(
        referral(
            programme="coordinated",
            consent=Consent(given=True, form_ref="S", given_at=date(1, 1, 1)),
            submitted_at=datetime(9999, 1, 1, tzinfo=UTC),
        ),
        received_at=RECEIVED,
        policy=POLICY,
    )
    assert isinstance(outcome, Rejected)
    assert [(r.code, r.field) for r in outcome.reasons] == [
        ("malformed", "submitted_at"),
        ("malformed", "consent.given_at"),
    ]
    assert outcome.reasons[0].message == (
        "must be a date from 2000-01-01 to the day after the referral was received"
    )
    # A day's grace where no consent is required; coordinated support's form is late then.
    tomorrow = DAY + timedelta(days=1)
    assert problems(referral(consent=Consent(given=True, given_at=tomorrow))) == set()
    signed_later = Consent(given=True, form_ref="S", given_at=tomorrow + timedelta(days=30))
    assert problems(referral(programme="coordinated", consent=signed_later)) == {
        ("missing_consent", "consent.given_at")
    }


def test_a_conflicting_resubmission_names_the_id_and_asks_for_a_new_one() -> None:
    reason = conflicting_resubmission()
    assert (reason.code, reason.field) == ("conflicting_resubmission", "referral_id")
    assert "new referral_id" in reason.message


def test_malformed_json_is_reported_against_the_whole_message() -> None:
    with pytest.raises(ValidationError) as caught:
        SubmitReferral.model_validate_json('{"source": "' + CHILD)
    assert [(r.code, r.field) for r in malformed(caught.value)] == [("malformed", "")]


def test_malformed_never_repeats_a_validators_text_that_may_quote_input() -> None:
    class Echoing(BaseModel):
        personal_number: str

        @field_validator("personal_number")
        @classmethod
        def refuse(cls, value: str) -> str:
            raise ValueError(f"bad number {value}")

    with pytest.raises(ValidationError) as caught:
        Echoing(personal_number=CHILD)
    (reason,) = malformed(caught.value)
    assert reason.field == "personal_number"
    assert CHILD not in reason.message


def test_field_paths_read_like_the_contract() -> None:
    assert field_path(("persons", 1, "personal_number")) == "persons[1].personal_number"
    assert field_path(("indicators", 0)) == "indicators[0]"
    assert field_path(()) == ""


# --- properties ----------------------------------------------------------------------------

text = st.text(max_size=30)
valid_numbers = st.builds(
    pnr,
    st.dates(min_value=date(1930, 1, 1), max_value=date(2026, 11, 2)),
    st.from_regex(r"\A(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})\Z"),
    coordination=st.booleans(),
)
numbers = valid_numbers | st.from_regex(r"\A[0-9]{8}-?[0-9]{4}\Z") | text
persons = st.builds(
    Person,
    role=st.sampled_from(["child", "guardian", "partner", "sibling", "other"]) | text,
    personal_number=numbers,
    name=st.none() | text,
    municipality_code=st.sampled_from([None, "0580", "0581"]) | st.from_regex(r"\A[0-9]{4}\Z"),
)
#: What SubmitReferral takes as a sender: the shared source pattern, printable referral ids.
sources = st.from_regex(SOURCE_PATTERN.replace("^", "\\A").replace("$", "\\Z"))
referral_ids = st.text(st.characters(exclude_categories=("C",)), min_size=1, max_size=20)
referrals = st.builds(
    SubmitReferral,
    source=sources,
    referral_id=referral_ids,
    programme=st.sampled_from(["network", "coordinated", "counselling", "field"]) | text,
    basis=st.sampled_from(["service", "decision"]) | text,
    decision_ref=st.none() | text,
    urgency=st.sampled_from(["normal", "acute"]) | text,
    submitted_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    persons=st.lists(persons, max_size=5),
    consent=st.none()
    | st.builds(
        Consent, given=st.booleans(), form_ref=st.none() | text, given_at=st.none() | st.dates()
    ),
    indicators=st.lists(st.sampled_from(sorted(INDICATORS)) | text, max_size=7),
    note=st.none() | text | st.integers(1995, 2005).map(lambda n: "n" * n),
)
# Mostly well-formed referrals, so that the acceptance path is explored too: the strategy above
# almost never yields an acceptable one.
plausible_persons = st.builds(
    Person,
    role=st.sampled_from(["child", "child", "guardian", "partner", "sibling", "other"]),
    personal_number=valid_numbers,
    municipality_code=st.just("0580"),
)
plausible_referrals = st.builds(
    SubmitReferral,
    source=st.just("linkoping.elevhalsa"),
    referral_id=st.text(st.characters(exclude_categories=("C",)), min_size=1, max_size=5),
    programme=st.sampled_from(["network", "coordinated", "counselling"]),
    basis=st.just("service"),
    urgency=st.sampled_from(["normal", "acute"]),
    persons=st.lists(plausible_persons, min_size=1, max_size=4),
    consent=st.builds(
        Consent,
        given=st.booleans(),
        form_ref=st.none() | st.just("SAMTYCKE-1"),
        given_at=st.none() | st.dates(max_value=date(2026, 11, 2)),
    ),
    indicators=st.lists(st.sampled_from(sorted(INDICATORS)), max_size=6),
)
LONG_DIGITS = re.compile(r"[0-9]{6}")
received = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from([STOCKHOLM, UTC, timezone(timedelta(hours=-8))]),
)


@given(r=referrals | plausible_referrals, at=received, exception=st.booleans())
@settings(max_examples=3000, deadline=None)
def test_evaluate_never_raises_and_always_answers(
    r: SubmitReferral, at: datetime, exception: bool
) -> None:
    outcome = evaluate(r, received_at=at, policy=POLICY, residency_exception=exception)
    if isinstance(outcome, Rejected):
        assert outcome.reasons
        assert all(isinstance(x, Reason) and x.code in CODES for x in outcome.reasons)
        # No personal number can be in a message, and names do not change any message.
        assert not any(LONG_DIGITS.search(x.message) for x in outcome.reasons)
        anonymous = r.model_copy(
            update={"persons": [p.model_copy(update={"name": None}) for p in r.persons]}
        )
        again = evaluate(anonymous, received_at=at, policy=POLICY, residency_exception=exception)
        assert again == outcome
        return
    assert isinstance(outcome, Accepted)
    assert outcome.priority in (1, 2, 3)
    assert len(outcome.household) == len(r.persons) >= 1
    assert all(
        len(m.personal_number) == 12 and m.personal_number.isdigit() for m in outcome.household
    )
    assert outcome.first_contact_due == local_date(at) + timedelta(days=14)
    assert outcome.ack_due == add_business_hours(at, 24)
    assert set(outcome.indicators_met) <= INDICATORS


@given(
    birth=st.dates(min_value=date(2006, 1, 1), max_value=date(2026, 11, 2)),
    guardian=valid_numbers,
    urgency=st.sampled_from(["normal", "acute"]),
)
@settings(max_examples=300, deadline=None)
def test_well_formed_network_referrals_are_accepted(
    birth: date, guardian: str, urgency: str
) -> None:
    persons_ = [person(pnr(birth), "child"), person(guardian, "guardian")]
    outcome = evaluate(
        referral(persons=persons_, urgency=urgency), received_at=RECEIVED, policy=POLICY
    )
    expected_ok = age_on(birth, DAY) <= 20 and guardian != persons_[0].personal_number
    assert isinstance(outcome, Accepted) is expected_ok, outcome


def test_age_is_counted_on_the_day_received_not_today() -> None:
    back_then = datetime(2019, 3, 1, 10, tzinfo=STOCKHOLM)
    # The child is 10 today, but was 2 in 2019 (when the family signed the consent form).
    signed = Consent(given=True, form_ref="SAMTYCKE-88", given_at=back_then.date())
    r = referral(programme="coordinated", consent=signed)
    outcome = evaluate(r, received_at=back_then, policy=POLICY)
    assert isinstance(outcome, Rejected)
    assert [x.message for x in outcome.reasons] == [
        "the child is 2 on the day received; this programme takes children aged 6 to 16"
    ]


def test_acknowledgement_deadline_follows_the_calendar_policy() -> None:
    before_christmas = datetime(2026, 12, 23, 14, tzinfo=STOCKHOLM)
    default = evaluate(referral(), received_at=before_christmas, policy=POLICY)
    assert isinstance(default, Accepted)
    assert default.ack_due == datetime(2026, 12, 28, 14, tzinfo=STOCKHOLM)
    legal_only = IntakePolicy(calendar=CalendarPolicy(de_facto_days_off=False))
    strict = evaluate(referral(), received_at=before_christmas, policy=legal_only)
    assert isinstance(strict, Accepted)
    assert strict.ack_due == datetime(2026, 12, 24, 14, tzinfo=STOCKHOLM)


@given(
    at=st.datetimes(timezones=st.sampled_from([UTC, STOCKHOLM, WEST, EAST])),
    received_at=received,
)
@settings(max_examples=500, deadline=None)
def test_a_date_is_malformed_exactly_when_outside_2000_to_the_day_after(
    at: datetime, received_at: datetime
) -> None:
    try:
        local = at.astimezone(STOCKHOLM).date()
    except OverflowError:
        local = date.min if at.year < 2000 else date.max
    inside = date(2000, 1, 1) <= local <= local_date(received_at) + timedelta(days=1)
    found = problems(referral(submitted_at=at), received_at=received_at)
    assert (("malformed", "submitted_at") in found) is not inside


# --- what counts as the same referral (services.intake.resubmission) -------------------------

KEY = b"k" * 32


def _content(r: SubmitReferral) -> str:
    return fingerprint(KEY, r)


@given(r=referrals | plausible_referrals, stamp=st.none() | received)
@settings(max_examples=300, deadline=None)
def test_a_referral_written_another_way_or_restamped_is_the_same_referral(
    r: SubmitReferral, stamp: datetime | None
) -> None:
    data = r.model_dump(mode="json")
    rewritten = {"unknown": [1, 2], **dict(reversed(data.items())), "submitted_at": stamp}
    assert _content(SubmitReferral.model_validate(rewritten)) == _content(r)
    if r.basis == "service":  # a default written out or left out
        del rewritten["basis"]
        assert _content(SubmitReferral.model_validate(rewritten)) == _content(r)


@given(r=plausible_referrals, data=st.data())
@settings(max_examples=300, deadline=None)
def test_any_change_to_what_intake_reads_is_another_referral(
    r: SubmitReferral, data: st.DataObject
) -> None:
    changes = {
        "referral_id": r.referral_id + "x",
        "programme": "field" if r.programme != "field" else "network",
        "urgency": "acute" if r.urgency == "normal" else "normal",
        "note": (r.note or "") + "n",
        "indicators": [*r.indicators, "other"],
        "persons": r.persons[1:] if len(r.persons) > 1 else [*r.persons, r.persons[0]],
        "consent": None if r.consent else Consent(given=True),
        "decision_ref": (r.decision_ref or "") + "d",
    }
    name = data.draw(st.sampled_from(sorted(changes)))
    changed = r.model_copy(update={name: changes[name]})
    assert _content(changed) != _content(r)
    assert fingerprint(b"another key" * 3, r) != _content(r), "keyed: none can compute it"


# --- evaluated again under a residency exception (services.intake.reevaluation) -------------


@given(
    r=plausible_referrals,
    codes=st.lists(st.sampled_from(["0580", "0581", "1280"]), min_size=4, max_size=4),
    at=received,
    later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)
@settings(max_examples=500, deadline=None)
def test_a_referral_rejected_only_as_not_resident_is_accepted_under_its_exception(
    r: SubmitReferral, codes: list[str], at: datetime, later: timedelta
) -> None:
    homes = codes[: len(r.persons)]
    persons = [
        p.model_copy(update={"municipality_code": c}) for p, c in zip(r.persons, homes, strict=True)
    ]
    couple = r.model_copy(update={"programme": "counselling", "persons": persons})
    outcome = evaluate(couple, received_at=at, policy=POLICY)
    if not isinstance(outcome, Rejected) or not only_residency(outcome.reasons):
        return
    granted = at + later
    again = evaluate(
        couple, received_at=at, policy=POLICY, residency_exception=True, deadlines_from=granted
    )
    assert isinstance(again, Accepted)
    on_arrival = evaluate(couple, received_at=at, policy=POLICY, residency_exception=True)
    assert isinstance(on_arrival, Accepted)
    assert again.household == on_arrival.household, "judged on the day received"
    assert again.priority == on_arrival.priority
    assert again.first_contact_due == local_date(granted) + timedelta(days=14)
    assert again.ack_due == add_business_hours(granted, 24)
