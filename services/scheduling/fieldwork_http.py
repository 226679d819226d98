"""Scheduling's routes for field work's records: night walks and area deployments (seed 004).

A refused report is a 422 (or 404/409) with a sentence; see :mod:`services.scheduling.fieldwork`.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from events.scheduling import Consultation
from infra.auth import READ, STAFF
from services.scheduling.application import Scheduling
from services.scheduling.fieldwork import NightWalk, get, report_walk
from services.scheduling.fieldwork_deployments import (
    AreaDeployment,
    extend_deployment,
    start_deployment,
)
from services.scheduling.http_edge import ERRORS, run
from services.scheduling.resources import Body, Day, Instant, StaffId

Name = Annotated[str, Field(min_length=1, max_length=200)]
Area = Annotated[str, Field(min_length=1, max_length=80)]


class WalkIn(Body):
    area: Area
    started_at: Instant
    ended_at: Instant
    staff: list[StaffId] = Field(min_length=1, description="staff who walked")
    polare: list[UUID] = Field([], description="polar_ref of each polar who walked")
    youths_met: Annotated[int, Field(ge=0)]
    youths_talked_with: Annotated[int, Field(ge=0)]
    reported_by: Name
    meeting_id: UUID | None = Field(None, description="the booked night_walk meeting, if any")
    walk_id: UUID | None = Field(None, description="the caller's id, for safe retries")


class ConsultationIn(BaseModel):
    consulted_with: Name = Field(description="who at the administration was consulted")
    consulted_on: Day
    reference: Name | None = None


class DeploymentIn(Body):
    area: Area
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    first_day: Day
    weeks: int = Field(description="1 to 12")
    consultation: ConsultationIn
    recorded_by: Name
    deployment_id: UUID | None = None


class ExtensionIn(Body):
    weeks: int = Field(description="1 to 12")
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    consultation: ConsultationIn
    recorded_by: Name


def walk_out(walk: NightWalk) -> dict[str, Any]:
    return {
        "walk_id": str(walk.id), "meeting_id": str(walk.meeting_id) if walk.meeting_id else None,
        "area": walk.area, "walked_on": walk.walked_on.isoformat(),
        "started_at": walk.started_at.isoformat(), "ended_at": walk.ended_at.isoformat(),
        "staff": walk.staff, "polare": walk.polare, "youths_met": walk.youths_met,
        "youths_talked_with": walk.youths_talked_with,
    }  # fmt: skip


def deployment_out(d: AreaDeployment) -> dict[str, Any]:
    def consulted(c: dict[str, Any]) -> dict[str, Any]:
        return {**c, "consulted_on": c["consulted_on"].isoformat()}

    return {
        "deployment_id": str(d.id), "area": d.area, "reason": d.reason,
        "first_day": d.first_day.isoformat(), "weeks": d.weeks, "last_day": d.last_day.isoformat(),
        "consultation": consulted(d.consultation),
        "extensions": [
            {"weeks": e["weeks"], "reason": e["reason"], "recorded_by": e["recorded_by"],
             "consultation": consulted(e["consultation"])}
            for e in d.extensions
        ],
    }  # fmt: skip


#: Who may call a route (docs/security.md): staff record field work; auditors read it.


def router_for(app: Scheduling) -> APIRouter:
    r = APIRouter(tags=["field work"], responses=ERRORS)

    @r.post("/night-walks", status_code=201, dependencies=STAFF)
    def night_walk(body: WalkIn) -> dict[str, Any]:
        """Report a night walk that took place: area, staff, polare, young people met and
        talked with. The same report again returns the first."""
        return walk_out(run(lambda: report_walk(app, **body.model_dump())))

    @r.get("/night-walks/{walk_id}", dependencies=READ)
    def walk(walk_id: UUID) -> dict[str, Any]:
        return walk_out(run(lambda: get(app, walk_id, NightWalk)))

    @r.post("/area-deployments", status_code=201, dependencies=STAFF)
    def deploy(body: DeploymentIn) -> dict[str, Any]:
        """Focus field work on an area at social unrest for 1 to 12 weeks, after consulting
        the administration (who, when)."""
        fields = body.model_dump(exclude={"consultation"})
        consultation = Consultation.model_validate(body.consultation.model_dump())
        return deployment_out(
            run(lambda: start_deployment(app, consultation=consultation, **fields))
        )

    @r.post("/area-deployments/{deployment_id}/extensions", dependencies=STAFF)
    def extend(deployment_id: UUID, body: ExtensionIn) -> dict[str, Any]:
        """Extend a running deployment by 1 to 12 weeks after a new consultation."""
        fields = body.model_dump(exclude={"consultation"})
        consultation = Consultation.model_validate(body.consultation.model_dump())
        return deployment_out(
            run(lambda: extend_deployment(app, deployment_id, consultation=consultation, **fields))
        )

    @r.get("/area-deployments/{deployment_id}", dependencies=READ)
    def deployment(deployment_id: UUID) -> dict[str, Any]:
        return deployment_out(run(lambda: get(app, deployment_id, AreaDeployment)))

    return r
