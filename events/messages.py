"""Pydantic models of every public message (contracts.md, v1).

Inbound commands are lenient where intake must answer with a reason code rather than a
decoding error (an unknown programme is ``unknown_programme``, not ``malformed``); events that
our own services publish are strict. Unknown fields are ignored on reading so that a producer may
add optional fields without breaking older consumers.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, get_args
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
)
from pydantic_core import PydanticCustomError

Programme = Literal["network", "coordinated", "counselling", "field"]
#: The programmes in the contract's order, for lists and membership checks; derived, never retyped.
PROGRAMMES: tuple[Programme, ...] = get_args(Programme)
Role = Literal["child", "guardian", "partner", "sibling", "other"]
MeetingKind = Literal[
    "coordination",
    "pre_meeting",
    "network_meeting",
    "follow_up",
    "sip_meeting",
    "counselling",
    "group_session",
    "night_walk",
]
MeetingFormat = Literal["individual", "couple", "group"]
#: A decimal travels as a string ("1.50") so that no JSON reader turns it into a float.
DecimalStr = Annotated[Decimal, PlainSerializer(str, return_type=str, when_used="json")]
#: A calendar month, ``YYYY-MM`` (read and stepped by :mod:`infra.months`).
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=MONTH_PATTERN)]


class Message(BaseModel):
    """Base of every public message: its contract name and schema version."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    type_name: ClassVar[str]
    version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_name = cls.__name__


# --- inbound: intake.referrals -------------------------------------------------------------

#: A referral's sender: safe in a Redis key and in an ACL pattern.
SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
#: Error types of the validators below: fixed texts that never quote the input.
NOT_PRINTABLE, NOT_ISO_TEXT = "not_printable", "not_iso_text"


def printable(value: str) -> str:
    """Refuse a text with a character of Unicode's category C (control, format such as the
    bidirectional overrides, surrogate, private use, unassigned): such text can forge lines or
    reorder what a person reads where it is printed."""
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise PydanticCustomError(
            NOT_PRINTABLE, "must be printable: no control, format or unassigned characters"
        )
    return value


def iso_text(value: object) -> object:
    """Dates travel as ISO 8601 text: refuse the numbers pydantic would read as Unix time
    (a ``date`` or ``datetime`` made in Python passes)."""
    if value is not None and not isinstance(value, str | date):
        raise PydanticCustomError(NOT_ISO_TEXT, "must be an ISO 8601 text")
    return value


Source = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=SOURCE_PATTERN,
        description="letters, digits, '.', '_' and '-' (not first); at most 100",
    ),
]
ReferralId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="1 to 200 printable characters: none of Unicode's category C (control, "
        "format, surrogate, private use, unassigned)",
    ),
    AfterValidator(printable),
]
#: Checked by intake's rules, which know the day received (``services/intake/rules.py``).
SANE_DATES = "ISO 8601, from 2000-01-01 to the day after the referral is received"
SenderDate = Annotated[date, BeforeValidator(iso_text), Field(description=SANE_DATES)]
SenderTime = Annotated[AwareDatetime, BeforeValidator(iso_text), Field(description=SANE_DATES)]
MunicipalityCode = Annotated[
    str, Field(pattern=r"^[0-9]{4}$", description="the four digits of a Swedish municipality")
]


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    role: str
    personal_number: str
    name: str | None = None
    municipality_code: MunicipalityCode | None = None


class Consent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    #: A JSON boolean only: not "yes", not 1.
    given: StrictBool
    form_ref: Annotated[
        str | None,
        Field(
            description="the signed consent form's reference; coordinated support needs it "
            "(002: a consent form is used at the request)"
        ),
    ] = None
    given_at: Annotated[
        SenderDate | None,
        Field(
            description="the day the form was signed: ISO 8601, from 2000-01-01 to the day "
            "after the referral is received; coordinated support needs it, no later than the "
            "day received (Europe/Stockholm)"
        ),
    ] = None


