"""The steering group of coordinated support and network work (seed 002): the provider convenes
it at least three times a year. Its meetings, and the rule that warns when the year's plan falls
short or the year runs out of time for the meetings still missing.

The rule (:func:`outlook`) is a pure function of the year, the Stockholm date and the meetings:

* a meeting counts for the year of its Stockholm date; held ones count as *held*; planned ones
  dated today or later count as *planned*; planned ones whose day passed without being recorded
  held count as neither (*unrecorded*: a person must record or cancel them);
* ``missing`` = at least 3 minus held minus planned (never below 0);
* ``met`` when 3 were held; ``on_track`` when held and planned reach 3; otherwise the plan falls
  short: ``short`` while there is still time, ``too_late`` when the business days left in the
  year after today cannot give the notice a meeting needs (:data:`NOTICE_BUSINESS_DAYS`) and one
  business day for each missing meeting; after 31 December, ``fell_short``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.calendar import DEFAULT_CALENDAR, CalendarPolicy, is_business_day, local_date

STEERING_NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/steering-group")
#: At least three meetings a year (seed 002: "vid minst 3 tillfällen per år").
MINIMUM_PER_YEAR = 3
#: Business days of notice to convene representatives of three administrations (two weeks).
NOTICE_BUSINESS_DAYS = 10
ORGANISATIONS = ("social_services", "education", "provider", "labour_market", "region", "other")
Level = Literal["met", "on_track", "short", "too_late", "fell_short"]
Status = Literal["planned", "held", "cancelled"]
WARNINGS: frozenset[str] = frozenset({"short", "too_late", "fell_short"})


@dataclass(frozen=True)
class Planned:
    """A steering meeting as the rule sees it: its Stockholm date and where it stands."""

    day: date
    status: Status


@dataclass(frozen=True)
class Outlook:
    year: int
    held: int
    planned: int
    unrecorded: int
    missing: int
    business_days_left: int
    level: Level

    @property
    def warning(self) -> bool:
        return self.level in WARNINGS

    def message(self) -> str:
        counts = f"{self.held} held, {self.planned} planned"
        if self.level == "met":
            return f"steering group {self.year}: {counts}; at least {MINIMUM_PER_YEAR} met"
        if self.level == "on_track":
            return f"steering group {self.year}: {counts}; the plan reaches {MINIMUM_PER_YEAR}"
        if self.level == "fell_short":
            return (
                f"steering group {self.year}: only {self.held} held, fewer than the "
                f"{MINIMUM_PER_YEAR} a year of seed 002"
            )
        text = f"steering group {self.year}: {counts}; {self.missing} more needed"
        if self.level == "too_late":
            text += (
                f", but only {self.business_days_left} business days are left and a meeting "
                f"needs {NOTICE_BUSINESS_DAYS} days' notice"
            )
        else:
            text += " to reach the 3 a year of seed 002: plan them"
        if self.unrecorded:
            text += f" ({self.unrecorded} past meeting(s) not recorded held or cancelled)"
        return text


@cache
def business_days_after(today: date, last: date, policy: CalendarPolicy) -> int:
    """Business days d with today < d <= last."""
    count, day = 0, today + timedelta(days=1)
    while day <= last:
        count += is_business_day(day, policy)
        day += timedelta(days=1)
    return count


def outlook(
    year: int,
    today: date,
    meetings: Iterable[Planned],
    policy: CalendarPolicy = DEFAULT_CALENDAR,
) -> Outlook:
    """Where the year's steering meetings stand on ``today`` (a Stockholm date)."""
    mine = [m for m in meetings if m.day.year == year]
    held = sum(1 for m in mine if m.status == "held")
    ahead = sum(1 for m in mine if m.status == "planned" and m.day >= today)
    unrecorded = sum(1 for m in mine if m.status == "planned" and m.day < today)
    end = date(year, 12, 31)
    if today > end:
        return Outlook(
            year,
            held,
            0,
            unrecorded,
            max(0, MINIMUM_PER_YEAR - held),
            0,
            "met" if held >= MINIMUM_PER_YEAR else "fell_short",
        )
    left = business_days_after(max(today, date(year, 1, 1) - timedelta(days=1)), end, policy)
    missing = max(0, MINIMUM_PER_YEAR - held - ahead)
    level: Level
    if held >= MINIMUM_PER_YEAR:
        level = "met"
    elif missing == 0:
        level = "on_track"
    elif left - NOTICE_BUSINESS_DAYS + 1 < missing:
        level = "too_late"
    else:
        level = "short"
    return Outlook(year, held, ahead, unrecorded, missing, left, level)


class SteeringError(Exception):
    """A steering-group command the rules refuse; the text says why."""


class SteeringStateError(SteeringError):
    """The meeting's state does not allow it (answered 409)."""


class SteeringMeeting(Aggregate):
    """One meeting of the steering group: planned, then held or cancelled."""

    @staticmethod
    def create_id(starts_at: datetime, **_: object) -> UUID:
        # One meeting per start time: convening the same meeting twice changes nothing.
        return uuid5(STEERING_NAMESPACE, starts_at.isoformat())

    @event("Planned")
    def __init__(
        self, starts_at: datetime, ends_at: datetime, planned_at: datetime, by: str
    ) -> None:
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.status = "planned"

    @property
    def day(self) -> date:
        return local_date(self.starts_at)

    def hold(
        self,
        started_at: datetime,
        ended_at: datetime,
        organisations: list[str],
        at: datetime,
        by: str,
    ) -> None:
        if self.status != "planned":
            raise SteeringStateError(f"the meeting was {self.status}; it cannot be held")
        if ended_at <= started_at:
            raise SteeringError("a meeting ends after it starts")
        if started_at > at:
            raise SteeringError("a meeting is recorded held once it took place")
        unknown = sorted(set(organisations) - set(ORGANISATIONS))
        if unknown:
            raise SteeringError(
                f"unknown organisation {unknown[0]!r}; known: {', '.join(ORGANISATIONS)}"
            )
        if "provider" not in organisations:
            raise SteeringError("the provider convenes the steering group and takes part in it")
        self._held(
            started_at=started_at,
            ended_at=ended_at,
            organisations=sorted(set(organisations)),
            at=at,
            by=by,
        )

    @event("Held")
    def _held(
        self,
        started_at: datetime,
        ended_at: datetime,
        organisations: list[str],
        at: datetime,
        by: str,
    ) -> None:
        self.status = "held"
        self.starts_at, self.ends_at = started_at, ended_at

    def cancel(self, at: datetime, by: str) -> None:
        if self.status != "planned":
            raise SteeringStateError(f"the meeting was {self.status}; it cannot be cancelled")
        self._cancelled(starts_at=self.starts_at, at=at, by=by)

    @event("Cancelled")
    def _cancelled(self, starts_at: datetime, at: datetime, by: str) -> None:
        self.status = "cancelled"

    def as_planned(self) -> Planned:
        status: Status = self.status  # type: ignore[assignment]
        return Planned(self.day, status)
