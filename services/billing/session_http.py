"""Billing's routes for sessions: logged time, a session, the worklist, decisions, dismissals."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from events.types import Programme
from infra.auth import READ, STAFF
from services.billing.application import Billing
from services.billing.http_edge import Body, Name


class LogTime(Body):
    case_id: UUID
    minutes: Annotated[int, Field(ge=1, le=720)]
    performed_on: date
    activity: Literal["preparation", "follow_up"]
    provider: Name = "leanlink"
    programme: Programme | None = None
    #: A key of the client's own: the same entry sent again logs nothing new.
    entry_id: UUID | None = None
    logged_by: Name | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class Decide(Body):
    decision: Literal["bill_as_ordinary_time", "bill_as_group", "not_billable"]
    decided_by: Name
    note: Annotated[str, Field(max_length=2000)] | None = None


class Dismiss(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    decided_by: Name


def session_routes(app: Billing) -> APIRouter:
    """Logging time, deciding and dismissing sessions, and reading them."""
    router = APIRouter()

    @router.post("/sessions/time", status_code=201, dependencies=STAFF)
    def log_time(body: LogTime) -> dict[str, Any]:
        """Log preparation or follow-up time on a case; it is priced like a meeting."""
        return app.log_time(**body.model_dump())

    @router.get("/sessions/{session_id}", dependencies=READ)
    def session(session_id: UUID) -> dict[str, Any]:
        return app.session(session_id)

    @router.get("/worklist", dependencies=STAFF)
    def worklist() -> list[dict[str, Any]]:
        """Sessions waiting for a person: a decision on a group session, or a price."""
        return app.worklist()

    @router.post("/decisions/{meeting_id}", dependencies=STAFF)
    def decide(meeting_id: UUID, body: Decide) -> dict[str, Any]:
        """Decide how a flagged group session is billed; it is then priced and booked."""
        return app.decide(meeting_id=meeting_id, **body.model_dump())

    @router.post("/sessions/{session_id}/dismissal", dependencies=STAFF)
    def dismiss(session_id: UUID, body: Dismiss) -> dict[str, Any]:
        """Rule out billing a session whose price is not known (it blocks its month's close)."""
        return app.dismiss(session_id=session_id, **body.model_dump())

    return router