class SubmitReferral(Message):
    """A referral from another municipal system. Carries personal data: intake only."""

    source: Source
    referral_id: ReferralId
    programme: str
    basis: str = "service"
    decision_ref: str | None = None
    urgency: str = "normal"
    submitted_at: SenderTime | None = None
    persons: list[Person] = Field(default_factory=list)
    consent: Consent | None = None
    indicators: list[str] = Field(default_factory=list)
    note: str | None = None


# --- intake.events -------------------------------------------------------------------------


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


# --- field work (seed 004): polare, night walks, area deployments -------------------------
# Polare are young people: their names and dates of birth stay in intake's encrypted store.
# On streams a polar is the pseudonymous ``polar_ref``; billing learns only the age in whole
# years and the years in the activity that intake attests for each walk.

SchoolYear = Annotated[str, Field(pattern=r"^\d{4}/\d{2}$")]
Area = Annotated[str, Field(min_length=1, max_length=80)]


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


# --- scheduling.events ---------------------------------------------------------------------


class MeetingScheduled(Message):
    meeting_id: UUID
    case_id: UUID
    programme: Programme
    kind: MeetingKind
    format: MeetingFormat
    provider: str
    staff: list[str]
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class MeetingHeld(Message):
    meeting_id: UUID
    case_id: UUID
    programme: Programme
    kind: MeetingKind
    format: MeetingFormat
    provider: str
    staff: list[str]
    started_at: AwareDatetime
    ended_at: AwareDatetime
    participants: Annotated[int, Field(ge=0)]
    client_visits: Annotated[int, Field(ge=0)]


class MeetingCancelled(Message):
    meeting_id: UUID
    case_id: UUID
    cancelled_by: Literal["family", "provider", "administration"]
    reason: str
    cancelled_at: AwareDatetime


class MeetingRescheduled(Message):
    """A booked meeting moved to another time (or staff); the earlier time is in ``previous_*``."""

    meeting_id: UUID
    case_id: UUID
    programme: Programme
    kind: MeetingKind
    format: MeetingFormat
    provider: str
    staff: list[str]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    previous_starts_at: AwareDatetime
    previous_ends_at: AwareDatetime
    requested_by: Literal["family", "provider", "administration"]
    reason: str
    rescheduled_at: AwareDatetime


class MeetingNoShow(Message):
    """The family did not come to a booked meeting: nothing was held, no time or fee to bill."""

    meeting_id: UUID
    case_id: UUID
    programme: Programme
    kind: MeetingKind
    format: MeetingFormat
    provider: str
    staff: list[str]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    recorded_at: AwareDatetime


class FirstContactOverdue(Message):
    case_id: UUID
    programme: Programme
    first_contact_due: date
    detected_at: AwareDatetime


class WaitTimeReportDue(Message):
    programme: Programme
    median_wait_days: int
    window_days: int
    detected_at: AwareDatetime


class NightWalkReported(Message):
    """scheduling.events: a night walk that took place: who walked, where, whom they met."""

    walk_id: UUID
    #: The booked ``night_walk`` meeting it was, if it was booked.
    meeting_id: UUID | None = None
    area: Area
    walked_on: date
    started_at: AwareDatetime
    ended_at: AwareDatetime
    staff: Annotated[list[str], Field(min_length=1)]
    polare: list[UUID]
    youths_met: Annotated[int, Field(ge=0)]
    youths_talked_with: Annotated[int, Field(ge=0)]
    reported_at: AwareDatetime


