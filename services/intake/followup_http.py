"""The follow-up of coordinated support over HTTP (intake's port): a family's assessments,
goals, their follow-up and the planned phase-out.

Answers carry codes, dates and counts, never the goals' wording or the notes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Security
from pydantic import BaseModel, Field

from events.intake_registers import AssessmentStage, Economy, GoalArea, GoalStatus
from infra.access import looked_over_http
from infra.auth import STAFF, Role, guard
from infra.runtime import Runtime
from infra.tokens import Principal
from services.intake.followup import FamilyFollowUp
from services.intake.followup_commands import FollowUpCommands
from services.intake.register_http_edge import By, Text, run

Occupation = Literal[
    "employment", "studies", "labour_market_programme", "sick_leave", "parental_leave", "none"
]


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


def _follow_out(follow: FamilyFollowUp) -> FollowUpOut:
    return FollowUpOut(
        case_id=follow.case_id,
        stages=list(follow.stages),
        last_assessed=follow.last_assessed,
        planned_end=follow.planned_end,
        goals=follow.goals,
    )


def follow_up_routes(intake: FollowUpCommands, runtime: Runtime) -> APIRouter:
    """A coordinated-support family's follow-up: read it, and record its assessments."""
    r = APIRouter()

    @r.get("/cases/{case_id}/follow-up")
    async def follow_up(
        case_id: UUID,
        caller: Annotated[Principal, Security(guard(Role.STAFF, Role.AUDITOR))],
        reason: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> FollowUpOut:
        """The family's follow-up. An auditor's read is recorded in the access log (``lots
        audit access``), with the ``reason`` given, if any."""
        shown = _follow_out(await run(lambda: intake.family_follow_up(case_id)))
        if caller.role is Role.AUDITOR:
            await run(lambda: looked_over_http(intake, case_id, caller, reason, "intake",
                                                intake.clock()))  # fmt: skip
        return shown

    @r.post("/cases/{case_id}/follow-up/assessments", dependencies=STAFF)
    async def assess(case_id: UUID, body: AssessmentIn) -> FollowUpOut:
        """KASAM, SIPs, the parents' occupation and the economy at start, follow-up or end."""
        parents = (
            None if body.parents is None else {str(k): str(v) for k, v in body.parents.items()}
        )
        done = await run(
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

    return r


def goal_routes(intake: FollowUpCommands, runtime: Runtime) -> APIRouter:
    """The goals set with a family, their follow-up, and the planned phase-out."""
    r = APIRouter()

    @r.post("/cases/{case_id}/follow-up/goals", status_code=201, dependencies=STAFF)
    async def goal(case_id: UUID, body: GoalIn) -> dict[str, Any]:
        """Set a realistic goal with the family; its wording is kept sealed."""
        follow, goal_id = await run(
            lambda: intake.set_family_goal(case_id, body.area, body.on, body.by, body.text)
        )
        runtime.wake_relay()
        return {"goal_id": str(goal_id), "follow_up": _follow_out(follow).model_dump(mode="json")}

    @r.post("/cases/{case_id}/follow-up/goals/{goal_id}", dependencies=STAFF)
    async def goal_follow_up(case_id: UUID, goal_id: UUID, body: GoalFollowUpIn) -> FollowUpOut:
        done = await run(
            lambda: intake.follow_up_family_goal(
                case_id, goal_id, body.status, body.on, body.by, body.note
            )
        )
        runtime.wake_relay()
        return _follow_out(done)

    @r.post("/cases/{case_id}/follow-up/phase-out", dependencies=STAFF)
    async def phase_out(case_id: UUID, body: PhaseOutIn) -> FollowUpOut:
        """Plan how the team's contact with the family is phased out, and by when."""
        done = await run(lambda: intake.plan_phase_out(case_id, body.planned_end, body.on, body.by))
        runtime.wake_relay()
        return _follow_out(done)

    return r
