"""Field work's records in scheduling (seed 004): night walks as they took place, and area
deployments at social unrest.

A **night walk** is reported once it is over: the area, the staff who walked, the polare (by
``polar_ref``: scheduling never holds a polar's name or date of birth), and how many young
people were met and how many talked with (the field app's two figures). It may name the booked
``night_walk`` meeting it was (which must then be held). Published as ``NightWalkReported``;
intake attests the polare's ages and years for it, billing pays their fees from that.

Area deployments are :mod:`services.scheduling.fieldwork_deployments`'s, stored under this
module's topics (``services.scheduling.fieldwork:AreaDeployment...``): this module imports
them so that a process which has not imported them yet still resolves those topics. The public
messages are :mod:`services.scheduling.fieldwork_public`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from infra.calendar import local_date
from infra.outbox import Translator
from services.scheduling.desk import Desk
from services.scheduling.domain_meeting import Meeting
from services.scheduling.errors import Conflict, Invalid, NotFound
from services.scheduling.fieldwork_deployments import (
    AreaDeployment,
    extend_deployment,
    field_area,
    start_deployment,
)
from services.scheduling.fieldwork_public import (
    deployment_extended,
    deployment_started,
    walk_reported,
)
from services.scheduling.ports import Schedule

__all__ = [
    "AreaDeployment",
    "NightWalk",
    "extend_deployment",
    "get",
    "report_walk",
    "start_deployment",
]

NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/scheduling/field-work")
#: At most the school year's polare on one walk; a walk is at most 12 hours.
MAX_POLARE = 20
MAX_WALK = timedelta(hours=12)


class NightWalk(Aggregate):
    @staticmethod
    def create_id(walk_id: UUID, **_: object) -> UUID:
        return walk_id

    @event("Reported")
    def __init__(
        self,
        walk_id: UUID,
        meeting_id: UUID | None,
        area: str,
        walked_on: date,
        started_at: datetime,
        ended_at: datetime,
        staff: list[str],
        polare: list[str],
        youths_met: int,
        youths_talked_with: int,
        reported_by: str,
        reported_at: datetime,
    ) -> None:
        self.meeting_id = meeting_id
        self.area = area
        self.walked_on = walked_on
        self.started_at = started_at
        self.ended_at = ended_at
        self.staff = list(staff)
        self.polare = list(polare)
        self.youths_met = youths_met
        self.youths_talked_with = youths_talked_with

    def facts(self) -> dict[str, Any]:
        return {
            "meeting_id": self.meeting_id, "area": self.area, "started_at": self.started_at,
            "ended_at": self.ended_at, "staff": self.staff, "polare": self.polare,
            "youths_met": self.youths_met, "youths_talked_with": self.youths_talked_with,
        }  # fmt: skip


# --- night walks -----------------------------------------------------------------------------


def report_walk(
    app: Schedule,
    *,
    area: str,
    started_at: datetime,
    ended_at: datetime,
    staff: Sequence[str],
    polare: Sequence[UUID],
    youths_met: int,
    youths_talked_with: int,
    reported_by: str,
    meeting_id: UUID | None = None,
    walk_id: UUID | None = None,
) -> NightWalk:
    """Record a night walk that took place; the same report again returns the first."""
    if walk_id is None:
        walk_id = uuid5(NAMESPACE, f"walk/{meeting_id}") if meeting_id else uuid4()
    facts: dict[str, Any] = {
        "meeting_id": meeting_id, "area": field_area(area), "started_at": started_at,
        "ended_at": ended_at, "staff": list(staff), "polare": [str(p) for p in polare],
        "youths_met": youths_met, "youths_talked_with": youths_talked_with,
    }  # fmt: skip
    if not started_at < ended_at <= started_at + MAX_WALK:
        raise Invalid("a night walk ends after it starts, within 12 hours")
    if not staff or len(set(staff)) != len(staff):
        raise Invalid("a night walk names the staff who walked, each once")
    if len(set(polare)) != len(polare) or len(polare) > MAX_POLARE:
        raise Invalid(f"a night walk names each polar once, at most {MAX_POLARE}")
    if not 0 <= youths_talked_with <= youths_met:
        raise Invalid("young people talked with are among those met: 0 <= talked with <= met")

    def record(desk: Desk) -> NightWalk:
        found = desk.uow.get(walk_id, Aggregate)
        if found is not None:
            if not isinstance(found, NightWalk) or found.facts() != facts:
                raise Conflict(f"walk {walk_id} was reported before, differently")
            return found
        if ended_at > desk.now:
            raise Invalid("a night walk is reported once it is over")
        roster = desk.roster()
        for staff_id in staff:
            if "field" not in roster.record(staff_id)["programmes"]:
                raise Invalid(f"{staff_id} does not work in field work")
        if meeting_id is not None:
            meeting = desk.uow.get(meeting_id, Meeting)
            if meeting is None:
                raise NotFound(f"no meeting {meeting_id}")
            if meeting.kind != "night_walk" or meeting.status != "held":
                raise Invalid(f"meeting {meeting_id} is not a held night walk")
        walk = NightWalk(
            walk_id=walk_id, walked_on=local_date(started_at), reported_by=reported_by,
            reported_at=desk.now, **facts,
        )  # fmt: skip
        desk.uow.add(walk)
        return walk

    return app.transact(record)


def get(app: Schedule, aggregate_id: UUID, kind: type[Aggregate]) -> Any:
    found = app.query(lambda desk: desk.uow.get(aggregate_id, Aggregate))
    if not isinstance(found, kind):
        what = "night walk" if kind is NightWalk else "area deployment"
        raise NotFound(f"no {what} {aggregate_id}")
    return found


# --- public events (:mod:`services.scheduling.fieldwork_public`) -------------------------


PUBLIC_EVENTS: Mapping[type[Any], Translator] = {
    NightWalk.Reported: walk_reported,  # type: ignore[attr-defined]
    AreaDeployment.Started: deployment_started,  # type: ignore[attr-defined]
    AreaDeployment.Extended: deployment_extended,  # type: ignore[attr-defined]
}
