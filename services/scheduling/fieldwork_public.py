"""Field work's events as public messages on ``scheduling.events`` (seed 004): a night walk
reported, an area deployment started or extended (:mod:`services.scheduling.fieldwork`, whose
``PUBLIC_EVENTS`` maps its events to these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from events.scheduling import (
    AreaDeploymentExtended,
    AreaDeploymentStarted,
    Consultation,
    NightWalkReported,
)
from infra.outbox import Outgoing
from infra.topology import SCHEDULING_EVENTS

# The events as the translators read them: what the ``@event`` methods of
# :mod:`services.scheduling.fieldwork` record (a type
# checker cannot see their generated classes, ``NightWalk.Reported`` ...).


class WalkReportedEvent(Protocol):
    originator_id: UUID
    meeting_id: UUID | None
    area: str
    walked_on: date
    started_at: datetime
    ended_at: datetime
    staff: list[str]
    polare: list[str]
    youths_met: int
    youths_talked_with: int
    reported_at: datetime


class DeploymentEvent(Protocol):
    """What ``AreaDeployment.Started`` and ``AreaDeployment.Extended`` both carry."""

    originator_id: UUID
    area: str
    reason: str
    last_day: date
    consultation: dict[str, Any]
    recorded_by: str
    recorded_at: datetime


class DeploymentStartedEvent(DeploymentEvent, Protocol):
    first_day: date
    weeks: int


class DeploymentExtendedEvent(DeploymentEvent, Protocol):
    weeks_added: int
    weeks_total: int


def walk_reported(event: WalkReportedEvent) -> Outgoing:
    message = NightWalkReported(
        walk_id=event.originator_id, meeting_id=event.meeting_id, area=event.area,
        walked_on=event.walked_on, started_at=event.started_at, ended_at=event.ended_at,
        staff=event.staff, polare=[UUID(p) for p in event.polare], youths_met=event.youths_met,
        youths_talked_with=event.youths_talked_with, reported_at=event.reported_at,
    )  # fmt: skip
    return Outgoing(SCHEDULING_EVENTS, message, correlation_id=str(event.originator_id))


def deployment_started(event: DeploymentStartedEvent) -> Outgoing:
    message = AreaDeploymentStarted(
        deployment_id=event.originator_id, area=event.area, reason=event.reason,
        first_day=event.first_day, weeks=event.weeks, last_day=event.last_day,
        consultation=Consultation.model_validate(event.consultation),
        recorded_by=event.recorded_by, recorded_at=event.recorded_at,
    )  # fmt: skip
    return Outgoing(SCHEDULING_EVENTS, message, correlation_id=str(event.originator_id))


def deployment_extended(event: DeploymentExtendedEvent) -> Outgoing:
    message = AreaDeploymentExtended(
        deployment_id=event.originator_id, area=event.area, reason=event.reason,
        weeks_added=event.weeks_added, weeks_total=event.weeks_total, last_day=event.last_day,
        consultation=Consultation.model_validate(event.consultation),
        recorded_by=event.recorded_by, recorded_at=event.recorded_at,
    )  # fmt: skip
    return Outgoing(SCHEDULING_EVENTS, message, correlation_id=str(event.originator_id))