class Consultation(BaseModel):
    """The consultation with the administration (samråd med omsorgskontoret) a deployment or
    its extension rests on."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    consulted_with: Annotated[str, Field(min_length=1, max_length=200)]
    consulted_on: date
    reference: str | None = None


class AreaDeploymentStarted(Message):
    """scheduling.events: field workers focus on an area at social unrest for 1-12 weeks."""

    deployment_id: UUID
    area: Area
    reason: str
    first_day: date
    weeks: Annotated[int, Field(ge=1, le=12)]
    last_day: date
    consultation: Consultation
    recorded_by: str
    recorded_at: AwareDatetime


class AreaDeploymentExtended(Message):
    """scheduling.events: a deployment extended by 1-12 weeks after a new consultation."""

    deployment_id: UUID
    area: Area
    reason: str
    weeks_added: Annotated[int, Field(ge=1, le=12)]
    weeks_total: Annotated[int, Field(ge=2)]
    last_day: date
    consultation: Consultation
    recorded_by: str
    recorded_at: AwareDatetime


# --- billing.events ------------------------------------------------------------------------


class SessionLogged(Message):
    session_id: UUID
    case_id: UUID
    meeting_id: UUID | None
    programme: Programme
    provider: str
    performed_on: date
    minutes: Annotated[int, Field(ge=0)]
    billable_quarters: Annotated[int, Field(ge=0)]
    client_hours: DecimalStr
    rate: DecimalStr
    amount_ore: int
    fee_ore: int
    tariff_version: str
    settlement_month: Month


class SessionRecut(SessionLogged):
    """A session billed against the yearly cap gives way to one performed before it that was
    recorded after it (the cap is consumed in the order sessions were performed, 003 §1.2):
    the session as now billed, re-booked on its month, which is still open."""

    #: The session performed earlier that took the hours.
    given_to: UUID
    reason: str


class SettlementClosed(Message):
    month: Month
    total_ore: int
    fees_ore: int
    net_ore: int
    billable_hours: DecimalStr
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    closed_at: AwareDatetime
    #: Optional: the digest of the month's document limited to each programme (``--programme``).
    programme_digests: dict[str, str] | None = None
    #: Optional: how many tariff recordings (``TariffRecorded``/``CallOffRecorded``) it used.
    tariff_book_version: int | None = None


class AdjustmentRecorded(Message):
    adjustment_id: UUID
    month: Month
    belongs_to_month: Month
    programme: Programme
    amount_ore: int
    reason: str
    #: Optional: the late session this adjustment bills, its client hours and its client fees.
    session_id: UUID | None = None
    client_hours: DecimalStr | None = None
    fee_ore: int | None = None
    #: Optional: ``manual`` for an adjustment a person recorded (``lots settlement adjust``),
    #: with the written ``reference`` it rests on and who recorded it; absent for a late session.
    cause: Literal["manual", "catch_up"] | None = None
    reference: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    recorded_by: str | None = None
    #: Optional, on a ``catch_up`` (a tariff revision recorded after the month was paid): the
    #: line it catches up (``fixed:<contract>``, ``hourly:<programme>``) and the tariff version
    #: the month's line is now priced at.
    line: str | None = None
    tariff_version: str | None = None


class TariffEntry(BaseModel):
    """One catalogue entry: ``kind`` (term, fixed, rate, fee, cap, indexation, extension, posts,
    termination)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    kind: Literal[
        "term", "fixed", "rate", "fee", "cap", "indexation", "extension", "posts", "termination"
    ]
    entry_id: str
    #: ``entry_id#fingerprint`` of the content, as it appears in tariff versions.
    ref: str
    fields: dict[str, Any]


class TariffRecorded(Message):
    """Billing recorded tariff entries (the default catalogue, a new price, an indexation...)."""

    entries: Annotated[list[TariffEntry], Field(min_length=1)]
    #: The tariff book's version after this recording (1 for the default catalogue).
    book_version: Annotated[int, Field(ge=1)]
    reason: str
    reference: str | None = None
    recorded_by: str | None = None
    recorded_at: AwareDatetime


class CallOffRecorded(Message):
    """A written call-off (avrop) of hours beyond the yearly cap (003 §1.2)."""

    reference: str
    programme: Programme
    year: int
    hours: DecimalStr
    effective_from: date
    book_version: Annotated[int, Field(ge=1)]
    recorded_by: str | None = None
    recorded_at: AwareDatetime


class SessionFlagged(Message):
    """A group session the group rule does not clearly cover: a person must decide."""

    session_id: UUID
    meeting_id: UUID
    case_id: UUID
    programme: Programme
    performed_on: date
    #: The month whose settlement lists it as pending (its own, or the first open one).
    settlement_month: Month
    minutes: int
    participants: int
    reason: str
    options: list[str]


