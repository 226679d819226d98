"""The intake rules: whether a referral is accepted, and if not, every reason why.

Pure functions (no clock, no I/O) of the referral, the instant it was received and an
:class:`IntakePolicy`, so that a decision replays identically. The seed rules are restated in
``domain.md`` ("Intake rules"); the choices made where the seeds are silent are written here.

Reason codes are those of ``contracts.md`` plus five that its list does not cover:

- ``invalid_role``: a person's role is not child, guardian, partner, sibling or other.
- ``duplicate_person``: the same personal number is listed twice (a person has one role, and
  two entries would give one person two pseudonymous references downstream).
- ``basis_not_offered``: basis ``decision`` for a programme that decided assistance does not
  reach; only network work is (002 §1: coordinated support "ska inte vara biståndsprövat";
  003: counselling is a service). See :attr:`IntakePolicy.decision_programmes`.
- ``rate_limited`` (field ``source``): the source sent more referrals than its rate limit allows
  (``LOTS_INTAKE_RATE_*``, :mod:`services.intake.limits`); the message says when to send again.
  Unlike every other code it is transient: it is not the referral's answer, and the same
  ``(source, referral_id)`` sent again (as a new message) is evaluated anew. It is never listed
  with other reasons, since the rules are not applied to a referral that was not admitted.
- ``conflicting_resubmission`` (field ``referral_id``, alone): a referral whose content differs
  from the one already received under its ``(source, referral_id)``
  (:mod:`services.intake.resubmission` says what counts as the same content). It answers that
  message only: the first referral's answer and case stay as they are, and the sender is told
  to send the new referral under a new ``referral_id``.

Rules where the seeds are silent:

- Personal numbers must have all 12 digits (``YYYYMMDDNNNN``; a hyphen before the last four is
  tolerated and removed). Ten-digit forms are refused: their century would have to be guessed
  from today's date, and these rules have no clock. A birth date after the day received is
  invalid. Ages are completed years on the Stockholm date of receipt; someone born on 29
  February turns a year older on 1 March in common years.
- Every person with role ``child`` must be within the programme's age range, and a programme
  with an age range needs at least one child.
- Residency (counselling): every listed person must have municipality code 0580, a missing code
  included, unless the administration agreed an exception (``residency_exception``), which then
  covers the whole referral.
- No reason is listed that only follows from another: an empty ``persons`` gives
  ``missing_persons`` alone, a person with an invalid number gets no age reason, a basis that is
  not offered is not also asked for its decision reference, and ``missing_child`` is not listed
  while some role is invalid (that person may be the child).
- ``submitted_at`` and ``consent.given_at`` must fall between 2000-01-01 and the day after the
  Stockholm date the referral was received (a day's grace for clocks and time zones): a date
  outside is ``malformed`` for that field. Nothing this system serves began before 2000, and a
  date after tomorrow is a typing error or a forged one (pydantic alone takes years 1 to 9999).
- Coordinated support's consent form and its five indicators (002 §1) are judged by
  :mod:`services.intake.coordinated`, which says how.
- A referral to a programme with no contract in force on the day received (the joint contract
  of 002 ran to 2021-08-31 unless extended) is **accepted and flagged**, not rejected: the
  referring system's child or family is not turned away for the parties' paperwork, and the
  answer names the contract that ended and its end (``no_contract_in_force``) so that a person
  decides how it is served (``infra/contract_terms.py``; the terms are the seeds' followed by
  what billing records, :mod:`services.intake.terms`).
- Messages never echo an input value, so no personal number or name can reach a stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Literal, NamedTuple, get_args

from personnummer import personnummer as pn
from pydantic import ValidationError

from events.intake import Reason
from events.referrals import NOT_ISO_TEXT, NOT_PRINTABLE, Person, SubmitReferral
from events.types import Role
from infra.calendar import CalendarPolicy, add_business_hours, add_calendar_days, local_date
from infra.contract_terms import SEED_TERMS, ContractTerm, NoContract, no_contract
from services.intake.coordinated import INDICATORS as INDICATORS  # re-exported
from services.intake.coordinated import check_consent, missing_indicators
from services.intake.priority import DEFAULT_ORDERS, Order, check_order, priority_of
from services.intake.settings import Referable

Basis = Literal["service", "decision"]
Urgency = Literal["normal", "acute"]

# Lookup tables rather than membership tests: ``.get`` narrows a free string to its Literal.
PROGRAMMES: Mapping[str, Referable] = MappingProxyType({p: p for p in get_args(Referable)})
_BASES: Mapping[str, Basis] = MappingProxyType({b: b for b in get_args(Basis)})
_URGENCIES: Mapping[str, Urgency] = MappingProxyType({u: u for u in get_args(Urgency)})
_ROLES: Mapping[str, Role] = MappingProxyType({r: r for r in get_args(Role)})

# Every message in one place, keyed "code" or "code:variant"; placeholders are filled only
# with values of our own (a programme name, a count, an index), never with input.
_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "unknown_programme": "unknown programme; referable programmes: {known}",
        "unknown_programme:field": "field work is outreach and takes no referrals; "
        "referable programmes: {known}",
        "malformed:basis": "basis must be service or decision",
        "malformed:urgency": "urgency must be normal or acute",
        "basis_not_offered": "{programme} is a service that needs no assistance decision; "
        "send basis service",
        "missing_decision_ref": "basis decision needs the reference of the assistance decision",
        "missing_persons": "a referral must name at least one person",
        "invalid_role": "role must be one of child, guardian, partner, sibling, other",
        "invalid_personal_number:format": "a personal number has 12 digits, YYYYMMDDNNNN",
        "invalid_personal_number:date": "the date part is not a real date "
        "(a samordningsnummer adds 60 to the day)",
        "invalid_personal_number:serial": "serial number 000 is never issued",
        "invalid_personal_number:check": "the check digit does not match",
        "invalid_personal_number:unborn": "the birth date is after the day received",
        "duplicate_person": "the same person is already listed as persons[{first}]",
        "missing_child": "{programme} needs a person with role child",
        "age_out_of_range": "the child is {age} on the day received; "
        "this programme takes children aged {low} to {high}",
        "not_resident": "{programme} is for residents of municipality {home} "
        "unless the administration agreed an exception",
        "note_too_long": "the note has more than {limit} characters",
        "rate_limited": "this source sent more than {per_minute} referrals a minute "
        "(at most {burst} at once); send this one again in {seconds} s or later",
        "malformed:date": "must be a date from {earliest} to the day after the referral was "
        "received",
        "conflicting_resubmission": "another referral, with other content, was already "
        "received under this referral_id from this source; its answer stands. Send this "
        "referral under a new referral_id",
    }
)
#: The earliest ``submitted_at`` or ``consent.given_at`` taken (see the module docstring).
EARLIEST_DATE = date(2000, 1, 1)


def _reason(key: str, field: str, **values: object) -> Reason:
    code = key.partition(":")[0]
    return Reason(code=code, field=field, message=_MESSAGES[key].format(**values))


@dataclass(frozen=True)
class IntakePolicy:
    """The settings intake decides by; defaults are the seeds' values.

    ``age_ranges`` names the programmes that serve a child, with the child's inclusive age
    range in completed years. ``resident_only`` names the programmes restricted to residents of
    ``home_municipality``; network work and coordinated support are not, because their seeds set
    no residency rule at intake. ``decision_programmes`` names the programmes that decided
    assistance reaches. ``priority_orders`` is each programme's order of service
    (:mod:`services.intake.priority`).
    """

    #: The seed's literal reading: every indicator "skall vara uppfyllda" (002 §1). Only a
    #: decision of the administration recorded in intake's store relaxes it
    #: (:mod:`services.intake.eligibility`).
    min_indicators: int = len(INDICATORS)
    first_contact_days: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType(dict.fromkeys(PROGRAMMES, 14))
    )
    age_ranges: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: MappingProxyType({"network": (0, 20), "coordinated": (6, 16)})
    )
    home_municipality: str = "0580"
    resident_only: frozenset[str] = frozenset({"counselling"})
    decision_programmes: frozenset[str] = frozenset({"network"})
    priority_orders: Mapping[str, Order] = field(default_factory=lambda: DEFAULT_ORDERS)
    note_max_chars: int = 2000
    ack_hours: int = 24
    calendar: CalendarPolicy = field(default_factory=CalendarPolicy)
    #: The contracts' terms (``infra/contract_terms.py``): a referral to a programme with no
    #: contract in force on the day received is accepted and flagged (issue 14 item 7).
    contract_terms: tuple[ContractTerm, ...] = SEED_TERMS

    def __post_init__(self) -> None:
        # A bad policy is a deployment error: refuse it here so that evaluate() stays total.
        known = set(PROGRAMMES)
        if set(self.first_contact_days) != known or min(self.first_contact_days.values()) < 0:
            raise ValueError("first_contact_days needs a non-negative value for every programme")
        if not set(self.age_ranges) <= known or any(
            not 0 <= low <= high for low, high in self.age_ranges.values()
        ):
            raise ValueError("age_ranges must map known programmes to 0 <= low <= high")
        if not (self.resident_only | self.decision_programmes) <= known:
            raise ValueError("resident_only and decision_programmes must name known programmes")
        if set(self.priority_orders) != known:
            raise ValueError("priority_orders needs an order for every programme")
        for order in self.priority_orders.values():
            check_order(order)
        if not 0 <= self.min_indicators <= len(INDICATORS):
            raise ValueError("min_indicators must be between 0 and 5")
        if self.note_max_chars < 0 or self.ack_hours < 0:
            raise ValueError("note_max_chars and ack_hours must not be negative")


class Member(NamedTuple):
    """One person of an accepted household; the personal number is pseudonymised downstream."""

    personal_number: str
    role: Role
    age: int


@dataclass(frozen=True)
class Accepted:
    programme: Referable
    basis: Basis
    urgency: Urgency
    #: 1, 2 or 3 by the programme's order (:mod:`services.intake.priority`): 1 is served first.
    priority: int
    first_contact_due: date
    ack_due: datetime
    household: tuple[Member, ...]
    indicators_met: tuple[str, ...]
    consent: bool
    #: Set when no contract of the programme is in force on the day received: accepted, and
    #: flagged in the answer for a person to decide how it is served.
    no_contract: NoContract | None = None


@dataclass(frozen=True)
class Rejected:
    reasons: tuple[Reason, ...]


class _Checked(NamedTuple):
    position: int
    role: Role | None
    member: Member | None


def evaluate(
    referral: SubmitReferral,
    *,
    received_at: datetime,
    policy: IntakePolicy,
    residency_exception: bool = False,
    deadlines_from: datetime | None = None,
) -> Accepted | Rejected:
    """Accept the referral, or reject it listing every problem found.

    ``received_at`` must be timezone-aware (it is ours, not the sender's); the rules are judged
    on its Stockholm date, and deadlines run from it, never from the sender's ``submitted_at``,
    unless ``deadlines_from`` says from when (a referral accepted later, when the
    administration's residency exception was recorded: :mod:`services.intake.reevaluation`).
    """
    day = local_date(received_at)
    reasons: list[Reason] = []
    programme = PROGRAMMES.get(referral.programme)
    if programme is None:
        key = "unknown_programme:field" if referral.programme == "field" else "unknown_programme"
        reasons.append(_reason(key, "programme", known=", ".join(PROGRAMMES)))
    basis = _BASES.get(referral.basis)
    if basis is None:
        reasons.append(_reason("malformed:basis", "basis"))
    urgency = _URGENCIES.get(referral.urgency)
    if urgency is None:
        reasons.append(_reason("malformed:urgency", "urgency"))
    if basis == "decision" and programme and programme not in policy.decision_programmes:
        reasons.append(_reason("basis_not_offered", "basis", programme=programme))
    elif basis == "decision" and not (referral.decision_ref or "").strip():
        reasons.append(_reason("missing_decision_ref", "decision_ref"))
    checked = _check_persons(referral.persons, day, reasons)
    if programme is not None and checked:
        _check_programme(programme, referral, checked, policy, residency_exception, reasons)
    consent_judged = programme == "coordinated" and check_consent(referral.consent, day, reasons)
    met = tuple(sorted(INDICATORS.intersection(referral.indicators)))
    if programme == "coordinated":
        reasons.extend(missing_indicators(met, policy.min_indicators))
    if referral.note is not None and len(referral.note) > policy.note_max_chars:
        reasons.append(_reason("note_too_long", "note", limit=policy.note_max_chars))
    _check_dates(referral, day, reasons, consent_judged)

    if reasons or programme is None or basis is None or urgency is None:
        return Rejected(reasons=tuple(reasons))
    start = received_at if deadlines_from is None else deadlines_from
    return Accepted(
        programme=programme,
        basis=basis,
        urgency=urgency,
        priority=priority_of(policy.priority_orders[programme], basis, urgency),
        first_contact_due=add_calendar_days(
            local_date(start), policy.first_contact_days[programme]
        ),
        ack_due=add_business_hours(start, policy.ack_hours, policy.calendar),
        household=tuple(c.member for c in checked if c.member is not None),
        indicators_met=met,
        consent=referral.consent is not None and referral.consent.given,
        no_contract=no_contract(policy.contract_terms, programme, day),
    )


def _check_persons(persons: Sequence[Person], day: date, reasons: list[Reason]) -> list[_Checked]:
    if not persons:
        reasons.append(_reason("missing_persons", "persons"))
        return []
    checked: list[_Checked] = []
    first_index: dict[str, int] = {}
    for i, person in enumerate(persons):
        role = _ROLES.get(person.role)
        if role is None:
            reasons.append(_reason("invalid_role", f"persons[{i}].role"))
        number_field = f"persons[{i}].personal_number"
        parsed = parse_personal_number(person.personal_number, day)
        member = None
        if isinstance(parsed, str):
            reasons.append(_reason(f"invalid_personal_number:{parsed}", number_field))
        elif parsed[0] in first_index:
            reasons.append(_reason("duplicate_person", number_field, first=first_index[parsed[0]]))
        else:
            first_index[parsed[0]] = i
            if role is not None:
                member = Member(parsed[0], role, age_on(parsed[1], day))
        checked.append(_Checked(i, role, member))
    return checked


def _check_programme(
    programme: Referable,
    referral: SubmitReferral,
    checked: Sequence[_Checked],
    policy: IntakePolicy,
    residency_exception: bool,
    reasons: list[Reason],
) -> None:
    age_range = policy.age_ranges.get(programme)
    if age_range is not None:
        low, high = age_range
        children = [c for c in checked if c.role == "child"]
        # A person with an unknown role may well be the child: invalid_role says enough.
        if not children and all(c.role is not None for c in checked):
            reasons.append(_reason("missing_child", "persons", programme=programme))
        for c in children:
            if c.member is not None and not low <= c.member.age <= high:
                where, age = f"persons[{c.position}].personal_number", c.member.age
                reasons.append(_reason("age_out_of_range", where, age=age, low=low, high=high))
    if programme in policy.resident_only and not residency_exception:
        for i, person in enumerate(referral.persons):
            if person.municipality_code != policy.home_municipality:
                field_ = f"persons[{i}].municipality_code"
                reasons.append(
                    _reason(
                        "not_resident", field_, programme=programme, home=policy.home_municipality
                    )
                )


def _check_dates(
    referral: SubmitReferral, day: date, reasons: list[Reason], consent_judged: bool
) -> None:
    """``submitted_at`` and ``consent.given_at`` within 2000-01-01 .. ``day`` + 1, else
    ``malformed``; a ``given_at`` after ``day`` that coordinated support's consent rule judged
    is ``missing_consent`` alone (:func:`services.intake.coordinated.check_consent`)."""
    dates: dict[str, date | datetime | None] = {
        "submitted_at": referral.submitted_at,
        "consent.given_at": referral.consent.given_at if referral.consent else None,
    }
    for name, value in dates.items():
        if value is None or within_bounds(value, day):
            continue
        if name == "consent.given_at" and consent_judged and value > day:
            continue  # late for the consent form: missing_consent says so
        reasons.append(_reason("malformed:date", name, earliest=EARLIEST_DATE.isoformat()))


def within_bounds(value: date | datetime, day: date) -> bool:
    """Whether a sender's date (a datetime: its Stockholm date) lies from 2000-01-01 to the day
    after ``day``, the day received."""
    # The year roughly first (its offset may move it a year either way in Stockholm):
    # converting a datetime of year 1 or 9999 to Stockholm time can overflow.
    if not EARLIEST_DATE.year - 1 <= value.year <= day.year + 2:
        return False
    on = local_date(value) if isinstance(value, datetime) else value
    return EARLIEST_DATE <= on <= day + timedelta(days=1)


@lru_cache(maxsize=1024)  # a referral's persons are parsed more than once (rules, names)
def parse_personal_number(raw: str, on: date) -> tuple[str, date] | str:
    """``(the 12 digits, birth date)``, or why the number is invalid: ``format``, ``date``,
    ``serial``, ``check`` or ``unborn`` (born after ``on``).

    Validity (a real date, a samordningsnummer's day + 60, the Luhn check digit) is decided by the
    ``personnummer`` package; the 12-digit format and the explanation are ours.
    """
    text = raw.strip()
    if len(text) == 13 and text[8] == "-":
        text = text[:8] + text[9:]
    # isascii(): str.isdigit() also accepts other scripts' digits, which no register issues.
    if len(text) != 12 or not (text.isascii() and text.isdigit()):
        return "format"
    try:
        birth: date = pn.Personnummer(text).get_date()
    except (pn.PersonnummerException, ValueError):
        return _why_invalid(text)
    return (text, birth) if birth <= on else "unborn"


def _why_invalid(digits: str) -> str:
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    try:
        date(year, month, day - 60 if day > 60 else day)
    except ValueError:
        return "date"
    return "serial" if digits[8:11] == "000" else "check"


def age_on(birth: date, day: date) -> int:
    """Completed years on ``day``; a 29 February birthday counts as 1 March in common years."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def rate_limited(per_minute: int, burst: int, retry_after: timedelta) -> Reason:
    """The transient refusal of a referral beyond its source's rate limit."""
    seconds = max(1, math.ceil(retry_after.total_seconds()))
    return _reason("rate_limited", "source", per_minute=per_minute, burst=burst, seconds=seconds)


def conflicting_resubmission() -> Reason:
    """The answer to a referral whose ``(source, referral_id)`` was already used for another."""
    return _reason("conflicting_resubmission", "referral_id")


def malformed(exc: ValidationError) -> list[Reason]:
    """One ``malformed`` reason per pydantic error, with its field path and no input value."""
    return [
        Reason(code="malformed", field=field_path(err["loc"]), message=_safe_message(err))
        for err in exc.errors(include_url=False, include_input=False)
    ]


def field_path(loc: Iterable[int | str]) -> str:
    """``("persons", 1, "personal_number")`` → ``persons[1].personal_number``.

    The empty path ``""`` means the message as a whole, as in JSON Pointer.
    """
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


# pydantic error types whose message is fixed text or names only the schema's constraints; any
# other type (a custom validator's text, a union tag, a parser's excerpt) may quote the input.
_SAFE_ERROR_TYPES = frozenset(
    (
        "missing", "model_type", "model_attributes_type", "dict_type", "list_type", "string_type",
        "string_too_short", "string_too_long", "string_pattern_mismatch", "string_unicode",
        "bool_type", "bool_parsing", "int_type", "int_parsing", "date_type", "date_parsing",
        "date_from_datetime_parsing", "date_from_datetime_inexact", "datetime_type",
        "datetime_parsing", "datetime_object_invalid", "datetime_from_date_parsing",
        "timezone_aware", "timezone_naive", "literal_error", "json_type", "json_invalid",
        "too_short", "too_long", "extra_forbidden", "none_required",
        NOT_PRINTABLE, NOT_ISO_TEXT,
    )
)  # fmt: skip


def _safe_message(err: Mapping[str, object]) -> str:
    kind = str(err["type"])
    return str(err["msg"]) if kind in _SAFE_ERROR_TYPES else f"invalid value ({kind})"
