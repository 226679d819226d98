"""Field work's area deployments (seed 004) at social unrest.

An **area deployment** ("flexibel resurs för områdesarbete vid särskild social oro") focuses
the field workers on one area for 1 to 12 whole weeks, after consultation with the
administration (omsorgskontoret), recorded with who was consulted and when. It can be extended,
each time by 1 to 12 weeks after a new consultation, until its last day has passed.

Stored under its first module's topics (``services.scheduling.fieldwork:AreaDeployment...``): an
explicit ``TOPIC`` on the class and on each event keeps them, and
:mod:`services.scheduling.fieldwork` still imports the class, so stored events resolve and new
ones are written under the same names.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from events.scheduling import Consultation
from infra.calendar import local_date
from services.scheduling.desk import Desk
from services.scheduling.errors import Conflict, Invalid, NotFound
from services.scheduling.ports import Schedule

#: Seed 004: "under en begränsad tid (1 till 12 veckor med möjlighet till förlängning)".
MIN_WEEKS, MAX_WEEKS = 1, 12


class AreaDeployment(Aggregate):
    """Field workers focused on one area for whole weeks, extendable after a new consultation."""

    TOPIC = "services.scheduling.fieldwork:AreaDeployment"

    class Event(Aggregate.Event):
        TOPIC = "services.scheduling.fieldwork:AreaDeployment.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "services.scheduling.fieldwork:AreaDeployment.Created"

    @staticmethod
    def create_id(deployment_id: UUID, **_: object) -> UUID:
        return deployment_id

    @event("Started", topic="services.scheduling.fieldwork:AreaDeployment.Started")
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

    @event("Extended", topic="services.scheduling.fieldwork:AreaDeployment.Extended")
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


def field_area(area: str) -> str:
    """The area as field work records it: its words single-spaced, 1 to 80 characters."""
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
                field_area(area),
                first_day,
            ):
                raise Conflict(f"deployment {deployment_id} was recorded before, differently")
            return found
        deployment = AreaDeployment(
            deployment_id=deployment_id, area=field_area(area), reason=reason.strip(),
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
