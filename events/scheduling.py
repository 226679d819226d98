"""The events scheduling publishes on ``scheduling.events`` (contracts.md, v1): meetings
and their deadlines, field work (night walks, area deployments) and the steering group.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
)

from events.types import MeetingFormat, MeetingKind, Message, Programme


class MeetingScheduled(Message):
    meeting_id: UUID
    case_id: UUID
    programme: Programme
    kind: MeetingKind
    format: MeetingFormat
    provider: str
    staff: list[str]
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class MeetingHeld(Message):
    meeting_id: UUID
    case_id: UUID
    programme: Programme
    kind: MeetingKind
    format: MeetingFormat
    provider: str
    staff: list[str]
    started_at: AwareDatetime
    ended_at: AwareDatetime
    participants: Annotated[int, Field(ge=0)]
    client_visits: Annotated[int, Field(ge=0)]


class MeetingCancelled(Message):
    meeting_id: UUID
    case_id: UUID
    cancelled_by: Literal["family", "provider", "administration"]
    reason: str
    cancelled_at: AwareDatetime


class MeetingRescheduled(Message):
    """A booked meeting moved to another time (or staff); the earlier time is in ``previous_*``."""

    meeting_id: UUID
    case_id: UUID
    programme: Programme
    kind: MeetingKind
    format: MeetingFormat
    provider: str
    staff: list[str]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    previous_starts_at: AwareDatetime
    previous_ends_at: AwareDatetime
    requested_by: Literal["family", "provider", "administration"]
    reason: str
    rescheduled_at: AwareDatetime


class MeetingNoShow(Message):
    """The family did not come to a booked meeting: nothing was held, no time or fee to bill."""

    meeting_id: UUID
    case_id: UUID
    programme: Programme
    kind: MeetingKind
    format: MeetingFormat
    provider: str
    staff: list[str]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    recorded_at: AwareDatetime


class FirstContactOverdue(Message):
    case_id: UUID
    programme: Programme
    first_contact_due: date
    detected_at: AwareDatetime


class WaitTimeReportDue(Message):
    programme: Programme
    median_wait_days: int
    window_days: int
    detected_at: AwareDatetime


#: Where field workers walk or are deployed.
Area = Annotated[str, Field(min_length=1, max_length=80)]


class NightWalkReported(Message):
    """scheduling.events: a night walk that took place: who walked, where, whom they met."""

    walk_id: UUID
    #: The booked ``night_walk`` meeting it was, if it was booked.
    meeting_id: UUID | None = None
    area: Area
    walked_on: date
    started_at: AwareDatetime
    ended_at: AwareDatetime
    staff: Annotated[list[str], Field(min_length=1)]
    polare: list[UUID]
    youths_met: Annotated[int, Field(ge=0)]
    youths_talked_with: Annotated[int, Field(ge=0)]
    reported_at: AwareDatetime


class Consultation(BaseModel):
    """The consultation with the administration (samråd med omsorgskontoret) a deployment or
    its extension rests on."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    consulted_with: Annotated[str, Field(min_length=1, max_length=200)]
    consulted_on: date
    reference: str | None = None


class AreaDeploymentStarted(Message):
    """scheduling.events: field workers focus on an area at social unrest for 1-12 weeks."""

    deployment_id: UUID
    area: Area
    reason: str
    first_day: date
    weeks: Annotated[int, Field(ge=1, le=12)]
    last_day: date
    consultation: Consultation
    recorded_by: str
    recorded_at: AwareDatetime


class AreaDeploymentExtended(Message):
    """scheduling.events: a deployment extended by 1-12 weeks after a new consultation."""

    deployment_id: UUID
    area: Area
    reason: str
    weeks_added: Annotated[int, Field(ge=1, le=12)]
    weeks_total: Annotated[int, Field(ge=2)]
    last_day: date
    consultation: Consultation
    recorded_by: str
    recorded_at: AwareDatetime


# --- scheduling.events: the steering group (seed 002) -----------------------------------------

SteeringOrganisation = Literal[
    "social_services", "education", "provider", "labour_market", "region", "other"
]


class SteeringMeetingPlanned(Message):
    """The provider convened a steering-group meeting (at least three a year, seed 002)."""

    meeting_id: UUID
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    planned_at: AwareDatetime


class SteeringMeetingHeld(Message):
    meeting_id: UUID
    started_at: AwareDatetime
    ended_at: AwareDatetime
    organisations: list[SteeringOrganisation]
    recorded_at: AwareDatetime


class SteeringMeetingCancelled(Message):
    meeting_id: UUID
    starts_at: AwareDatetime
    cancelled_at: AwareDatetime