class SessionDecided(Message):
    """A person's decision on a flagged group session; the priced SessionLogged follows."""

    session_id: UUID
    meeting_id: UUID
    case_id: UUID
    decision: Literal["bill_as_ordinary_time", "bill_as_group", "not_billable"]
    decided_by: str
    note: str | None = None
    decided_at: AwareDatetime


class SessionReportedApart(Message):
    """A meeting another provider held (003 §2.3: Leanlink distributes the cases "mellan sig och
    annan utförare"): recorded and reported to the administration apart, never priced into
    Leanlink's settlement, its yearly cap or the fees Leanlink collects (003 §1.2)."""

    session_id: UUID
    meeting_id: UUID
    case_id: UUID
    programme: Programme
    provider: str
    performed_on: date
    #: The month whose settlement reports it (its own, or the first open one after it).
    settlement_month: Month
    minutes: Annotated[int, Field(ge=0)]
    billable_quarters: Annotated[int, Field(ge=0)]
    participants: Annotated[int, Field(ge=0)]
    client_visits: Annotated[int, Field(ge=0)]
    reason: str


class SeparateAmountRecorded(Message):
    """A premises share or a state grant (003 §1.2) recorded on a month's statement, reported
    apart from Leanlink's lines: never in its ``total_ore``, ``fees_ore`` or ``net_ore``.

    ``premises_share``: "Lokalkostnadens ... andel av totalkostnaden ska vid efterfrågan kunna
    redovisas separat", a part of what Leanlink's price already covers. ``state_grant``:
    "Eventuella statsbidrag ... tillfaller social- och omsorgsnämnden"."""

    item_id: UUID
    kind: Literal["premises_share", "state_grant"]
    programme: Programme
    amount_ore: Annotated[int, Field(ge=0, le=10**13)]
    #: The period the amount concerns (first and last day), as the written reference states it.
    period_from: date
    period_to: date
    #: The month whose statement shows it.
    settlement_month: Month
    reference: Annotated[str, Field(min_length=1, max_length=200)]
    note: str | None = None
    recorded_by: str | None = None


class SessionDismissed(Message):
    """A person ruled out billing a session whose price is not known; it is never billed."""

    session_id: UUID
    meeting_id: UUID | None
    case_id: UUID
    reason: str
    decided_by: str
    decided_at: AwareDatetime


class YearlyCapWarning(Message):
    """Billed hours of a programme crossed 80, 95 or 100 % of the year's ordered hours."""

    programme: Programme
    year: int
    percent: int
    billed_hours: DecimalStr
    limit_hours: DecimalStr
    session_id: UUID
    performed_on: date


class PolareRate(BaseModel):
    """One row of the polare fee table: the fee per night walk for ages ``age_from``..``age_to``
    (whole years, inclusive) from ``years_from`` years in the activity on."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    age_from: Annotated[int, Field(ge=0, le=120)]
    age_to: Annotated[int, Field(ge=0, le=120)]
    years_from: Annotated[int, Field(ge=1, le=50)]
    ore_per_walk: Annotated[int, Field(ge=0)]


class PolareRatesRecorded(Message):
    """billing.events: the polare fee table in force from ``effective_from`` (a dated setting;
    the seed gives no figures). It replaces the earlier table from that date on."""

    table_id: str
    effective_from: date
    rates: Annotated[list[PolareRate], Field(min_length=1)]
    reference: str
    recorded_by: str | None = None
    recorded_at: AwareDatetime


class PolareFee(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    polar_ref: UUID
    age: int
    years_in_activity: int
    ore: int


class PolareFeesLogged(Message):
    """billing.events: the fees of one night walk's polare: the provider's cost, paid within
    the field-work budget and never billed to the municipality."""

    walk_id: UUID
    walked_on: date
    month: Month
    fees: list[PolareFee]
    total_ore: int
    table_id: str
    #: Polare intake did not attest (unknown, not enrolled, erased): no fee.
    not_paid: list[NotAttested]


# --- intake.events: quality registers (seed 003 §4.2-4.4) -------------------------------------

QualityRegister = Literal["lex_sarah", "complaint", "incident", "supervision"]
QualityState = Literal[
    "received",
    "investigating",
    "reported_to_ivo",
    "answered",
    "closed",
    "opened",
    "administration_informed",
    "concluded",
]
QualityStep = Literal[
    "investigate", "report_to_ivo", "answer", "inform_administration", "close", "conclude"
]


class QualityEventRecorded(Message):
    """A Lex Sarah report, a complaint or view, an incident, or an IVO supervision was entered
    in its register. Codes only: the narrative stays in intake's encrypted store."""

    record_id: UUID
    kind: QualityRegister
    state: QualityState
    #: Complaints: ``complaint`` or ``view`` (synpunkt); None in the other registers.
    category: Literal["complaint", "view"] | None = None
    #: Complaints: received through the provider or through the administration.
    channel: Literal["provider", "administration"] | None = None
    #: Complaints: whether it also concerns the administration (then it must be informed).
    concerns_administration: bool = False
    programme: Programme | None = None
    case_id: UUID | None = None
    occurred_on: date
    recorded_at: AwareDatetime


