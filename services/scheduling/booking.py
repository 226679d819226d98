"""Booking: first contacts for the queue, single meetings, and network work's plan.

Each function runs inside one unit of work that the application saves in one transaction
(meetings, the cases they belong to and the staff weeks they reserve) and repeats from a fresh
read if another writer got there first. The rules that choose times are pure
(:mod:`~services.scheduling.matching`, :mod:`~services.scheduling.timeplan`); here they are
fed from the aggregates, and the aggregates check their own invariants again on the way in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from infra.calendar import STOCKHOLM, local_date
from services.scheduling.desk import Desk, Subject
from services.scheduling.domain import NAMESPACE, WaitingCase
from services.scheduling.domain_meeting import Meeting
from services.scheduling.errors import Conflict, Invalid, WrongKind
from services.scheduling.matching import NotOffered, Offer, Seeker, plan_first_contacts
from services.scheduling.policy import FIRST_CONTACT_KIND, KINDS, KindRule
from services.scheduling.queue import QueuedCase
from services.scheduling.timeplan import Wishes


@dataclass(frozen=True)
class MeetingRequest:
    """A later meeting (or a first contact agreed by phone): a time, or the earliest free one."""

    case_id: UUID
    kind: str
    format: str | None = None
    minutes: int | None = None
    staff: tuple[str, ...] = ()
    starts_at: datetime | None = None
    not_before: datetime | None = None
    meeting_id: UUID | None = None


@dataclass(frozen=True)
class BookingRun:
    booked: list[Meeting] = field(default_factory=list)
    not_booked: list[NotOffered] = field(default_factory=list)


def first_contact_id(case: WaitingCase) -> UUID:
    """The same for the same attempt, so two instances booking one case cannot both succeed."""
    return uuid5(NAMESPACE, f"first-contact/{case.id}/{len(case.meetings)}")


def first_contact_format(rule: KindRule, adults: int) -> str:
    """A couple's conversation when two adults were referred together, else an individual one."""
    wanted = "couple" if adults >= 2 else "individual"
    return wanted if wanted in rule.formats else rule.formats[0]


def book_first_contacts(desk: Desk, queue: Sequence[QueuedCase], limit: int | None) -> BookingRun:
    """Book the first contact of the next ``limit`` (all) waiting cases without one."""
    cases: list[WaitingCase] = []
    for entry in queue:
        case = desk.uow.get(entry.case_id, WaitingCase)
        if case is not None and case.waiting and not case.live:
            cases.append(case)
            if limit is not None and len(cases) >= limit:
                break
    if not cases:
        return BookingRun()
    seekers = [
        Seeker(case.id, case.programme, case.priority, case.first_contact_due, case.received_at,
               frozenset(case.needs), Wishes(case.evenings, case.weekends), case.provider,
               desk.policy.first_contact_minutes, acute=case.acute)
        for case in cases
    ]  # fmt: skip
    roster = desk.roster()
    today = local_date(desk.now)
    last = max(c.first_contact_due for c in cases)
    last = max(last, today) + timedelta(days=desk.policy.late_search_days + 1)
    diaries = {m.staff_id: desk.staff_time(m.staff_id, today, last) for m in roster.members()}
    plan = plan_first_contacts(seekers, roster.members(), diaries, desk.now, desk.policy)
    run = BookingRun()
    by_id = {case.id: case for case in cases}
    for outcome in plan:
        if isinstance(outcome, Offer):
            case = by_id[outcome.case_id]
            kind = FIRST_CONTACT_KIND.get(case.programme, "coordination")
            fmt = first_contact_format(KINDS[case.programme][kind], case.adults)
            meeting_id = first_contact_id(case)
            run.booked.append(
                desk.book(case, kind, fmt, [outcome.staff_id], outcome.slot, meeting_id,
                          outcome.provider)
            )  # fmt: skip
        else:
            run.not_booked.append(outcome)
    return run


def kind_rule(subject: Subject, kind: str) -> KindRule:
    rules = KINDS[subject.programme]
    if kind not in rules:
        raise WrongKind(f"{subject.programme} books {', '.join(rules)}, not {kind}")
    return rules[kind]


def check_minutes(rule: KindRule, kind: str, minutes: int, step: int) -> None:
    if not rule.min_minutes <= minutes <= rule.max_minutes or minutes % step:
        raise Invalid(
            f"a {kind} lasts {rule.min_minutes}-{rule.max_minutes} minutes "
            f"in steps of {step}; got {minutes}"
        )


def book_meeting(desk: Desk, request: MeetingRequest) -> Meeting:
    subject = desk.subject(request.case_id)
    if isinstance(subject, WaitingCase) and subject.closed_at is not None:
        raise Conflict(f"case {subject.id} is closed")
    rule = kind_rule(subject, request.kind)
    fmt = request.format or rule.formats[0]
    if fmt not in rule.formats:
        raise WrongKind(f"a {request.kind} is held as {' or '.join(rule.formats)}, not {fmt}")
    minutes = request.minutes or rule.default_minutes
    check_minutes(rule, request.kind, minutes, desk.policy.working_time.step_minutes)
    staff = request.staff or tuple(getattr(subject, "staff", ()))
    provider = desk.check_staff(subject, staff)
    meeting_id = request.meeting_id or uuid4()
    existing = desk.uow.get(meeting_id, Aggregate)
    if isinstance(existing, Meeting) and (existing.case_id, existing.kind) == (
        subject.id,
        request.kind,
    ):
        return existing  # the same request again (a retry): it was booked
    if existing is not None:
        raise Conflict(f"meeting id {meeting_id} is already in use")
    slot = desk.slot_for(subject, rule, staff, minutes, request.starts_at, request.not_before)
    return desk.book(subject, request.kind, fmt, staff, slot, meeting_id, provider)


def book_network_plan(
    desk: Desk, case_id: UUID, staff: Sequence[str], not_before: datetime | None
) -> list[Meeting]:
    """Book every step of network work's plan after the case's first contact, all or none."""
    case = desk.subject(case_id)
    if not isinstance(case, WaitingCase) or case.programme != "network":
        raise WrongKind("only network work has a plan of meetings")
    if case.closed_at is not None:
        raise Conflict(f"case {case.id} is closed")
    live = [desk.meeting(m) for m in case.live]
    if not live and case.first_held_at is None:
        raise Conflict("book the case's first contact before its plan")
    if len(live) > 1 or (case.first_held_at is not None and live):
        raise Conflict("the case already has later meetings; book single meetings instead")
    staff = tuple(staff) or tuple(case.staff)
    provider = desk.check_staff(case, staff)
    earliest = max(not_before or desk.now, desk.now + desk.policy.notice)
    earliest = max([earliest, *(m.ends_at for m in live)])
    booked: list[Meeting] = []
    for step in desk.policy.network_plan:
        if booked and step.gap_days:
            previous = local_date(booked[-1].starts_at) + timedelta(days=step.gap_days)
            earliest = max(earliest, datetime.combine(previous, datetime.min.time(), STOCKHOLM))
        rule = kind_rule(case, step.kind)
        try:
            slot = desk.slot_for(case, rule, staff, step.minutes, None, earliest)
        except Conflict as exc:
            raise Conflict(f"plan step {len(booked) + 1} ({step.kind}): {exc}") from None
        booked.append(desk.book(case, step.kind, rule.formats[0], staff, slot, uuid4(), provider))
        earliest = slot.end
    return booked
