"""Intake's case routes: a case as it stands, without personal data, its acknowledgement and
its closure; a refused command carries its status (:mod:`infra.http`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import anyio
from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Body, Query, Security
from pydantic import BaseModel, Field

from infra.access import looked_over_http
from infra.auth import STAFF, Role, guard
from infra.runtime import Runtime
from infra.tokens import Principal
from services.intake.application import Intake
from services.intake.case_refusals import OUTCOMES, CaseError, UnknownCase


class Acknowledge(BaseModel):
    by: Annotated[str, Field(min_length=1, max_length=200)]


class Close(BaseModel):
    outcome: Annotated[str, Field(description=f"one of: {', '.join(OUTCOMES)}")]
    by: Annotated[str, Field(min_length=1, max_length=200)]
    note: Annotated[str | None, Field(max_length=2000)] = None


class CaseView(BaseModel):
    """A case without personal numbers or names: persons appear as their ``person_ref``."""

    case_id: UUID
    programme: str
    priority: int
    received_at: datetime
    first_contact_due: str
    ack_due: datetime
    acknowledged_at: datetime | None
    ack_overdue: bool
    first_contact_at: datetime | None
    minutes_used: int
    network_norm_minutes: int | None
    visits: int
    sip_meetings: int
    closed_at: datetime | None
    outcome: str | None
    throughput_days: int | None
    household: list[dict[str, Any]]


def case_routes(intake: Intake, runtime: Runtime) -> APIRouter:
    """``/cases/{case_id}``, its acknowledgement and its closure."""
    router = APIRouter()

    @router.get("/cases/{case_id}", response_model=CaseView, responses={404: {}})
    async def case(
        case_id: UUID,
        caller: Annotated[Principal, Security(guard(Role.STAFF, Role.AUDITOR))],
        reason: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> CaseView:
        """A case as it stands, without personal data. An auditor's read is recorded in the
        access log (``lots audit access``), with the ``reason`` given, if any."""
        view = await anyio.to_thread.run_sync(_view, intake, case_id)
        if caller.role is Role.AUDITOR:
            await anyio.to_thread.run_sync(
                lambda: looked_over_http(intake, case_id, caller, reason, "intake", intake.clock())
            )
        return view

    @router.post(
        "/cases/{case_id}/acknowledgement",
        response_model=CaseView,
        responses={404: {}},
        dependencies=STAFF,
    )
    async def acknowledge(case_id: UUID, ack: Annotated[Acknowledge, Body()]) -> CaseView:
        """Record that the referral was acknowledged (answered within 24 weekday hours?)."""
        await _command(lambda: intake.acknowledge(case_id, ack.by))
        runtime.wake_relay()
        return await anyio.to_thread.run_sync(_view, intake, case_id)

    @router.post(
        "/cases/{case_id}/closure",
        response_model=CaseView,
        responses={404: {}, 409: {}, 422: {}},
        dependencies=STAFF,
    )
    async def close(case_id: UUID, closing: Close) -> CaseView:
        """Close the case with its outcome."""
        await _command(
            lambda: intake.close_case(case_id, closing.outcome, closing.by, closing.note)
        )
        runtime.wake_relay()
        return await anyio.to_thread.run_sync(_view, intake, case_id)

    return router


async def _command(run: Any) -> None:
    """The command in a worker thread; a case it refuses carries its status (infra.http)."""
    try:
        await anyio.to_thread.run_sync(run)
    except AggregateNotFoundError as exc:
        raise UnknownCase() from exc


def _view(intake: Intake, case_id: UUID) -> CaseView:
    try:
        case = intake.case(case_id)
    except (AggregateNotFoundError, CaseError) as exc:
        raise UnknownCase() from exc
    return CaseView(
        case_id=case.id,
        programme=case.programme,
        priority=case.priority,
        received_at=case.received_at,
        first_contact_due=case.first_contact_due.isoformat(),
        ack_due=case.ack_due,
        acknowledged_at=case.acknowledged_at,
        ack_overdue=case.ack_overdue_noted,
        first_contact_at=case.first_contact_at,
        minutes_used=case.minutes_used,
        network_norm_minutes=13 * 60 if case.programme == "network" else None,
        visits=case.visits,
        sip_meetings=case.sip_meetings,
        closed_at=case.closed_at,
        outcome=case.outcome,
        throughput_days=case.throughput_days(),
        household=[
            {"person_ref": m["person_ref"], "role": m["role"], "age": m["age"]}
            for m in case.household
        ],
    )