class QualityEventHandled(Message):
    """One step of a register entry's handling and the state it led to."""

    record_id: UUID
    kind: QualityRegister
    step: QualityStep
    state: QualityState
    #: Lex Sarah reported to IVO: a copy ``sent`` to the responsible social worker (003 §4.2),
    #: or ``no_responsible_social_worker`` when the case has none.
    social_worker_copy: Literal["sent", "no_responsible_social_worker"] | None = None
    at: AwareDatetime


class QualitySummarySubmitted(Message):
    """The year's lex Sarah summary was handed to the administration (due 31 March, 003 §4.2):
    its lex Sarah reports and reports to IVO and, beside them and never added in, the
    complaints and views, incidents and IVO supervisions received in the year."""

    year: int
    submitted_at: AwareDatetime
    #: Every register's entries received in the year (all kinds together; not the lex Sarah
    #: count, which is ``lex_sarah_reports``).
    records: Annotated[int, Field(ge=0)]
    #: Lex Sarah reports (rapporter) received in the year. The five counts below are absent
    #: from summaries submitted before they were recorded.
    lex_sarah_reports: Annotated[int, Field(ge=0)] | None = None
    #: Reports to IVO (anmälningar) made in the year, whatever year their report was received.
    reports_to_ivo: Annotated[int, Field(ge=0)] | None = None
    complaints_and_views: Annotated[int, Field(ge=0)] | None = None
    incidents: Annotated[int, Field(ge=0)] | None = None
    supervisions: Annotated[int, Field(ge=0)] | None = None


# --- intake.events: follow-up of coordinated support (seed 002) -------------------------------

AssessmentStage = Literal["start", "follow_up", "end"]
Economy = Literal["income_support", "partly_self_supporting", "self_supporting"]
GoalArea = Literal["school_eligibility", "everyday_structure", "occupation", "economy", "other"]
GoalStatus = Literal["not_started", "in_progress", "achieved", "not_achieved"]


class FamilyAssessed(Message):
    """A coordinated-support family's indicators at the start, a follow-up or the end: the
    self-rated KASAM score (SOC-13 sum, 13-91), SIPs in place, how many parents have an
    occupation (counts, never who), and the family's economic situation as a code."""

    case_id: UUID
    stage: AssessmentStage
    assessed_on: date
    kasam: Annotated[int, Field(ge=13, le=91)]
    sips: Annotated[int, Field(ge=0)]
    parents: Annotated[int, Field(ge=0)] | None = None
    parents_with_occupation: Annotated[int, Field(ge=0)] | None = None
    economy: Economy | None = None


class FamilyGoalSet(Message):
    """A realistic goal set with the family (its wording stays in intake)."""

    case_id: UUID
    goal_id: UUID
    area: GoalArea
    set_on: date


class FamilyGoalFollowedUp(Message):
    case_id: UUID
    goal_id: UUID
    status: GoalStatus
    followed_up_on: date


