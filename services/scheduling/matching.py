"""Who meets a waiting case first, and when: a pure planner over the roster and the diaries.

The rules, in the order they apply (``docs/scheduling.md`` explains them):

1. **Match.** A staff member can take a case when they work in its programme and have every
   competence it needs: the programme's own (network work, SIP) and the case's recorded needs
   (violence in close relationships, children's needs, ...; 003 §2.6). A case nobody matches is
   not booked with a partial match; it is reported, and becomes overdue if that persists.
2. **In time first.** Cases are taken in queue order and offered the best time that starts on or
   before their due date. Only when every case that can be served in time has been, the others
   are booked late (``book_late``), so a case that is already late never takes the time a case
   still in time needs.
3. **Acute cases** get the earliest time any matching staff member has.
4. **Other cases are spread by load:** the staff member whose week (the week of the offered
   time) is least booked relative to their capacity, then the one with the fewest special
   competences the case does not need (keeping specialists free for cases that need them), then
   the earliest time. Counselling is thereby split between Leanlink and the other provider in
   proportion to the capacity each has on the roster (003 §2.3), and always by match.
5. A case that already had a provider (an earlier first contact the family cancelled) stays
   with that provider when it has a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Literal
from uuid import UUID

from infra.calendar import local_date
from services.scheduling.policy import BASE_COMPETENCES, SchedulingPolicy
from services.scheduling.timeplan import (
    Availability,
    Interval,
    StaffTime,
    Wishes,
    find_slot,
    week_of,
)


@dataclass(frozen=True)
class Member:
    """A staff member as the matching rules see them."""

    staff_id: str
    provider: str
    programmes: frozenset[str]
    competences: frozenset[str]
    weekly_capacity: int
    availability: Availability = field(default_factory=Availability)


@dataclass(frozen=True)
class Seeker:
    """A waiting case that needs a first contact."""

    case_id: UUID
    programme: str
    priority: int
    first_contact_due: date
    received_at: datetime
    needs: frozenset[str] = frozenset()
    wishes: Wishes = field(default_factory=Wishes)
    provider: str | None = None
    minutes: int = 60
    #: An acute case gets the earliest time any matching staff member has.
    acute: bool = False


@dataclass(frozen=True)
class Offer:
    case_id: UUID
    staff_id: str
    provider: str
    slot: Interval
    in_time: bool


Reason = Literal["no_matching_staff", "no_time_before_due", "no_time"]


@dataclass(frozen=True)
class NotOffered:
    case_id: UUID
    reason: Reason


def required(programme: str, needs: frozenset[str]) -> frozenset[str]:
    return BASE_COMPETENCES.get(programme, frozenset()) | needs


def matches(member: Member, programme: str, needs: frozenset[str]) -> bool:
    return programme in member.programmes and required(programme, needs) <= member.competences


def _load(time: StaffTime, slot: Interval) -> Fraction:
    week = week_of(local_date(slot.start))
    return Fraction(time.booked.get(week, 0), max(time.weekly_capacity, 1))


def _rank(
    seeker: Seeker, member: Member, time: StaffTime, slot: Interval, earliest: bool
) -> tuple[object, ...]:
    other_provider = seeker.provider is not None and member.provider != seeker.provider
    surplus = len(member.competences - required(seeker.programme, seeker.needs))
    load = _load(time, slot)
    if earliest:
        return (other_provider, slot.start, load, surplus, member.staff_id)
    return (other_provider, load, surplus, slot.start, member.staff_id)


def _with_booking(time: StaffTime, slot: Interval) -> StaffTime:
    week = week_of(local_date(slot.start))
    booked = dict(time.booked)
    booked[week] = booked.get(week, 0) + slot.minutes
    return replace(time, busy=(*time.busy, slot), booked=booked)


def plan_first_contacts(
    seekers: Sequence[Seeker],
    staff: Sequence[Member],
    diaries: Mapping[str, StaffTime],
    now: datetime,
    policy: SchedulingPolicy,
) -> list[Offer | NotOffered]:
    """One outcome per seeker (in the given queue order), by the rules of the module docstring.

    ``diaries`` holds each staff member's bookings (their availability is taken from ``staff``);
    the offers made here are added to a copy as the plan goes, so no two offers overlap.
    """
    times = {
        m.staff_id: replace(diaries.get(m.staff_id, StaffTime(m.availability)),
                            availability=m.availability, weekly_capacity=m.weekly_capacity)
        for m in staff
    }  # fmt: skip
    outcome: dict[UUID, Offer | NotOffered] = {}
    late: list[Seeker] = []
    for seeker in seekers:
        offer = _best(seeker, staff, times, now, policy, late=False)
        if isinstance(offer, Offer):
            outcome[seeker.case_id] = offer
            times[offer.staff_id] = _with_booking(times[offer.staff_id], offer.slot)
        elif offer == "no_matching_staff" or not policy.book_late:
            outcome[seeker.case_id] = NotOffered(seeker.case_id, offer)
        else:
            late.append(seeker)
    for seeker in late:
        offer = _best(seeker, staff, times, now, policy, late=True)
        if isinstance(offer, Offer):
            outcome[seeker.case_id] = offer
            times[offer.staff_id] = _with_booking(times[offer.staff_id], offer.slot)
        else:
            outcome[seeker.case_id] = NotOffered(seeker.case_id, "no_time")
    return [outcome[s.case_id] for s in seekers]


def _best(
    seeker: Seeker,
    staff: Sequence[Member],
    times: Mapping[str, StaffTime],
    now: datetime,
    policy: SchedulingPolicy,
    late: bool,
) -> Offer | Reason:
    candidates = [m for m in staff if matches(m, seeker.programme, seeker.needs)]
    if not candidates:
        return "no_matching_staff"
    not_before = max(now + policy.notice, seeker.received_at)
    last_day = seeker.first_contact_due
    if late:
        start = max(last_day, local_date(not_before))
        last_day = start + timedelta(days=policy.late_search_days)
    best: tuple[tuple[object, ...], Member, Interval] | None = None
    for member in candidates:
        time = times[member.staff_id]
        slot = find_slot(
            [time], seeker.wishes, False, seeker.minutes, not_before, last_day, policy.working_time
        )
        if slot is None:
            continue
        rank = _rank(seeker, member, time, slot, earliest=late or seeker.acute)
        if best is None or rank < best[0]:
            best = (rank, member, slot)
    if best is None:
        return "no_time_before_due"
    _, member, slot = best
    in_time = local_date(slot.start) <= seeker.first_contact_due
    return Offer(seeker.case_id, member.staff_id, member.provider, slot, in_time)
