"""The bodies of scheduling's HTTP interface (what OpenAPI documents), and their translation
to and from the application's commands and aggregates.

Request bodies refuse unknown fields, so a misspelt field is a 422 naming it rather than a
setting silently ignored. Times are answered in Stockholm time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal, cast
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from events.types import MeetingFormat, MeetingKind, Programme
from infra.calendar import STOCKHOLM
from services.scheduling.application import QueueRow
from services.scheduling.booking import MeetingRequest
from services.scheduling.domain import FieldActivity, WaitingCase
from services.scheduling.domain_meeting import Meeting
from services.scheduling.policy import Competence

StaffId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Party = Literal["family", "provider", "administration"]


def _in_calendar(value: Any) -> Any:
    # The holiday calendar covers 1953-2100; a time outside it is a typing error, not a 500.
    if not 2000 <= value.year <= 2100:
        raise ValueError("dates lie between the years 2000 and 2100")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_in_calendar)]
Day = Annotated[date, AfterValidator(_in_calendar)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Absence(Body):
    first_day: Day
    last_day: Day


class StaffChange(Body):
    provider: str = Field(description="`leanlink` or the other counselling provider")
    programmes: list[Programme] = Field(min_length=1)
    competences: list[Competence] = []
    weekly_capacity_hours: Annotated[float, Field(ge=0, le=60, multiple_of=0.25)]
    evenings: bool = Field(False, description="offers evening times (until 20:00)")
    weekends: bool = Field(False, description="offers weekend times (10:00-16:00)")
    absences: list[Absence] = []


class StaffIn(StaffChange):
    staff_id: StaffId


class StaffOut(StaffIn):
    model_config = ConfigDict(extra="ignore")


class WishesIn(Body):
    needs: list[Competence] = Field([], description="competences the family needs")
    evenings: bool = False
    weekends: bool = False


class FirstContactsIn(Body):
    limit: Annotated[int, Field(ge=1, le=1000)] | None = None
    programme: Programme | None = None


class MeetingIn(Body):
    case_id: UUID = Field(description="a case, or a field activity for night walks")
    kind: MeetingKind
    format: MeetingFormat | None = None
    minutes: Annotated[int, Field(ge=15, le=360)] | None = None
    staff: list[StaffId] = Field([], description="default: the staff of the first contact")
    starts_at: Instant | None = Field(None, description="default: the earliest free time")
    not_before: Instant | None = None
    meeting_id: UUID | None = Field(None, description="the caller's id, for safe retries")


class PlanIn(Body):
    staff: list[StaffId] = []
    not_before: Instant | None = None


class RescheduleIn(Body):
    requested_by: Party
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    starts_at: Instant | None = None
    not_before: Instant | None = None
    staff: list[StaffId] = []


class CancelIn(Body):
    cancelled_by: Party
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class HeldIn(Body):
    started_at: Instant
    ended_at: Instant
    participants: Annotated[int, Field(ge=1, le=500)]
    client_visits: Annotated[int, Field(ge=0, le=500)] | None = Field(
        None, description="visits that carry a client fee; default from the meeting"
    )
    staff: list[StaffId] = Field([], description="who held it; default: who was booked")


class FieldIn(Body):
    area: Annotated[str, Field(min_length=1, max_length=100)]
    first_day: Day
    last_day: Day


class ExtendIn(Body):
    last_day: Day


class MeetingOut(BaseModel):
    meeting_id: UUID
    case_id: UUID
    programme: str
    kind: str
    format: str
    provider: str
    staff: list[str]
    starts_at: datetime
    ends_at: datetime
    status: Literal["booked", "held", "cancelled", "no_show"]
    first_contact: bool
    booked_at: datetime
    history: list[dict[str, Any]]
    outcome: dict[str, Any]


class CaseOut(BaseModel):
    case_id: UUID
    programme: str
    priority: int = Field(description="intake's priority by the programme's order: 1 first")
    acute: bool
    received_at: datetime
    first_contact_due: date
    needs: list[str]
    evenings: bool
    weekends: bool
    provider: str | None
    status: Literal["waiting", "booked", "first_contact_held", "closed"]
    overdue: bool
    meetings: list[MeetingOut]


class QueueItem(BaseModel):
    place: int
    case_id: UUID
    programme: str
    priority: int = Field(description="intake's priority by the programme's order: 1 first")
    #: Within one priority, acute cases come first.
    acute: bool
    first_contact_due: date
    received_at: datetime
    overdue: bool
    first_contact: MeetingOut | None


class PlaceOut(BaseModel):
    case_id: UUID
    in_queue: bool
    place: int | None = Field(description="1 is served next; None once out of the queue")
    of: int
    programme_place: int | None
    programme_of: int


class BookingOut(BaseModel):
    booked: list[MeetingOut]
    not_booked: list[dict[str, str]]


class FieldOut(BaseModel):
    activity_id: UUID
    area: str
    first_day: date
    last_day: date
    meetings: list[UUID]


class WaitOut(BaseModel):
    programme: str
    median_wait_days: float | None
    sample_size: int
    threshold_days: int
    window_days: int
    above_threshold: bool


def meeting_out(m: Meeting) -> MeetingOut:
    return MeetingOut(
        meeting_id=m.id, case_id=m.case_id, programme=m.programme, kind=m.kind, format=m.format,
        provider=m.provider, staff=m.staff, starts_at=m.starts_at.astimezone(STOCKHOLM),
        ends_at=m.ends_at.astimezone(STOCKHOLM), status=cast(Any, m.status),
        first_contact=m.first_contact, booked_at=m.booked_at, history=m.history,
        outcome=m.outcome,
    )  # fmt: skip


def case_out(case: WaitingCase, meetings: Sequence[Meeting]) -> CaseOut:
    status = (
        "closed" if case.closed_at else "first_contact_held" if case.first_held_at
        else "booked" if case.live else "waiting"
    )  # fmt: skip
    return CaseOut(
        case_id=case.id, programme=case.programme, priority=case.priority, acute=case.acute,
        received_at=case.received_at, first_contact_due=case.first_contact_due, needs=case.needs,
        evenings=case.evenings, weekends=case.weekends, provider=case.provider,
        status=cast(Any, status), overdue=case.overdue,
        meetings=[meeting_out(m) for m in meetings],
    )  # fmt: skip


def field_out(a: FieldActivity) -> FieldOut:
    return FieldOut(
        activity_id=a.id, area=a.area, first_day=a.first_day, last_day=a.last_day,
        meetings=a.meetings,
    )  # fmt: skip


def staff_out(record: dict[str, Any]) -> StaffOut:
    absences = [Absence(first_day=f, last_day=t) for f, t in record["absences"]]
    hours = record["weekly_capacity_minutes"] / 60
    return StaffOut(**{**record, "absences": absences, "weekly_capacity_hours": hours})


def queue_item(row: QueueRow) -> QueueItem:
    c = row.case
    return QueueItem(
        place=row.place, case_id=c.id, programme=c.programme, priority=c.priority,
        acute=c.acute, first_contact_due=c.first_contact_due, received_at=c.received_at,
        overdue=c.overdue,
        first_contact=meeting_out(row.first_contact) if row.first_contact else None,
    )  # fmt: skip


def request_of(body: MeetingIn) -> MeetingRequest:
    return MeetingRequest(
        case_id=body.case_id, kind=body.kind, format=body.format, minutes=body.minutes,
        staff=tuple(body.staff), starts_at=body.starts_at, not_before=body.not_before,
        meeting_id=body.meeting_id,
    )  # fmt: skip


def record_of(staff_id: str, body: StaffChange) -> dict[str, Any]:
    """The roster record of a staff member (capacity in minutes, absences as date pairs)."""
    return {
        "staff_id": staff_id, "provider": body.provider, "programmes": body.programmes,
        "competences": body.competences,
        "weekly_capacity_minutes": round(body.weekly_capacity_hours * 60),
        "evenings": body.evenings, "weekends": body.weekends,
        "absences": [[a.first_day, a.last_day] for a in body.absences],
    }  # fmt: skip