class PhaseOutPlanned(Message):
    """The planned phase-out of the team's contact with the family (seed 002, throughput)."""

    case_id: UUID
    planned_end: date
    planned_on: date


# --- scheduling.events: the steering group (seed 002) -----------------------------------------

SteeringOrganisation = Literal[
    "social_services", "education", "provider", "labour_market", "region", "other"
]


class SteeringMeetingPlanned(Message):
    """The provider convened a steering-group meeting (at least three a year, seed 002)."""

    meeting_id: UUID
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    planned_at: AwareDatetime


class SteeringMeetingHeld(Message):
    meeting_id: UUID
    started_at: AwareDatetime
    ended_at: AwareDatetime
    organisations: list[SteeringOrganisation]
    recorded_at: AwareDatetime


class SteeringMeetingCancelled(Message):
    meeting_id: UUID
    starts_at: AwareDatetime
    cancelled_at: AwareDatetime


MESSAGES: dict[str, type[Message]] = {
    cls.type_name: cls
    for cls in (
        SubmitReferral,
        ReferralReceived,
        ReferralRejected,
        CaseClosed,
        CaseAcknowledged,
        AcknowledgementOverdue,
        MeetingScheduled,
        MeetingHeld,
        MeetingCancelled,
        MeetingRescheduled,
        MeetingNoShow,
        FirstContactOverdue,
        WaitTimeReportDue,
        SessionLogged,
        SettlementClosed,
        AdjustmentRecorded,
        TariffRecorded,
        CallOffRecorded,
        SessionFlagged,
        SessionDecided,
        SessionDismissed,
        SessionReportedApart,
        SeparateAmountRecorded,
        SessionRecut,
        YearlyCapWarning,
        PolarEnrolled,
        PolarLeft,
        PolareWalkAttested,
        NightWalkReported,
        AreaDeploymentStarted,
        AreaDeploymentExtended,
        PolareRatesRecorded,
        PolareFeesLogged,
        QualityEventRecorded,
        QualityEventHandled,
        QualitySummarySubmitted,
        FamilyAssessed,
        FamilyGoalSet,
        FamilyGoalFollowedUp,
        PhaseOutPlanned,
        SteeringMeetingPlanned,
        SteeringMeetingHeld,
        SteeringMeetingCancelled,
    )
}
"""Every public message by its contract name."""

__all__ = [
    "MESSAGES",
    "MONTH_PATTERN",
    "PROGRAMMES",
    "AcknowledgementOverdue",
    "AdjustmentRecorded",
    "AreaDeploymentExtended",
    "AreaDeploymentStarted",
    "AttestedPolar",
    "CallOffRecorded",
    "CaseAcknowledged",
    "CaseClosed",
    "Consent",
    "Consultation",
    "ContractNotice",
    "FamilyAssessed",
    "FamilyGoalFollowedUp",
    "FamilyGoalSet",
    "FirstContactOverdue",
    "HouseholdMember",
    "MeetingCancelled",
    "MeetingHeld",
    "MeetingNoShow",
    "MeetingRescheduled",
    "MeetingScheduled",
    "Message",
    "NightWalkReported",
    "NotAttested",
    "Person",
    "PhaseOutPlanned",
    "PolarEnrolled",
    "PolarLeft",
    "PolareFee",
    "PolareFeesLogged",
    "PolareRate",
    "PolareRatesRecorded",
    "PolareWalkAttested",
    "QualityEventHandled",
    "QualityEventRecorded",
    "QualitySummarySubmitted",
    "Reason",
    "ReferralReceived",
    "ReferralRejected",
    "SeparateAmountRecorded",
    "SessionDecided",
    "SessionDismissed",
    "SessionFlagged",
    "SessionLogged",
    "SessionRecut",
    "SessionReportedApart",
    "SettlementClosed",
    "SteeringMeetingCancelled",
    "SteeringMeetingHeld",
    "SteeringMeetingPlanned",
    "SubmitReferral",
    "TariffEntry",
    "TariffRecorded",
    "WaitTimeReportDue",
    "YearlyCapWarning",
]
