"""Field work's records in scheduling (seed 004): night walks as they took place, and area
deployments at social unrest.

A **night walk** is reported once it is over: the area, the staff who walked, the polare (by
``polar_ref``: scheduling never holds a polar's name or date of birth), and how many young
people were met and how many talked with (the field app's two figures). It may name the booked
``night_walk`` meeting it was (which must then be held). Published as ``NightWalkReported``;
intake attests the polare's ages and years for it, billing pays their fees from that.

An **area deployment** ("flexibel resurs för områdesarbete vid särskild social oro") focuses
the field workers on one area for 1 to 12 whole weeks, after consultation with the
administration (omsorgskontoret), recorded with who was consulted and when. It can be extended,
each time by 1 to 12 weeks after a new consultation, until its last day has passed.

It stays a little over 300 lines: the two records' aggregates and the commands that guard them
are one room (moving an aggregate would move its stored topic); the public messages are
:mod:`services.scheduling.fieldwork_public`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from events.scheduling import Consultation
from infra.calendar import local_date
from infra.outbox import Translator
from services.scheduling.desk import Desk
from services.scheduling.domain import Meeting
from services.scheduling.errors import Conflict, Invalid, NotFound
from services.scheduling.fieldwork_public import (
    deployment_extended,
    deployment_started,
    walk_reported,
)
from services.scheduling.ports import Schedule

NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/scheduling/field-work")
#: Seed 004: "under en begränsad tid (1 till 12 veckor med möjlighet till förlängning)".
MIN_WEEKS, MAX_WEEKS = 1, 12
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


class AreaDeployment(Aggregate):
    @staticmethod
    def create_id(deployment_id: UUID, **_: object) -> UUID:
        return deployment_id

    @event("Started")
    def __init__(
        self,
        deployment_id: UUID,
        area: str,
        reason: str,
        first_day: date,
        weeks: int,
        last_day: date,
        consultation: dict[str, Any],
        recorded_by: str,
        recorded_at: datetime,
    ) -> None:
        self.area = area
        self.reason = reason
        self.first_day = first_day
        self.weeks = weeks
        self.last_day = last_day
        self.consultation = consultation
        self.extensions: list[dict[str, Any]] = []

    @event("Extended")
    def extend(
        self,
        area: str,
        reason: str,
        weeks_added: int,
        weeks_total: int,
        last_day: date,
        consultation: dict[str, Any],
        recorded_by: str,
        recorded_at: datetime,
    ) -> None:
        self.weeks = weeks_total
        self.last_day = last_day
        self.extensions.append(
            {"weeks": weeks_added, "reason": reason, "consultation": consultation,
             "recorded_by": recorded_by, "recorded_at": recorded_at}
        )  # fmt: skip


def _area(area: str) -> str:
    cleaned = " ".join(area.split())
    if not 1 <= len(cleaned) <= 80:
        raise Invalid("an area is 1 to 80 characters")
    return cleaned


def _weeks(weeks: int) -> int:
    if not MIN_WEEKS <= weeks <= MAX_WEEKS:
        raise Invalid(
            f"an area deployment lasts {MIN_WEEKS} to {MAX_WEEKS} weeks at a time (seed 004), "
            f"not {weeks}; extend it for longer"
        )
    return weeks


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
        "meeting_id": meeting_id, "area": _area(area), "started_at": started_at,
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


# --- area deployments ------------------------------------------------------------------------


def _consulted(consultation: Consultation, today: date, before: date | None) -> dict[str, Any]:
    if consultation.consulted_on > today:
        raise Invalid("the consultation with the administration must have taken place")
    if before is not None and consultation.consulted_on > before:
        raise Invalid(f"the administration is consulted before the deployment starts ({before})")
    return consultation.model_dump(mode="python")


def start_deployment(
    app: Schedule,
    *,
    area: str,
    reason: str,
    first_day: date,
    weeks: int,
    consultation: Consultation,
    recorded_by: str,
    deployment_id: UUID | None = None,
) -> AreaDeployment:
    deployment_id = deployment_id or uuid4()
    weeks = _weeks(weeks)
    if not reason.strip():
        raise Invalid("a deployment states the social unrest it answers")

    def record(desk: Desk) -> AreaDeployment:
        found = desk.uow.get(deployment_id, Aggregate)
        if found is not None:
            if not isinstance(found, AreaDeployment) or (found.area, found.first_day) != (
                _area(area),
                first_day,
            ):
                raise Conflict(f"deployment {deployment_id} was recorded before, differently")
            return found
        deployment = AreaDeployment(
            deployment_id=deployment_id, area=_area(area), reason=reason.strip(),
            first_day=first_day, weeks=weeks, last_day=first_day + timedelta(weeks=weeks, days=-1),
            consultation=_consulted(consultation, local_date(desk.now), first_day),
            recorded_by=recorded_by, recorded_at=desk.now,
        )  # fmt: skip
        desk.uow.add(deployment)
        return deployment

    return app.transact(record)


def extend_deployment(
    app: Schedule,
    deployment_id: UUID,
    *,
    weeks: int,
    reason: str,
    consultation: Consultation,
    recorded_by: str,
) -> AreaDeployment:
    weeks = _weeks(weeks)

    def record(desk: Desk) -> AreaDeployment:
        deployment = desk.uow.get(deployment_id, Aggregate)
        if not isinstance(deployment, AreaDeployment):
            raise NotFound(f"no area deployment {deployment_id}")
        today = local_date(desk.now)
        if today > deployment.last_day:
            raise Conflict(
                f"the deployment ended on {deployment.last_day}; start a new one for the area"
            )
        consulted = _consulted(consultation, today, None)
        if consultation.consulted_on < deployment.consultation["consulted_on"]:
            raise Invalid("an extension rests on a consultation after the deployment's own")
        deployment.extend(
            area=deployment.area, reason=reason.strip(), weeks_added=weeks,
            weeks_total=deployment.weeks + weeks,
            last_day=deployment.last_day + timedelta(weeks=weeks), consultation=consulted,
            recorded_by=recorded_by, recorded_at=desk.now,
        )  # fmt: skip
        return deployment

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
