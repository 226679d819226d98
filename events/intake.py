"""The events intake publishes on ``intake.events`` about referrals, cases and polare
(contracts.md, v1); strict, as everything our own services publish. Intake's quality registers
and the follow-up of coordinated support, on the same stream, are in :mod:`events.intake_registers`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
)

from events.types import Message, Programme, Role

#: What ``repeat_of`` says on intake's answers.
REPEAT_OF = (
    "optional: the id of the answer this message repeats, given again to the same referral "
    "re-sent under a new message id; nothing new happened, so a consumer may skip it"
)


class HouseholdMember(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    person_ref: UUID
    role: Role
    age: int


class Reason(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    code: str
    field: str
    message: str


#: What ``residency_exception_id`` and ``supersedes`` say on intake's answers.
RESIDENCY_EXCEPTION_ID = (
    "optional: the residency exception whose recording caused this answer: the referral was "
    "first rejected as not resident (counselling) and was evaluated again when the "
    "administration's exception was recorded (POST /residency-exceptions); also the message's "
    "causation_id"
)
SUPERSEDES = (
    "optional: the id of the earlier answer to this referral that this one replaces (the "
    "rejection evaluated again under a residency exception)"
)


class ContractNotice(BaseModel):
    """A referral accepted to a programme with no contract in force on the day received."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    #: The contract of the programme that ended last before that day (null: none had begun).
    contract: str | None
    ended_on: date | None
    message: str


NO_CONTRACT = (
    "optional: present when no contract of the programme was in force on the day the referral "
    "was received (the contract that ended last and its end, or none begun yet); the referral "
    "is accepted and flagged for a person to decide how it is served"
)


def _has(what: str) -> str:
    return (
        f"optional: whether the referral gave {what}, which intake keeps sealed (never on a "
        "stream); absent for cases opened before intake kept it"
    )


class ReferralReceived(Message):
    case_id: UUID
    source: str
    referral_id: str
    programme: Programme
    basis: Literal["service", "decision"]
    urgency: Literal["normal", "acute"]
    #: 1 is served first, by the programme's order (services/intake/priority.py): network
    #: work 1 decided assistance, 2 acute service, 3 service; counselling and coordinated
    #: support 1 acute, 3 the others (by default; a setting per programme).
    priority: Annotated[int, Field(ge=1, le=3)]
    received_at: AwareDatetime
    first_contact_due: date
    household: list[HouseholdMember]
    consent: bool
    #: Optional (see :data:`REPEAT_OF`).
    repeat_of: Annotated[UUID | None, Field(description=REPEAT_OF)] = None
    #: Optional: what the referral said exists, never its text (contracts.md: the export
    #: carries only whether they exist).
    has_decision_ref: Annotated[
        bool | None, Field(description=_has("an assistance decision's reference"))
    ] = None
    has_consent_form_ref: Annotated[
        bool | None, Field(description=_has("the consent form's reference"))
    ] = None
    has_consent_given_at: Annotated[
        bool | None, Field(description=_has("the date the consent form was signed"))
    ] = None
    has_note: Annotated[bool | None, Field(description=_has("a note"))] = None
    #: Optional (see :data:`RESIDENCY_EXCEPTION_ID` and :data:`SUPERSEDES`).
    residency_exception_id: Annotated[UUID | None, Field(description=RESIDENCY_EXCEPTION_ID)] = None
    supersedes: Annotated[UUID | None, Field(description=SUPERSEDES)] = None
    no_contract_in_force: Annotated[ContractNotice | None, Field(description=NO_CONTRACT)] = None


class ReferralRejected(Message):
    source: str
    referral_id: str
    received_at: AwareDatetime
    reasons: Annotated[list[Reason], Field(min_length=1)]
    #: Optional (see :data:`REPEAT_OF`).
    repeat_of: Annotated[UUID | None, Field(description=REPEAT_OF)] = None
    #: Optional (see :data:`RESIDENCY_EXCEPTION_ID` and :data:`SUPERSEDES`).
    residency_exception_id: Annotated[UUID | None, Field(description=RESIDENCY_EXCEPTION_ID)] = None
    supersedes: Annotated[UUID | None, Field(description=SUPERSEDES)] = None


class CaseClosed(Message):
    case_id: UUID
    outcome: Literal[
        "goals_met", "phased_out", "declined_by_family", "moved", "referred_elsewhere", "no_contact"
    ]
    closed_at: AwareDatetime


class CaseAcknowledged(Message):
    """The family or referrer was answered; ``within_deadline``: within 24 weekday hours."""

    case_id: UUID
    acknowledged_at: AwareDatetime
    ack_due: AwareDatetime
    within_deadline: bool


class AcknowledgementOverdue(Message):
    """No acknowledgement within 24 weekday hours of receipt: a service-level breach."""

    case_id: UUID
    ack_due: AwareDatetime
    detected_at: AwareDatetime


# --- polare (seed 004): young people on night walks ----------------------------------------
# Polare are young people: their names and dates of birth stay in intake's encrypted store.
# On streams a polar is the pseudonymous ``polar_ref``; billing learns only the age in whole
# years and the years in the activity that intake attests for each walk.


SchoolYear = Annotated[str, Field(pattern=r"^\d{4}/\d{2}$")]


class PolarEnrolled(Message):
    """intake.events: a polar was enrolled for a school year (1 July-30 June; at most 20 active
    at once)."""

    polar_ref: UUID
    school_year: SchoolYear
    enrolled_on: date
    #: The polar's year in the activity during this school year (1 in the first).
    years_in_activity: Annotated[int, Field(ge=1)]
    #: How many polare the school year has with this one (replacements included).
    enrolled_in_school_year: Annotated[int, Field(ge=1)]
    #: How many are active on ``enrolled_on`` with this one (at most 20 at once; absent from
    #: enrolments recorded before drop-outs were).
    active_in_school_year: Annotated[int, Field(ge=1)] | None = None


class PolarLeft(Message):
    """intake.events: a polar dropped out of a school year; from ``left_on`` they are not
    active (their walks are not attested) and a replacement may take their place."""

    polar_ref: UUID
    school_year: SchoolYear
    left_on: date
    #: How many polare are active on ``left_on``, after this one left.
    active_in_school_year: Annotated[int, Field(ge=0)]


class AttestedPolar(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    polar_ref: UUID
    #: Whole years on the walk's date.
    age: Annotated[int, Field(ge=0)]
    years_in_activity: Annotated[int, Field(ge=1)]


class NotAttested(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    polar_ref: UUID
    reason: Literal["unknown_polar", "not_enrolled", "erased"]


class PolareWalkAttested(Message):
    """intake.events: for a reported night walk, each polar's age and years in the activity on
    its date, read from the register (what billing prices the fee by), or why not."""

    walk_id: UUID
    walked_on: date
    attested: list[AttestedPolar]
    not_attested: list[NotAttested]
