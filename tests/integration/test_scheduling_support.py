"""Helpers shared by scheduling's integration tests: a clock the test moves, the application on
a real SQLite store, referrals as intake publishes them, and roster records.

(Named like a test module only because scheduling's tests may add files under this pattern;
it holds no tests itself.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from events.codec import Envelope
from events.intake import CaseClosed, HouseholdMember, ReferralReceived
from infra.batches import Incoming
from infra.calendar import STOCKHOLM, add_calendar_days, local_date
from infra.settings import Settings
from services.intake.priority import DEFAULT_ORDERS, priority_of
from services.scheduling.app import build
from services.scheduling.application import Scheduling
from services.scheduling.domain_meeting import Meeting
from services.scheduling.policy import SchedulingPolicy
from services.scheduling.timeplan import Interval


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=STOCKHOLM)


@dataclass
class Clock:
    """The application's clock, moved by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def scheduling(
    settings: Settings, clock: Clock, policy: SchedulingPolicy | None = None
) -> Scheduling:
    return build(settings, clock=clock, policy=policy)


def staff(
    staff_id: str,
    provider: str = "leanlink",
    programmes: tuple[str, ...] = ("counselling",),
    competences: tuple[str, ...] = (),
    hours: float = 30,
    evenings: bool = False,
    weekends: bool = False,
    absences: tuple[tuple[date, date], ...] = (),
) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "provider": provider,
        "programmes": list(programmes),
        "competences": list(competences),
        "weekly_capacity_minutes": round(hours * 60),
        "evenings": evenings,
        "weekends": weekends,
        "absences": [[first, last] for first, last in absences],
    }


def referral(
    received_at: datetime,
    programme: str = "counselling",
    urgency: str = "normal",
    basis: str = "service",
    adults: int = 2,
    case_id: uuid.UUID | None = None,
) -> ReferralReceived:
    """A ReferralReceived as intake publishes it: due 14 calendar days after receipt, with the
    priority of the programme's default order."""
    priority = priority_of(DEFAULT_ORDERS[programme], basis, urgency)
    role = "partner" if programme == "counselling" else "guardian"
    household = [HouseholdMember(person_ref=uuid.uuid4(), role=role, age=40) for _ in range(adults)]
    if programme != "counselling":
        household.append(HouseholdMember(person_ref=uuid.uuid4(), role="child", age=9))
    return ReferralReceived(
        case_id=case_id or uuid.uuid4(),
        source="linkoping.test",
        referral_id=str(uuid.uuid4()),
        programme=programme,  # type: ignore[arg-type]
        basis=basis,  # type: ignore[arg-type]
        urgency=urgency,  # type: ignore[arg-type]
        priority=priority,
        received_at=received_at,
        first_contact_due=add_calendar_days(local_date(received_at), 14),
        household=household,
        consent=True,
    )


def deliver(app: Scheduling, *messages: ReferralReceived | CaseClosed) -> None:
    """Deliver intake's events as the runtime would (one batch, tracked exactly once)."""
    items = [
        Incoming(f"{n}-0", "intake.events", Envelope(m, uuid.uuid4()))
        for n, m in enumerate(messages)
    ]
    results = app.process("scheduling", items)
    assert all(error is None for error in results.values()), results


def overlapping(meetings: list[Meeting]) -> list[tuple[str, Meeting, Meeting]]:
    """Every pair of live-or-done meetings that share a staff member and overlap in time."""
    found = []
    kept = [m for m in meetings if m.status != "cancelled"]
    for i, a in enumerate(kept):
        for b in kept[i + 1 :]:
            shared = set(a.staff) & set(b.staff)
            if shared and Interval(a.starts_at, a.ends_at).overlaps(
                Interval(b.starts_at, b.ends_at)
            ):
                found.append((shared.pop(), a, b))
    return found


def all_meetings(app: Scheduling) -> list[Meeting]:
    topic = "services.scheduling.domain:Meeting.Booked"
    ids = {n.originator_id for n in app.recorder.select_notifications(1, 100_000, topics=[topic])}
    return [app.meeting(i) for i in ids]
