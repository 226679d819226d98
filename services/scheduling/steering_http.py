"""The steering group over HTTP: convene, record held or cancelled, and the year's outlook."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from events.scheduling import SteeringOrganisation
from infra.auth import READ, STAFF
from services.scheduling.steering import SteeringMeeting
from services.scheduling.steering_app import SteeringCommands
from services.scheduling.steering_rule import MINIMUM_PER_YEAR, NOTICE_BUSINESS_DAYS

#: Who may call a route (docs/security.md): staff record; auditors read the records.

By = Annotated[str, Field(min_length=1, max_length=200)]


class SteeringIn(BaseModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    by: By


class SteeringHeldIn(BaseModel):
    started_at: AwareDatetime
    ended_at: AwareDatetime
    organisations: Annotated[list[SteeringOrganisation], Field(min_length=1)]
    by: By


class SteeringCancelIn(BaseModel):
    by: By


class SteeringOut(BaseModel):
    meeting_id: UUID
    starts_at: datetime
    ends_at: datetime
    status: str


class OutlookOut(BaseModel):
    year: int
    held: int
    planned: int
    unrecorded: int
    missing: int
    business_days_left: int
    level: str
    warning: bool
    message: str
    minimum: int = MINIMUM_PER_YEAR
    notice_business_days: int = NOTICE_BUSINESS_DAYS
    #: The meetings the part of the year the contract covers requires (``minimum`` pro rata).
    required: int
    #: Held without social services, education and the provider all present: not counted.
    incomplete: int
    covered_from: date | None
    covered_to: date | None


def _out(meeting: SteeringMeeting) -> SteeringOut:
    return SteeringOut(
        meeting_id=meeting.id,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        status=meeting.status,
    )


def steering_router(app: SteeringCommands) -> APIRouter:
    r = APIRouter(prefix="/steering-group", tags=["steering group"])

    @r.post("/meetings", status_code=201, responses={422: {}}, dependencies=STAFF)
    def plan(body: SteeringIn) -> SteeringOut:
        """Convene a steering-group meeting (the same start time again changes nothing)."""
        return _out(app.plan_steering_meeting(body.starts_at, body.ends_at, body.by))

    @r.get("/meetings", dependencies=READ)
    def meetings() -> list[SteeringOut]:
        return [_out(m) for m in app.steering_meetings()]

    @r.post(
        "/meetings/{meeting_id}/held",
        responses={404: {}, 409: {}, 422: {}},
        dependencies=STAFF,
    )
    def held(meeting_id: UUID, body: SteeringHeldIn) -> SteeringOut:
        """Record the meeting held, with the organisations that took part."""
        return _out(
            app.hold_steering_meeting(
                meeting_id, body.started_at, body.ended_at, list(body.organisations), body.by
            )
        )

    @r.post("/meetings/{meeting_id}/cancel", responses={404: {}, 409: {}}, dependencies=STAFF)
    def cancel(meeting_id: UUID, body: SteeringCancelIn) -> SteeringOut:
        return _out(app.cancel_steering_meeting(meeting_id, body.by))

    @r.get("/outlook", dependencies=READ)
    def outlook(year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> OutlookOut:
        """Where the year's meetings stand against at least three a year (with social services,
        education and the provider; pro rata for the part of a year the contract covers)."""
        seen = app.steering_outlook(year)
        return OutlookOut(
            year=seen.year,
            held=seen.held,
            planned=seen.planned,
            unrecorded=seen.unrecorded,
            missing=seen.missing,
            business_days_left=seen.business_days_left,
            level=seen.level,
            warning=seen.warning,
            message=seen.message(),
            required=seen.required,
            incomplete=seen.incomplete,
            covered_from=seen.covered[0] if seen.covered else None,
            covered_to=seen.covered[1] if seen.covered else None,
        )

    return r
