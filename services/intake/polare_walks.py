"""A reported night walk's polare attested (seed 004): for each, their age in whole years and
their years in the activity on the walk's date, or why not (unknown, not enrolled, erased);
published as ``PolareWalkAttested`` (:mod:`services.intake.polare`'s ``PUBLIC_EVENTS``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast
from uuid import UUID

from events.codec import Envelope
from events.scheduling import NightWalkReported
from infra.batches import Handler, Lookup
from infra.pii import ERASED, unseal
from infra.schoolyear import school_year_of
from infra.unit_of_work import UnitOfWork
from services.intake.polare import WalkAttestation, polar_in
from services.intake.polare_ports import Register
from services.intake.rules import age_on


def attest(app: Register, uow: UnitOfWork, polar_ref: UUID, walked_on: date) -> dict[str, Any]:
    """A polar's age and years in the activity on a walk's date, or why not."""
    year = school_year_of(walked_on)
    found = polar_in(uow, polar_ref)
    if found is None:
        return {"polar_ref": str(polar_ref), "reason": "unknown_polar"}
    if year not in found.school_years or not found.period(year).active_on(walked_on):
        return {"polar_ref": str(polar_ref), "reason": "not_enrolled"}
    birth = unseal(app.store, str(polar_ref), found.date_of_birth)
    if birth is None or birth == ERASED:
        return {"polar_ref": str(polar_ref), "reason": "erased"}
    return {
        "polar_ref": str(polar_ref),
        "age": age_on(date.fromisoformat(birth), walked_on),
        "years_in_activity": found.years_in(year),
    }


def when_night_walk_reported_attest(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    walk: NightWalkReported = envelope.message
    key = WalkAttestation.create_id(walk.walk_id)
    if uow.get(key, WalkAttestation) is not None:
        return  # the same walk again
    app = cast(Register, uow.app)
    found = [attest(app, uow, ref, walk.walked_on) for ref in walk.polare]
    uow.add(
        WalkAttestation(
            walk_id=walk.walk_id,
            walked_on=walk.walked_on,
            attested=[f for f in found if "reason" not in f],
            not_attested=[f for f in found if "reason" in f],
            causation_id=str(envelope.id),
        )
    )


def _walk_lookups(walk: NightWalkReported) -> list[UUID]:
    return [WalkAttestation.create_id(walk.walk_id), *walk.polare]


HANDLERS: Mapping[str, Handler] = {NightWalkReported.type_name: when_night_walk_reported_attest}
LOOKUPS: Mapping[str, Lookup] = {NightWalkReported.type_name: _walk_lookups}
