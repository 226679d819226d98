"""The quality registers and the follow-up of coordinated support over HTTP (intake's port).

A refused step is answered 409 (the entry's state does not allow it) or 422 (the request breaks
a rule), with a sentence saying which; an unknown entry or case 404. Answers carry codes, dates
and counts, never the narratives, notes or goals' wording.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

import anyio
from fastapi import APIRouter, Path, Query, Security
from pydantic import BaseModel, Field

from events.intake_registers import (
    AssessmentStage,
    Economy,
    GoalArea,
    GoalStatus,
    QualityRegister,
    QualityStep,
)
from events.types import Programme
from infra.access import looked_over_http
from infra.auth import READ, STAFF, Principal, Role, guard
from infra.runtime import Runtime
from services.intake.followup import FamilyFollowUp
from services.intake.quality import QualityRecord, summary_due
from services.intake.registers import RegisterCommands

#: Who may call a route (docs/security.md): staff record; auditors read the records.

T = TypeVar("T")
By = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str | None, Field(max_length=4000)]
Occupation = Literal[
    "employment", "studies", "labour_market_programme", "sick_leave", "parental_leave", "none"
]


class RecordIn(BaseModel):
    kind: Annotated[QualityRegister, Field(description="the register")]
    occurred_on: date
    by: By
    description: Text = None
    case_id: UUID | None = None
    programme: Programme | None = None
    category: Literal["complaint", "view"] | None = None
    channel: Literal["provider", "administration"] | None = None
    concerns_administration: bool = False


class StepIn(BaseModel):
    step: QualityStep
    by: By
    note: Text = None
    social_worker_copy: Literal["sent", "no_responsible_social_worker"] | None = None


class RecordOut(BaseModel):
    record_id: UUID
    kind: str
    state: str
    case_id: UUID | None
    recorded_at: datetime
    administration_informed: bool
    allowed_steps: list[str]
    steps: list[dict[str, Any]]


class SummaryIn(BaseModel):
    by: By


class SummaryOut(BaseModel):
    """The lex Sarah summary as handed in: ``lex_sarah`` is what 003 §4.2 asks for (reports
    and reports to IVO, each with its handling on 31 December); the other registers are
    beside it, each with its ``label``, never counted into it."""

    year: int
    due: date
    submitted_at: datetime
    lex_sarah: dict[str, Any]
    complaints_and_views: dict[str, Any]
    incidents: dict[str, Any]
    ivo_supervision: dict[str, Any]


class AssessmentIn(BaseModel):
    stage: AssessmentStage
    on: date
    kasam: Annotated[int, Field(ge=13, le=91, description="SOC-13 sum, 13-91")]
    sips: Annotated[int, Field(ge=0)]
    by: By
    parents: Annotated[
        dict[UUID, Occupation] | None,
        Field(description="occupation code per guardian person_ref (start and end)"),
    ] = None
    economy: Economy | None = None


class GoalIn(BaseModel):
    area: GoalArea
    on: date
    by: By
    text: Text = None


class GoalFollowUpIn(BaseModel):
    status: GoalStatus
    on: date
    by: By
    note: Text = None


class PhaseOutIn(BaseModel):
    planned_end: date
    on: date
    by: By


class FollowUpOut(BaseModel):
    case_id: UUID
    stages: list[str]
    last_assessed: date | None
    planned_end: date | None
    goals: dict[str, dict[str, Any]]


def _record_out(record: QualityRecord) -> RecordOut:
    return RecordOut(
        record_id=record.id,
        kind=record.register,
        state=record.state,
        case_id=record.case_id,
        recorded_at=record.recorded_at,
        administration_informed=record.administration_informed,
        allowed_steps=record.allowed(),
        steps=[{k: v for k, v in s.items() if k != "by"} for s in record.steps],
    )


def _follow_out(follow: FamilyFollowUp) -> FollowUpOut:
    return FollowUpOut(
        case_id=follow.case_id,
        stages=list(follow.stages),
        last_assessed=follow.last_assessed,
        planned_end=follow.planned_end,
        goals=follow.goals,
    )


async def _run(command: Callable[[], T]) -> T:
    """The command in a worker thread; a refusal carries its own status (infra.http)."""
    return await anyio.to_thread.run_sync(command)


def registers_router(intake: RegisterCommands, runtime: Runtime) -> APIRouter:
    r = APIRouter(tags=["quality and follow-up"], responses={404: {}, 409: {}, 422: {}})

    @r.post("/quality/records", status_code=201, dependencies=STAFF)
    async def record(body: RecordIn) -> RecordOut:
        """Enter a Lex Sarah report, a complaint or view, an incident or an IVO supervision."""
        made = await _run(
            lambda: intake.record_quality_event(
                body.kind,
                body.occurred_on,
                body.by,
                description=body.description,
                case_id=body.case_id,
                programme=body.programme,
                category=body.category,
                channel=body.channel,
                concerns_administration=body.concerns_administration,
            )
        )
        runtime.wake_relay()
        return _record_out(made)

    @r.get("/quality/records/{record_id}", dependencies=READ)
    async def show(record_id: UUID) -> RecordOut:
        return _record_out(await _run(lambda: intake.quality_record(record_id)))

    @r.post("/quality/records/{record_id}/steps", dependencies=STAFF)
    async def step(record_id: UUID, body: StepIn) -> RecordOut:
        """Take one step of the entry's handling; a step its state does not allow is 409."""
        done = await _run(
            lambda: intake.handle_quality_event(
                record_id, body.step, body.by, body.note, body.social_worker_copy
            )
        )
        runtime.wake_relay()
        return _record_out(done)

    add_summary_routes(r, intake, runtime)

    @r.get("/quality/notices", dependencies=READ)
    async def notices() -> list[dict[str, str]]:
        """The summary due or overdue; IVO supervision not yet reported to the administration."""
        return await _run(intake.quality_notices)

    @r.get("/cases/{case_id}/follow-up")
    async def follow_up(
        case_id: UUID,
        caller: Annotated[Principal, Security(guard(Role.STAFF, Role.AUDITOR))],
        reason: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> FollowUpOut:
        """The family's follow-up. An auditor's read is recorded in the access log (``lots
        audit access``), with the ``reason`` given, if any."""
        shown = _follow_out(await _run(lambda: intake.family_follow_up(case_id)))
        if caller.role is Role.AUDITOR:
            await _run(lambda: looked_over_http(intake, case_id, caller, reason, "intake",
                                                intake.clock()))  # fmt: skip
        return shown

    @r.post("/cases/{case_id}/follow-up/assessments", dependencies=STAFF)
    async def assess(case_id: UUID, body: AssessmentIn) -> FollowUpOut:
        """KASAM, SIPs, the parents' occupation and the economy at start, follow-up or end."""
        parents = (
            None if body.parents is None else {str(k): str(v) for k, v in body.parents.items()}
        )
        done = await _run(
            lambda: intake.assess_family(
                case_id,
                body.stage,
                body.on,
                body.kasam,
                body.sips,
                body.by,
                parents=parents,
                economy=body.economy,
            )
        )
        runtime.wake_relay()
        return _follow_out(done)

    @r.post("/cases/{case_id}/follow-up/goals", status_code=201, dependencies=STAFF)
    async def goal(case_id: UUID, body: GoalIn) -> dict[str, Any]:
        """Set a realistic goal with the family; its wording is kept sealed."""
        follow, goal_id = await _run(
            lambda: intake.set_family_goal(case_id, body.area, body.on, body.by, body.text)
        )
        runtime.wake_relay()
        return {"goal_id": str(goal_id), "follow_up": _follow_out(follow).model_dump(mode="json")}

    @r.post("/cases/{case_id}/follow-up/goals/{goal_id}", dependencies=STAFF)
    async def goal_follow_up(case_id: UUID, goal_id: UUID, body: GoalFollowUpIn) -> FollowUpOut:
        done = await _run(
            lambda: intake.follow_up_family_goal(
                case_id, goal_id, body.status, body.on, body.by, body.note
            )
        )
        runtime.wake_relay()
        return _follow_out(done)

    @r.post("/cases/{case_id}/follow-up/phase-out", dependencies=STAFF)
    async def phase_out(case_id: UUID, body: PhaseOutIn) -> FollowUpOut:
        """Plan how the team's contact with the family is phased out, and by when."""
        done = await _run(
            lambda: intake.plan_phase_out(case_id, body.planned_end, body.on, body.by)
        )
        runtime.wake_relay()
        return _follow_out(done)

    return r


def add_summary_routes(r: APIRouter, intake: RegisterCommands, runtime: Runtime) -> None:
    """The yearly lex Sarah summary (003 §4.2): read as it stands, and record it handed in."""

    @r.post("/quality/summaries/{year}", status_code=201, dependencies=STAFF)
    async def submit(year: Annotated[int, Path(ge=2000, le=2100)], body: SummaryIn) -> SummaryOut:
        """Record that the year's lex Sarah summary went to the administration (due 31 March
        after), with its figures."""
        made, figures = await _run(lambda: intake.submit_quality_summary(year, body.by))
        runtime.wake_relay()
        return SummaryOut(
            year=made.year, due=summary_due(made.year), submitted_at=made.submitted_at, **figures
        )

    @r.get("/quality/summaries/{year}", dependencies=READ)
    async def summary(year: Annotated[int, Path(ge=2000, le=2100)]) -> dict[str, Any]:
        """The year's lex Sarah summary as it stands (as on 31 December once the year is
        over), with the other registers beside it; ``submitted_at`` once it was handed in."""
        figures = await _run(lambda: intake.quality_year_summary(year))
        submitted = await _run(lambda: intake.quality_summary_submitted(year))
        return {
            "year": year,
            "due": summary_due(year).isoformat(),
            "submitted_at": submitted.isoformat() if submitted else None,
            **figures,
        }
