"""Intake's routes for the polare register (seed 004). Personal data goes in and never comes
out: answers name a polar by ``polar_ref`` only.

A refusal carries ``code`` and a message that names no person: 422 when the request breaks a
rule (``invalid_personal_number``, ``age_out_of_range``, ``invalid_school_year``,
``in_the_future``, ``before_enrolment``), 409 when the register as it stands refuses it
(``school_year_full``: 20 polare active at once already; ``left_school_year``, ``not_enrolled``,
``already_left``, ``walked_after_leaving``, ``erased``, ``busy``); an unknown polar is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar
from uuid import UUID

import anyio
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from infra.auth import READ, STAFF
from infra.runtime import Runtime
from infra.schoolyear import PATTERN
from services.intake import polare_commands, polare_erasure, polare_leave
from services.intake.application import Intake

T = TypeVar("T")
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Enrol(Body):
    personal_number: Annotated[str, Field(min_length=12, max_length=13)]
    name: Name
    enrolled_on: date
    school_year: Annotated[str, Field(pattern=PATTERN)] | None = Field(
        None, description="default: the school year of `enrolled_on` (1 July-30 June)"
    )
    years_before: Annotated[int, Field(ge=0, le=10)] = Field(
        0, description="school years the polar walked before this register"
    )
    recorded_by: Name


class Training(Body):
    course: Name
    trained_on: date
    recorded_by: Name


class Leave(Body):
    left_on: date = Field(
        description="from this day the polar is not active; a replacement may start"
    )
    school_year: Annotated[str, Field(pattern=PATTERN)] | None = Field(
        None, description="default: the school year of `left_on`"
    )
    recorded_by: Name


class Erasure(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    by: Name


#: Who may call a route (docs/security.md): staff keep the register; auditors read it.


async def run(command: Callable[[], T]) -> T:
    """The command in a worker thread; a refusal carries its status, code and words
    (:class:`services.intake.polare.PolareError`, answered by :mod:`infra.http`)."""
    return await anyio.to_thread.run_sync(command)


def router_for(app: Intake, runtime: Runtime) -> APIRouter:
    r = APIRouter(
        prefix="/polare",
        tags=["polare"],
        responses={
            404: {"description": "no such polar"},
            409: {
                "description": "the register refuses it as it stands: 20 polare active at once "
                "already, the polar left or is not enrolled, their data is erased"
            },
            422: {"description": "the request breaks a rule; the detail gives its code"},
        },
    )

    @r.post("", status_code=201, dependencies=STAFF)
    async def enrol(body: Enrol) -> dict[str, Any]:
        """Recruit a polar (the first time) and enrol them for a school year; at most 20 active
        at once in a school year (409 ``school_year_full``), a drop-out's place free from the
        day they left. The same enrolment again changes nothing."""
        done = await run(lambda: polare_commands.enroll(app, **body.model_dump()))
        runtime.wake_relay()
        return {**polare_commands.view(done.polar, done.school_year), "new": done.new}

    @r.get("", dependencies=READ)
    async def school_year(
        school_year: Annotated[str, Query(pattern=PATTERN, description="e.g. 2026/27")],
    ) -> list[dict[str, Any]]:
        """The school year's polare (refs, years in the activity, trainings)."""
        return await run(lambda: polare_commands.register(app, school_year))

    add_places_and_leave(r, app, runtime)  # before /{polar_ref}, which would take "places"

    @r.get("/{polar_ref}", dependencies=READ)
    async def one(polar_ref: UUID) -> dict[str, Any]:
        return await run(lambda: polare_commands.polar(app, polar_ref))

    @r.post("/{polar_ref}/trainings", status_code=201, dependencies=STAFF)
    async def training(polar_ref: UUID, body: Training) -> dict[str, Any]:
        """Record a training (the leadership training, information evenings...)."""
        found = await run(
            lambda: polare_commands.record_training(app, polar_ref, **body.model_dump())
        )
        return polare_commands.view(found, None)

    @r.post("/{polar_ref}/erasure", dependencies=STAFF)
    async def erasure(polar_ref: UUID, body: Erasure) -> dict[str, Any]:
        """Erase the polar's personal data now (their key is destroyed)."""
        erased = await run(lambda: polare_erasure.erase(app, polar_ref, body.reason, body.by))
        return {"polar_ref": str(polar_ref), "erased": True, "already": not erased}

    return r


def add_places_and_leave(r: APIRouter, app: Intake, runtime: Runtime) -> None:
    """The school year's places and recording a drop-out (the 20 at once of seed 004)."""

    @r.get("/places", dependencies=READ)
    async def school_year_places(
        school_year: Annotated[str, Query(pattern=PATTERN, description="e.g. 2026/27")],
        on: Annotated[date | None, Query(description="default: today")] = None,
    ) -> dict[str, Any]:
        """The school year's places on a day: active, free of the 20, enrolled, left."""
        return await run(lambda: polare_leave.places(app, school_year, on))

    @r.post("/{polar_ref}/leave", dependencies=STAFF)
    async def leave(polar_ref: UUID, body: Leave) -> dict[str, Any]:
        """The polar dropped out of the school year: not active from ``left_on``, their place
        free for a replacement. The same again changes nothing."""
        done = await run(lambda: polare_leave.leave(app, polar_ref, **body.model_dump()))
        runtime.wake_relay()
        return {
            **polare_commands.view(done.polar, done.school_year),
            "active_in_school_year": done.active,
            "new": done.new,
        }
