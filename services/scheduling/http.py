"""Scheduling's commands and queries over HTTP (FastAPI; OpenAPI at ``/docs``).

Endpoints are plain functions, which FastAPI runs in a worker thread: the application is
synchronous and takes its own lock. A command that breaks a rule is answered 404, 409 or 422
with a sentence saying what was wrong; a malformed body is answered 422 by FastAPI's validation.
Every route needs a staff token; auditors may read cases, meetings and field activities.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, cast
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Security

from events.types import Programme
from infra.access import looked_over_http
from infra.application import ServiceApplication
from infra.auth import READ, STAFF, Role, guard
from infra.runtime import Runtime
from infra.tokens import Principal
from services.scheduling import fieldwork_http
from services.scheduling.application import Scheduling
from services.scheduling.domain import FieldActivity, WaitingCase
from services.scheduling.http_edge import ERRORS, run
from services.scheduling.resources import (
    BookingOut,
    CancelIn,
    CaseOut,
    ExtendIn,
    FieldIn,
    FieldOut,
    FirstContactsIn,
    HeldIn,
    MeetingIn,
    MeetingOut,
    PlaceOut,
    PlanIn,
    QueueItem,
    RescheduleIn,
    StaffChange,
    StaffIn,
    StaffOut,
    WaitOut,
    WishesIn,
    case_out,
    field_out,
    meeting_out,
    queue_item,
    record_of,
    request_of,
    staff_out,
)
from services.scheduling.steering_http import steering_router

# Who may call a route (docs/security.md): staff work the schedule; auditors read its records.


def routers(service: ServiceApplication, _: Runtime | None = None) -> list[APIRouter]:
    """The scheduling routes, for :func:`infra.service.serve`."""
    app = cast(Scheduling, service)
    return [
        _staff(app), _queue(app), _queue_bookings(app), _meetings(app), _field(app),
        steering_router(app), fieldwork_http.router_for(app),
    ]  # fmt: skip


def _staff(app: Scheduling) -> APIRouter:
    r = APIRouter(prefix="/staff", tags=["staff"], responses=ERRORS)

    @r.get("", dependencies=STAFF)
    def roster() -> list[StaffOut]:
        """The roster: every staff member's provider, programmes, competences and time."""
        return [staff_out(record) for record in app.roster()]

    @r.post("", status_code=201, dependencies=STAFF)
    def register(body: StaffIn) -> StaffOut:
        """Put a staff member on the roster (sending the same record again changes nothing)."""
        return staff_out(run(lambda: app.register_staff(record_of(body.staff_id, body))))

    @r.put("/{staff_id}", dependencies=STAFF)
    def change(staff_id: str, body: StaffChange) -> StaffOut:
        """Replace a staff member's record. Absences must not cover booked meetings;
        capacity 0 takes them off new bookings (how a departure is recorded)."""
        return staff_out(run(lambda: app.change_staff(record_of(staff_id, body))))

    @r.get("/{staff_id}/meetings", dependencies=STAFF)
    def meetings(staff_id: str, first: date, last: date) -> list[MeetingOut]:
        """The meetings booked in a staff member's time between two dates (inclusive)."""
        if (last - first).days > 366:
            raise HTTPException(422, detail="ask for at most a year at a time")
        return [meeting_out(m) for m in run(lambda: app.staff_meetings(staff_id, first, last))]

    return r


