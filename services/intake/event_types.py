"""The fields of intake's domain events, as the translators to public messages read them.

eventsourcing makes each event class (``Case.Opened``, ``QualityRecord.Handled`` …) at run time
from the signature of the method it decorates, so a type checker sees none of their fields.
These protocols restate them (the names and types of those signatures; the values stored were
checked on the way in), so that the translators in :mod:`services.intake.public`,
:mod:`services.intake.registers_public`, :mod:`services.intake.resubmission` and
:mod:`services.intake.records` are checked against what they read. A field added to an event
must be added here too for a translator to read it; one read with ``getattr`` and a default is
absent from events stored before it existed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from events.intake_registers import (
    AssessmentStage,
    Economy,
    GoalArea,
    GoalStatus,
    QualityRegister,
    QualityState,
    QualityStep,
)
from events.types import Programme
from services.intake.case_refusals import CaseOutcome


class Stored(Protocol):
    """What every stored event has: the aggregate it is of."""

    @property
    def originator_id(self) -> UUID: ...


class CaseOpened(Stored, Protocol):
    """``Case.Opened`` (:class:`services.intake.domain_case.Case`)."""

    case_id: UUID
    source: str
    referral_id: str
    programme: Programme
    basis: Literal["service", "decision"]
    urgency: Literal["normal", "acute"]
    priority: int
    received_at: datetime
    first_contact_due: date
    household: list[dict[str, Any]]
    consent: bool
    causation_id: str | None


class CaseAcknowledged(Stored, Protocol):
    """``Case.Acknowledged``."""

    at: datetime
    ack_due: datetime
    within_deadline: bool


class CaseAcknowledgementOverdue(Stored, Protocol):
    """``Case.AcknowledgementOverdue``."""

    ack_due: datetime
    detected_at: datetime


class CaseClosed(Stored, Protocol):
    """``Case.Closed``."""

    outcome: CaseOutcome
    closed_at: datetime


class Rejection(Stored, Protocol):
    """A referral's rejection: ``RejectedReferral.Recorded``, ``RateLimitedReferral.Refused``
    and ``RefusedAgain``, ``ConflictingReferral.Refused``."""

    key: UUID
    source: str
    referral_id: str
    received_at: datetime
    reasons: list[dict[str, str]]
    causation_id: str | None


class ExceptionGranted(Stored, Protocol):
    """``RejectedReferral.ExceptionGranted``."""

    key: UUID
    source: str
    referral_id: str
    received_at: datetime
    reasons: list[dict[str, str]] | None
    supersedes: UUID


class AnsweredAgain(Stored, Protocol):
    """``RepeatedReferral.AnsweredAgain`` (:mod:`services.intake.resubmission`)."""

    key: UUID
    answer_type: str
    answer: dict[str, Any]
    repeat_of: str
    causation_id: str


class QualityRecorded(Stored, Protocol):
    """``QualityRecord.Recorded`` (:mod:`services.intake.quality`)."""

    register: QualityRegister
    category: Literal["complaint", "view"] | None
    channel: Literal["provider", "administration"] | None
    concerns_administration: bool
    programme: Programme | None
    case_id: UUID | None
    occurred_on: date
    recorded_at: datetime


class QualityHandled(Stored, Protocol):
    """``QualityRecord.Handled``."""

    register: QualityRegister
    step: QualityStep
    state: QualityState
    at: datetime
    social_worker_copy: Literal["sent", "no_responsible_social_worker"] | None


class SummarySubmitted(Stored, Protocol):
    """``QualitySummary.Submitted``."""

    year: int
    submitted_at: datetime
    records: int


class FamilyAssessed(Stored, Protocol):
    """``FamilyFollowUp.Assessed`` (:mod:`services.intake.followup`)."""

    case_id: UUID
    stage: AssessmentStage
    on: date
    kasam: int
    sips: int
    parents: list[dict[str, Any]] | None
    parents_with_occupation: int | None
    economy: Economy | None


class GoalSet(Stored, Protocol):
    """``FamilyFollowUp.GoalSet``."""

    case_id: UUID
    goal_id: UUID
    area: GoalArea
    on: date


class GoalFollowedUp(Stored, Protocol):
    """``FamilyFollowUp.GoalFollowedUp``."""

    case_id: UUID
    goal_id: UUID
    status: GoalStatus
    on: date


class PhaseOutPlanned(Stored, Protocol):
    """``FamilyFollowUp.PhaseOutPlanned``."""

    case_id: UUID
    planned_end: date
    on: date
