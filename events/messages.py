"""Pydantic models of every public message (contracts.md, v1).

Inbound commands are lenient where intake must answer with a reason code rather than a
decoding error (an unknown programme is ``unknown_programme``, not ``malformed``); events that
our own services publish are strict. Unknown fields are ignored on reading so that a producer may
add optional fields without breaking older consumers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

Programme = Literal["network", "coordinated", "counselling", "field"]
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
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class Message(BaseModel):
    """Base of every public message: its contract name and schema version."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    type_name: ClassVar[str]
    version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_name = cls.__name__


# --- inbound: intake.referrals -------------------------------------------------------------


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    role: str
    personal_number: str
    name: str | None = None
    municipality_code: str | None = None


class Consent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    given: bool
    form_ref: str | None = None
    given_at: date | None = None


class SubmitReferral(Message):
    """A referral from another municipal system. Carries personal data: intake only."""

    source: Annotated[str, Field(min_length=1, max_length=200)]
    referral_id: Annotated[str, Field(min_length=1, max_length=200)]
    programme: str
    basis: str = "service"
    decision_ref: str | None = None
    urgency: str = "normal"
    submitted_at: AwareDatetime | None = None
    persons: list[Person] = Field(default_factory=list)
    consent: Consent | None = None
    indicators: list[str] = Field(default_factory=list)
    note: str | None = None


# --- intake.events -------------------------------------------------------------------------


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


class ReferralReceived(Message):
    case_id: UUID
    source: str
    referral_id: str
    programme: Programme
    basis: Literal["service", "decision"]
    urgency: Literal["normal", "acute"]
    #: 1 acute, 2 decided assistance, 3 service: lower is served first.
    priority: Annotated[int, Field(ge=1, le=3)]
    received_at: AwareDatetime
    first_contact_due: date
    household: list[HouseholdMember]
    consent: bool


class ReferralRejected(Message):
    source: str
    referral_id: str
    received_at: AwareDatetime
    reasons: Annotated[list[Reason], Field(min_length=1)]


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


class SettlementClosed(Message):
    month: Month
    total_ore: int
    fees_ore: int
    net_ore: int
    billable_hours: DecimalStr
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    closed_at: AwareDatetime


class AdjustmentRecorded(Message):
    adjustment_id: UUID
    month: Month
    belongs_to_month: Month
    programme: Programme
    amount_ore: int
    reason: str


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
        FirstContactOverdue,
        WaitTimeReportDue,
        SessionLogged,
        SettlementClosed,
        AdjustmentRecorded,
    )
}
"""Every public message by its contract name."""

__all__ = [
    "MESSAGES",
    "AcknowledgementOverdue",
    "AdjustmentRecorded",
    "CaseAcknowledged",
    "CaseClosed",
    "Consent",
    "FirstContactOverdue",
    "HouseholdMember",
    "MeetingCancelled",
    "MeetingHeld",
    "MeetingScheduled",
    "Message",
    "Person",
    "Reason",
    "ReferralReceived",
    "ReferralRejected",
    "SessionLogged",
    "SettlementClosed",
    "SubmitReferral",
    "WaitTimeReportDue",
]
