"""The intake rules: whether a referral is accepted, and if not, every reason why.

Pure functions (no clock, no I/O) of the referral, the instant it was received and an
:class:`~services.intake.policy.IntakePolicy`, so that a decision replays identically. The seed
rules are restated in ``domain.md`` ("Intake rules"); ``docs/intake.md`` names, for every rule
and reason code, the function that carries it out. :func:`evaluate` applies them in turn; each
seam has its module, whose docstring writes down the choices made where the seeds are silent:
the persons and the programme's age range (:mod:`services.intake.household`), personal numbers
and ages (:mod:`services.intake.personal_numbers`), residency
(:mod:`services.intake.residency`), the sender's dates (:mod:`services.intake.referral_dates`),
coordinated support's consent form and indicators (:mod:`services.intake.coordinated`),
priority (:mod:`services.intake.priority`), the schema (:mod:`services.intake.malformed`) and
the messages (:mod:`services.intake.reasons`).

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

No reason is listed that only follows from another; here: a basis that is not offered is not
also asked for its decision reference. A referral to a programme with no contract in force on
the day received (the joint contract of 002 ran to 2021-08-31 unless extended) is **accepted
and flagged**, not rejected: the referring system's child or family is not turned away for the
parties' paperwork, and the answer names the contract that ended and its end
(``no_contract_in_force``) so that a person decides how it is served
(``infra/contract_terms.py``; the terms are the seeds' followed by what billing records,
:mod:`services.intake.terms`). Messages never echo an input value, so no personal number or
name can reach a stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from events.intake import Reason
from events.referrals import SubmitReferral
from infra.calendar import add_business_hours, add_calendar_days, local_date
from infra.contract_terms import NoContract, no_contract
from services.intake.coordinated import INDICATORS, check_consent, missing_indicators
from services.intake.household import Member, check_age_range, check_persons
from services.intake.personal_numbers import age_on, parse_personal_number
from services.intake.policy import BASES, PROGRAMMES, URGENCIES, Basis, IntakePolicy, Urgency
from services.intake.priority import priority_of
from services.intake.reasons import reason
from services.intake.referral_dates import check_dates
from services.intake.residency import check_residency
from services.intake.settings import Referable

# Also read from here by the modules another change owns (application, app, polare).
__all__ = [
    "Accepted",
    "IntakePolicy",
    "Member",
    "Rejected",
    "age_on",
    "evaluate",
    "parse_personal_number",
]


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
    programme = check_programme(referral, reasons)
    basis = BASES.get(referral.basis)
    if basis is None:
        reasons.append(reason("malformed:basis", "basis"))
    urgency = URGENCIES.get(referral.urgency)
    if urgency is None:
        reasons.append(reason("malformed:urgency", "urgency"))
    check_decision_basis(referral, programme, basis, policy, reasons)
    checked = check_persons(referral.persons, day, reasons)
    if programme is not None and checked:
        check_age_range(programme, checked, policy, reasons)
        check_residency(programme, referral.persons, policy, residency_exception, reasons)
    consent_judged = programme == "coordinated" and check_consent(referral.consent, day, reasons)
    met = tuple(sorted(INDICATORS.intersection(referral.indicators)))
    if programme == "coordinated":
        reasons.extend(missing_indicators(met, policy.min_indicators))
    check_note(referral, policy, reasons)
    check_dates(referral, day, reasons, consent_judged)

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


def check_programme(referral: SubmitReferral, reasons: list[Reason]) -> Referable | None:
    """The referable programme named, or ``unknown_programme`` (field work takes none)."""
    programme = PROGRAMMES.get(referral.programme)
    if programme is None:
        key = "unknown_programme:field" if referral.programme == "field" else "unknown_programme"
        reasons.append(reason(key, "programme", known=", ".join(PROGRAMMES)))
    return programme


def check_decision_basis(
    referral: SubmitReferral,
    programme: Referable | None,
    basis: Basis | None,
    policy: IntakePolicy,
    reasons: list[Reason],
) -> None:
    """Basis ``decision``: ``basis_not_offered`` for a programme decided assistance does not
    reach, else ``missing_decision_ref`` without the decision's reference."""
    if basis == "decision" and programme and programme not in policy.decision_programmes:
        reasons.append(reason("basis_not_offered", "basis", programme=programme))
    elif basis == "decision" and not (referral.decision_ref or "").strip():
        reasons.append(reason("missing_decision_ref", "decision_ref"))


def check_note(referral: SubmitReferral, policy: IntakePolicy, reasons: list[Reason]) -> None:
    """``note_too_long``: a note of more than ``policy.note_max_chars`` characters."""
    if referral.note is not None and len(referral.note) > policy.note_max_chars:
        reasons.append(reason("note_too_long", "note", limit=policy.note_max_chars))
