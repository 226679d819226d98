"""The events intake publishes on ``intake.events`` for the provider's reports to the
administration (contracts.md, v1): the quality registers (seed 003 §4.2-4.4) and the follow-up
of coordinated support (seed 002). Codes and counts only: narratives and goals' wording stay in
intake's encrypted store.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    Field,
)

from events.types import Message, Programme

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
