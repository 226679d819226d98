"""What becomes of a booked meeting: moved, cancelled, missed or held.

A meeting can be moved or cancelled until it begins, and recorded missed (a no-show) or held
once it has begun; whatever happens to it, its history stays in its events. Cancelling frees the
staff's time; a no-show or a held meeting keeps it (the time was spent). A meeting is recorded
held on the day it was booked for: if it took place on another day, it is moved first, so the
history shows the move. A staff member holds one meeting at a time: a held record overlapping
another of theirs is refused, and a booking a longer meeting ran into is recorded as started
late (:mod:`services.scheduling.held`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from infra.calendar import STOCKHOLM, local_date
from services.scheduling.booking import check_minutes, kind_rule
from services.scheduling.desk import Desk
from services.scheduling.domain import WaitingCase
from services.scheduling.domain_meeting import Meeting
from services.scheduling.errors import Conflict, Invalid, MeetingClosed
from services.scheduling.held import check_one_at_a_time, note_held
from services.scheduling.timeplan import Interval

#: Longer than any working window: a meeting recorded longer than this is a typing error.
LONGEST_MEETING = timedelta(hours=12)
#: Who may cancel or move a meeting (the contract's ``cancelled_by``/``requested_by``).
PARTIES = ("family", "provider", "administration")


def _check_party(by: str, reason: str) -> None:
    # Checked here, not only over HTTP: a stored event the contract refuses would stop the relay.
    if by not in PARTIES:
        raise Invalid(f"a meeting is moved or cancelled by {', '.join(PARTIES)}")
    if not reason.strip() or len(reason) > 500:
        raise Invalid("give the reason in 1 to 500 characters")


def _not_begun(desk: Desk, meeting: Meeting, what: str) -> None:
    meeting.check_open()
    if desk.now >= meeting.starts_at:
        raise Conflict(f"the meeting has begun and cannot be {what}: record it held or missed")


def reschedule(
    desk: Desk,
    meeting_id: UUID,
    by: str,
    reason: str,
    starts_at: datetime | None = None,
    not_before: datetime | None = None,
    staff: tuple[str, ...] = (),
) -> Meeting:
    """Move a meeting to ``starts_at`` or the earliest free time, same length, keeping history."""
    _check_party(by, reason)
    meeting = desk.meeting(meeting_id)
    _not_begun(desk, meeting, "moved")
    subject = desk.subject(meeting.case_id)
    staff = staff or tuple(meeting.staff)
    provider = desk.check_staff(subject, staff)
    if provider != meeting.provider:
        raise Conflict(f"the meeting is with {meeting.provider}; cancel it to change provider")
    minutes = Interval(meeting.starts_at, meeting.ends_at).minutes
    rule = kind_rule(subject, meeting.kind)
    check_minutes(rule, meeting.kind, minutes, desk.policy.working_time.step_minutes)
    desk.release(meeting)  # its own old time must not stand in its way
    slot = desk.slot_for(subject, rule, staff, minutes, starts_at, not_before, meeting.id)
    desk.reserve(staff, meeting.id, slot)
    start, end = slot.start.astimezone(STOCKHOLM), slot.end.astimezone(STOCKHOLM)
    meeting.reschedule(start, end, list(staff), by, reason, desk.now)
    if isinstance(subject, WaitingCase):
        subject.note_moved(meeting.id, local_date(slot.start), by)
    return meeting


def cancel(
    desk: Desk, meeting_id: UUID, by: str, reason: str, causation_id: str | None = None
) -> Meeting:
    _check_party(by, reason)
    meeting = desk.meeting(meeting_id)
    if meeting.status == "cancelled" and meeting.outcome["cancelled_by"] == by:
        return meeting  # the same cancellation again
    _not_begun(desk, meeting, "cancelled")
    cancel_booked(desk, meeting, by, reason, causation_id)
    return meeting


def cancel_booked(
    desk: Desk, meeting: Meeting, by: str, reason: str, causation_id: str | None
) -> None:
    desk.release(meeting)
    meeting.cancel(by, reason, desk.now, causation_id)
    subject = desk.subject(meeting.case_id)
    if isinstance(subject, WaitingCase):
        subject.note_cancelled(meeting.id, by)


def record_no_show(desk: Desk, meeting_id: UUID) -> Meeting:
    meeting = desk.meeting(meeting_id)
    if meeting.status == "no_show":
        return meeting
    meeting.check_open()
    if desk.now < meeting.starts_at:
        raise Conflict("a meeting can be recorded missed only once it has begun")
    meeting.miss(desk.now)
    subject = desk.subject(meeting.case_id)
    if isinstance(subject, WaitingCase):
        subject.note_missed(meeting.id)
    return meeting


def record_held(
    desk: Desk,
    meeting_id: UUID,
    started_at: datetime,
    ended_at: datetime,
    participants: int,
    client_visits: int | None = None,
    staff: tuple[str, ...] = (),
) -> Meeting:
    """Record the meeting held, with its actual times, participants and fee-carrying visits.

    Client fees exist only in counselling (003 §2.3: 200 SEK per visit): by default a
    conversation is one visit, and every participant of a group session is one.
    """
    meeting = desk.meeting(meeting_id)
    staff = staff or tuple(meeting.staff)
    if client_visits is None:
        client_visits = 0
        if meeting.programme == "counselling":
            client_visits = participants if meeting.format == "group" else 1
    if meeting.status == "held":
        same = dict(meeting.outcome, recorded_at=None) == {
            "started_at": started_at, "ended_at": ended_at, "participants": participants,
            "client_visits": client_visits, "staff": list(staff), "recorded_at": None,
        }  # fmt: skip
        if same:
            return meeting  # the same record again (a retry)
        raise MeetingClosed(f"meeting {meeting.id} was already recorded held")
    meeting.check_open()
    if not started_at < ended_at <= started_at + LONGEST_MEETING:
        raise Invalid("a held meeting ends after it starts, and within 12 hours")
    if ended_at > desk.now:
        raise Invalid("a meeting can be recorded held only once it has ended")
    if local_date(started_at) != local_date(meeting.starts_at):
        raise Invalid(
            f"the meeting was booked for {local_date(meeting.starts_at)}; "
            "reschedule it first if it took place on another day"
        )
    if participants < 1 or not 0 <= client_visits <= participants:
        raise Invalid("a held meeting has participants, and at most one client visit each")
    if client_visits and meeting.programme != "counselling":
        raise Invalid("client fees are charged in counselling only; client_visits must be 0")
    # Whoever actually held it is recorded as it happened (a substitute may lack a competence),
    # but within the meeting's provider, which billing charges it to.
    if desk.check_roster(meeting.programme, staff) != meeting.provider:
        raise Invalid(
            f"the meeting is {meeting.provider}'s; its staff come from {meeting.provider}"
        )
    span = Interval(started_at, ended_at)
    check_one_at_a_time(desk, meeting, staff, span)
    subject = desk.subject(meeting.case_id)
    meeting.hold(started_at, ended_at, participants, client_visits, list(staff), desk.now)
    note_held(desk, meeting, staff, span)
    if isinstance(subject, WaitingCase):
        subject.note_held(meeting.id, started_at)
    return meeting