def _queue(app: Scheduling) -> APIRouter:
    """The queue, a case's place in it, and the case itself."""
    r = APIRouter(tags=["queue"], responses=ERRORS)

    @r.get("/queue", dependencies=STAFF)
    def queue(programme: Programme | None = None) -> list[QueueItem]:
        """The waiting cases, first served first: by priority (the programme's order), acute
        first within a priority, then due date."""
        return [queue_item(row) for row in app.queue(programme)]

    @r.get("/queue/{case_id}", dependencies=STAFF)
    def place(case_id: UUID) -> PlaceOut:
        """A case's place in the queue, overall and within its programme."""
        case = run(lambda: app.subject(case_id))
        if not isinstance(case, WaitingCase):
            raise HTTPException(404, detail=f"{case_id} is a field activity, not a case")
        everyone, own = app.queue(), app.queue(case.programme)
        at = next((row.place for row in everyone if row.case.id == case_id), None)
        within = next((row.place for row in own if row.case.id == case_id), None)
        return PlaceOut(
            case_id=case_id, in_queue=at is not None, place=at, of=len(everyone),
            programme_place=within, programme_of=len(own),
        )  # fmt: skip

    @r.get("/cases/{case_id}")
    def case(
        case_id: UUID,
        caller: Annotated[Principal, Security(guard(Role.STAFF, Role.AUDITOR))],
        reason: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> CaseOut:
        """A case: its needs and wishes, status, and every meeting with its history. An
        auditor's read is recorded in the access log (``lots audit access``), with the
        ``reason`` given, if any."""
        found = run(lambda: app.subject(case_id))
        if not isinstance(found, WaitingCase):
            raise HTTPException(404, detail=f"{case_id} is a field activity, not a case")
        shown = case_out(found, app.meetings_of(case_id))
        if caller.role is Role.AUDITOR:
            looked_over_http(app, case_id, caller, reason, "scheduling", app.clock())
        return shown

    @r.put("/cases/{case_id}/wishes", dependencies=STAFF)
    def wishes(case_id: UUID, body: WishesIn) -> CaseOut:
        """Record the competences a case needs and whether the family asks for evening or
        weekend times."""
        found = run(lambda: app.record_wishes(case_id, body.needs, body.evenings, body.weekends))
        return case_out(found, app.meetings_of(case_id))

    return r


def _queue_bookings(app: Scheduling) -> APIRouter:
    """Booking from the queue, and the waits it is judged by."""
    r = APIRouter(tags=["queue"], responses=ERRORS)

    @r.post("/bookings/first-contacts", dependencies=STAFF)
    def first_contacts(body: FirstContactsIn) -> BookingOut:
        """Book the first contact of the next waiting cases, in queue order, by their due date
        where the roster allows (matching competences, spreading load between providers)."""
        result = run(lambda: app.book_first_contacts(body.limit, body.programme))
        return BookingOut(
            booked=[meeting_out(m) for m in result.booked],
            not_booked=[{"case_id": str(n.case_id), "reason": n.reason} for n in result.not_booked],
        )

    @r.post("/cases/{case_id}/network-plan", status_code=201, dependencies=STAFF)
    def plan(case_id: UUID, body: PlanIn) -> list[MeetingOut]:
        """Book network work's plan (about 13 hours with the first contact), all or nothing."""
        booked = run(lambda: app.book_network_plan(case_id, body.staff, body.not_before))
        return [meeting_out(m) for m in booked]

    @r.get("/wait-times", dependencies=STAFF)
    def wait_times() -> list[WaitOut]:
        """Per programme, the median wait judged today against the report threshold."""
        policy = app.policy
        return [
            WaitOut(
                programme=programme,
                median_wait_days=median,
                sample_size=size,
                threshold_days=policy.wait_threshold_days,
                window_days=policy.wait_window_days,
                above_threshold=median is not None and median > policy.wait_threshold_days,
            )
            for programme, (median, size) in app.wait_times().items()
        ]

    return r


def _meetings(app: Scheduling) -> APIRouter:
    r = APIRouter(prefix="/meetings", tags=["meetings"], responses=ERRORS)

    @r.post("", status_code=201, dependencies=STAFF)
    def book(body: MeetingIn) -> MeetingOut:
        """Book a meeting of a kind the case's programme has, at a given time or the earliest
        free one. The first meeting booked for a waiting case is its first contact."""
        return meeting_out(run(lambda: app.book_meeting(request_of(body))))

    @r.get("/{meeting_id}", dependencies=READ)
    def meeting(meeting_id: UUID) -> MeetingOut:
        return meeting_out(run(lambda: app.meeting(meeting_id)))

    @r.post("/{meeting_id}/reschedule", dependencies=STAFF)
    def reschedule(meeting_id: UUID, body: RescheduleIn) -> MeetingOut:
        """Move a meeting that has not begun; the earlier time stays in its history."""
        when = {"starts_at": body.starts_at, "not_before": body.not_before}
        moved = run(
            lambda: app.reschedule(
                meeting_id, body.requested_by, body.reason, staff=tuple(body.staff), **when
            )
        )
        return meeting_out(moved)

    @r.post("/{meeting_id}/cancel", dependencies=STAFF)
    def cancel(meeting_id: UUID, body: CancelIn) -> MeetingOut:
        """Cancel a meeting that has not begun, saying by whom and why."""
        return meeting_out(run(lambda: app.cancel(meeting_id, body.cancelled_by, body.reason)))

    @r.post("/{meeting_id}/no-show", dependencies=STAFF)
    def no_show(meeting_id: UUID) -> MeetingOut:
        """Record that the family did not come (once the meeting has begun)."""
        return meeting_out(run(lambda: app.record_no_show(meeting_id)))

    @r.post("/{meeting_id}/held", dependencies=STAFF)
    def held(meeting_id: UUID, body: HeldIn) -> MeetingOut:
        """Record the meeting held: actual start and end, participants, fee-carrying visits."""
        fields = body.model_dump(exclude={"staff"})
        return meeting_out(
            run(lambda: app.record_held(meeting_id, staff=tuple(body.staff), **fields))
        )

    return r


def _field(app: Scheduling) -> APIRouter:
    r = APIRouter(prefix="/field-activities", tags=["field work"], responses=ERRORS)

    @r.post("", status_code=201, dependencies=STAFF)
    def open_activity(body: FieldIn) -> FieldOut:
        """Open field work's night walks in an area for 1 day to 12 weeks; book them with
        ``POST /meetings`` (kind ``night_walk``, ``case_id`` the activity's id)."""
        return field_out(
            run(lambda: app.open_field_activity(body.area, body.first_day, body.last_day))
        )

    @r.post("/{activity_id}/extend", dependencies=STAFF)
    def extend(activity_id: UUID, body: ExtendIn) -> FieldOut:
        return field_out(run(lambda: app.extend_field_activity(activity_id, body.last_day)))

    @r.get("/{activity_id}", dependencies=READ)
    def activity(activity_id: UUID) -> FieldOut:
        found = run(lambda: app.subject(activity_id))
        if not isinstance(found, FieldActivity):
            raise HTTPException(404, detail=f"{activity_id} is a case, not a field activity")
        return field_out(found)

    return r
