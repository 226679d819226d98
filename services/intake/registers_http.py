"""The quality registers and the follow-up of coordinated support over HTTP (intake's port):
one router per resource, the registers' records and their yearly summary here, the follow-up in
:mod:`services.intake.followup_http`.

A refused step is answered 409 (the entry's state does not allow it) or 422 (the request breaks
a rule), with a sentence saying which; an unknown entry or case 404. Answers carry codes, dates
and counts, never the narratives, notes or goals' wording.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from events.intake_registers import QualityRegister, QualityStep
from events.types import Programme
from infra.auth import READ, STAFF
from infra.runtime import Runtime
from services.intake.followup_http import follow_up_routes, goal_routes
from services.intake.quality import QualityRecord, summary_due
from services.intake.quality_commands import QualityCommands
from services.intake.register_http_edge import By, Text, run
from services.intake.registers import RegisterCommands

#: Who may call a route (docs/security.md): staff record; auditors read the records.


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


def registers_router(intake: RegisterCommands, runtime: Runtime) -> APIRouter:
    """Every route of the registers and the follow-up, tagged and documented with refusals."""
    r = APIRouter(tags=["quality and follow-up"], responses={404: {}, 409: {}, 422: {}})
    r.include_router(quality_record_routes(intake, runtime))
    r.include_router(quality_summary_routes(intake, runtime))
    r.include_router(follow_up_routes(intake, runtime))
    r.include_router(goal_routes(intake, runtime))
    return r


def quality_record_routes(intake: QualityCommands, runtime: Runtime) -> APIRouter:
    """Entries of the quality registers and each step of their handling."""
    r = APIRouter()

    @r.post("/quality/records", status_code=201, dependencies=STAFF)
    async def record(body: RecordIn) -> RecordOut:
        """Enter a Lex Sarah report, a complaint or view, an incident or an IVO supervision."""
        made = await run(
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
        return _record_out(await run(lambda: intake.quality_record(record_id)))

    @r.post("/quality/records/{record_id}/steps", dependencies=STAFF)
    async def step(record_id: UUID, body: StepIn) -> RecordOut:
        """Take one step of the entry's handling; a step its state does not allow is 409."""
        done = await run(
            lambda: intake.handle_quality_event(
                record_id, body.step, body.by, body.note, body.social_worker_copy
            )
        )
        runtime.wake_relay()
        return _record_out(done)

    return r


def quality_summary_routes(intake: QualityCommands, runtime: Runtime) -> APIRouter:
    """The yearly lex Sarah summary (003 §4.2): read as it stands, and record it handed in;
    and what operators must see (the summary due, supervision not yet reported)."""
    r = APIRouter()

    @r.post("/quality/summaries/{year}", status_code=201, dependencies=STAFF)
    async def submit(year: Annotated[int, Path(ge=2000, le=2100)], body: SummaryIn) -> SummaryOut:
        """Record that the year's lex Sarah summary went to the administration (due 31 March
        after), with its figures."""
        made, figures = await run(lambda: intake.submit_quality_summary(year, body.by))
        runtime.wake_relay()
        return SummaryOut(
            year=made.year, due=summary_due(made.year), submitted_at=made.submitted_at, **figures
        )

    @r.get("/quality/summaries/{year}", dependencies=READ)
    async def summary(year: Annotated[int, Path(ge=2000, le=2100)]) -> dict[str, Any]:
        """The year's lex Sarah summary as it stands (as on 31 December once the year is
        over), with the other registers beside it; ``submitted_at`` once it was handed in."""
        figures = await run(lambda: intake.quality_year_summary(year))
        submitted = await run(lambda: intake.quality_summary_submitted(year))
        return {
            "year": year,
            "due": summary_due(year).isoformat(),
            "submitted_at": submitted.isoformat() if submitted else None,
            **figures,
        }

    @r.get("/quality/notices", dependencies=READ)
    async def notices() -> list[dict[str, str]]:
        """The summary due or overdue; IVO supervision not yet reported to the administration."""
        return await run(intake.quality_notices)

    return r
