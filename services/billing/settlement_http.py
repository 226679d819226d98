"""Billing's routes for a month's settlement (show, preview, close, replay; adjustments and
amounts reported apart) and for the yearly caps."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from events.types import Programme
from infra.auth import READ, STAFF
from services.billing.application import Billing
from services.billing.http_edge import (
    STATEMENTS,
    Body,
    Format,
    Name,
    Recorded,
    statement,
)
from services.billing.replay import replay_month


class RecordSeparately(Recorded):
    kind: Literal["premises_share", "state_grant"]
    programme: Programme
    #: The month whose statement shows it (an open month).
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
    amount_ore: Annotated[int, Field(ge=0, le=10**13)]
    period_from: date
    period_to: date
    note: Annotated[str, Field(max_length=2000)] | None = None


class Adjust(Body):
    programme: Programme
    #: Öre, negative to credit the municipality; never 0.
    amount_ore: Annotated[int, Field(ge=-(10**13), le=10**13)]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    #: The written decision or agreement the adjustment rests on.
    reference: Name
    #: The month it corrects (default: the month it is booked on); never a later month.
    corrects: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None
    recorded_by: Name | None = None


class Close(Body):
    closed_by: Name | None = None
    #: Close a month in its grace window now, ending the window (recorded with the close).
    early: bool = False


def adjustment_routes(app: Billing) -> APIRouter:
    """What is booked on an open month beside its sessions: adjustments, amounts apart."""
    router = APIRouter()

    @router.post("/settlements/separate-amounts", status_code=201, dependencies=STAFF)
    def record_separately(body: RecordSeparately) -> dict[str, Any]:
        """Record a premises share or a state grant (003 §1.2) on an open month's statement,
        reported apart from Leanlink's lines and never in its total, fees or net."""
        return app.record_separately(**body.model_dump())

    @router.post("/settlements/{month}/adjustments", status_code=201, dependencies=STAFF)
    def adjust(month: str, body: Adjust) -> dict[str, Any]:
        """Book a manual adjustment on an open month (a closed month is refused, 409, naming
        the first open month): an ``adjustment`` line with its reason and reference."""
        return app.adjust(month=month, **body.model_dump())

    @router.get("/settlements/{month}/adjustments", dependencies=READ)
    def adjustments(month: str, programme: Programme | None = None) -> list[dict[str, Any]]:
        """The adjustments booked on the month: late sessions' and manual ones."""
        return app.adjustments(month, programme)

    return router


def cap_routes(app: Billing) -> APIRouter:
    """The yearly caps: hours billed against them, and the forecast of when they are reached."""
    router = APIRouter()

    @router.get("/caps/{programme}/{year}", dependencies=READ)
    def cap(programme: Programme, year: Annotated[int, Path(ge=2000, le=2100)]) -> dict[str, Any]:
        """Hours billed against the year's cap, the call-offs and the warnings given."""
        return app.cap_usage(programme, year)

    @router.get("/caps/{programme}/{year}/forecast", dependencies=READ)
    def cap_forecast(
        programme: Programme, year: Annotated[int, Path(ge=2000, le=2100)]
    ) -> dict[str, Any]:
        """The date the year's cap (with call-offs) is reached at the current pace, if it is."""
        return app.cap_forecast(programme, year)

    return router


def settlement_routes(app: Billing) -> APIRouter:
    """A month's settlement: as it stands, its preview, its close, and its replay."""
    router = APIRouter()

    @router.get("/settlements/{month}", responses=STATEMENTS, dependencies=READ)
    def show(
        month: str,
        programme: Programme | None = None,
        format: Annotated[Format | None, Query()] = None,
        accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:
        """The month's settlement as it stands (a closed month: as closed); ``format=pdf`` (or
        ``Accept: application/pdf``) is the HTML statement printed as a PDF."""
        view = app.settlement(month, programme)
        shown = statement(view, format, accept, {})
        if shown is not None:
            return shown
        # The body is the document alone, so its digest checks against exactly what is sent.
        return JSONResponse(view["document"], headers={"X-Settlement-Status": view["status"]})

    @router.post("/settlements/{month}/close", dependencies=STAFF)
    def close(month: str, body: Close | None = None) -> dict[str, Any]:
        """Close the month: its document and digest are recorded and never change."""
        if body is None:
            return app.close_month(month)
        return app.close_month(month, body.closed_by, early=body.early)

    @router.get("/settlements/{month}/preview", responses=STATEMENTS, dependencies=READ)
    def preview(
        month: str,
        programme: Programme | None = None,
        format: Annotated[Format | None, Query()] = None,
        accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:
        """The open month's settlement if it were closed now; nothing is recorded. The body is
        marked ``"preview": true, "final": false``; the document's digest is not a final one."""
        view = app.preview(month, programme)
        headers = {"X-Settlement-Status": "preview"}
        return statement(view, format, accept, headers) or JSONResponse(view, headers=headers)

    @router.get("/settlements/{month}/replay", dependencies=READ)
    def replay(month: str, programme: Programme | None = None) -> dict[str, Any]:
        """Rebuild the closed month from the log and compare it with the closed document."""
        result = replay_month(app, month, programme)
        return {
            **result.document,
            "matches": result.matches,
            "closed_digest": result.closed["digest"],
            "differences": list(result.differences),
        }

    return router
