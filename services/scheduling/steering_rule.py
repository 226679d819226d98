"""The steering group of coordinated support and network work (seed 002): the provider convenes
it at least three times a year. The rule that warns when the year's plan falls short or the
year runs out of time for the meetings still missing.

The rule (:func:`outlook`) is a pure function of the year, the Stockholm date, the meetings
(:class:`~services.scheduling.steering.SteeringMeeting`'s, as :class:`Planned`) and the
contract's term:

* **who must attend**: the group consists of "representanter från socialförvaltningen,
  utbildningsförvaltningen samt Råd och stöd" (002, twice). A held meeting counts toward the
  year's meetings only when all three took part (``social_services``, ``education``,
  ``provider``); others may be invited (002: "Jobb och kunskapstorget eller andra"). A meeting
  held without one of the three is *incomplete*: recorded, shown, never counted.
* **the part of the year a contract covers**: only the days of the year inside the contract's
  term are judged (:class:`Term`; 002: 2018-09-01 to 2021-08-31, extended by three years at a
  time). The meetings required are ``3 * covered months / 12`` rounded to the nearest whole
  meeting, a half up (:func:`required`): a month counts whole when the term covers all of it,
  else by its days covered over its days. So 2018 (September to December) requires 1, a term
  ending 2021-08-31 requires 2 that year, a whole year 3, a term of one month none, of two
  months 1. Rounding up would demand a meeting for a term that covers a single day of a year;
  rounding down would let four months pass with none. A year the term does not touch requires
  nothing (``no_term``).
* a meeting counts for the year of its Stockholm date, inside the covered days; held ones (with
  the three) count as *held*; planned ones dated today or later count as *planned*; planned
  ones whose day passed without being recorded held count as neither (*unrecorded*: a person
  must record or cancel them);
* ``missing`` = required minus held minus planned (never below 0);
* ``met`` when the required number was held; ``on_track`` when held and planned reach it;
  otherwise the plan falls short: ``short`` while there is still time, ``too_late`` when the
  business days left in the covered part after today cannot give the notice a meeting needs
  (:data:`NOTICE_BUSINESS_DAYS`) and one business day for each missing meeting; after the
  covered part's last day, ``fell_short``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from functools import cache
from typing import Literal

from infra.calendar import DEFAULT_CALENDAR, CalendarPolicy, is_business_day
from infra.contract_names import seed
from infra.months import end_of_month
from infra.words import counted

#: At least three meetings a year (seed 002: "vid minst 3 tillfällen per år").
MINIMUM_PER_YEAR = 3
#: The contract that asks for the meetings, in words.
CONTRACT = seed("002")
#: Business days of notice to convene representatives of three administrations (two weeks).
NOTICE_BUSINESS_DAYS = 10
#: The three organisations the steering group consists of (002).
MEMBERS: frozenset[str] = frozenset({"social_services", "education", "provider"})
Level = Literal["met", "on_track", "short", "too_late", "fell_short", "no_term"]
Status = Literal["planned", "held", "cancelled"]
WARNINGS: frozenset[str] = frozenset({"short", "too_late", "fell_short"})


@dataclass(frozen=True)
class Term:
    """The days the contract runs (inclusive); ``last_day`` None: until further notice."""

    first_day: date
    last_day: date | None = None

    def __post_init__(self) -> None:
        if self.last_day is not None and self.last_day < self.first_day:
            raise ValueError("a contract term ends on or after the day it starts")

    def within(self, year: int) -> tuple[date, date] | None:
        """The first and last day of ``year`` the term covers, or None."""
        first = max(self.first_day, date(year, 1, 1))
        last = min(self.last_day or date(year, 12, 31), date(year, 12, 31))
        return (first, last) if first <= last else None


#: Seed 002's term, from 2018-09-01; it ran to 2021-08-31 unless extended, and the
#: administration extended it (billing records each extension): set the end when it ends.
DEFAULT_TERM = Term(date(2018, 9, 1))


@cache
def covered_months(year: int, term: Term) -> Fraction:
    """The months of ``year`` the term covers, a partly covered month by its share of days."""
    span = term.within(year)
    if span is None:
        return Fraction(0)
    months = Fraction(0)
    for month in range(span[0].month, span[1].month + 1):
        first = date(year, month, 1)
        last = end_of_month(first)
        days = (min(span[1], last) - max(span[0], first)).days + 1
        months += Fraction(days, last.day)
    return months


@cache
def required(year: int, term: Term) -> int:
    """The meetings ``year`` requires: 3 * covered months / 12, to the nearest, a half up."""
    exact = MINIMUM_PER_YEAR * covered_months(year, term) / 12
    return int(exact + Fraction(1, 2))


@dataclass(frozen=True)
class Planned:
    """A steering meeting as the rule sees it: its Stockholm date, where it stands and, once
    held, who took part."""

    day: date
    status: Status
    organisations: frozenset[str] = frozenset()

    @property
    def counts(self) -> bool:
        return self.status == "held" and self.organisations >= MEMBERS


@dataclass(frozen=True)
class Outlook:
    year: int
    held: int
    planned: int
    unrecorded: int
    missing: int
    business_days_left: int
    level: Level
    #: The meetings the covered part of the year requires (3 for a whole year).
    required: int = MINIMUM_PER_YEAR
    #: Held without all three organisations of 002: not counted.
    incomplete: int = 0
    covered: tuple[date, date] | None = None

    @property
    def warning(self) -> bool:
        return self.level in WARNINGS

    def message(self) -> str:
        """The year in words, naming the contract that asks for the meetings and, when the
        plan falls short, what to do."""
        head = f"steering group {self.year}"
        if self.level == "no_term":
            return f"{head}: no contract term covers the year; no meetings required"
        share = self._share()
        counts = f"{self.held} held, {self.planned} planned"
        note = ""
        if self.incomplete:
            note += (
                f" ({self.incomplete} held without social services, education and the provider "
                "all present: not counted)"
            )
        if self.unrecorded:
            past = counted(self.unrecorded, "past meeting")
            note += f" ({past} not recorded held or cancelled: record them)"
        if self.level == "met":
            return f"{head}: {counts}; at least {self.required} met{share}{note}"
        if self.level == "on_track":
            return f"{head}: {counts}; the plan reaches {self.required}{share}{note}"
        if self.level == "fell_short":
            return (
                f"{head}: only {self.held} held, fewer than the {self.required} that {CONTRACT} "
                f"asks for{share}{note}; explain why in the year's activity report to the "
                "administration"
            )
        text = f"{head}: {counts}; {self.missing} more needed"
        if self.level == "too_late":
            text += (
                f", but only {self.business_days_left} business days are left and a meeting "
                f"needs {NOTICE_BUSINESS_DAYS} days' notice: tell the administration that "
                f"{CONTRACT}'s {self.required} meetings will not be reached"
            )
        else:
            text += (
                f" to reach the {self.required} that {CONTRACT} asks for: plan them "
                "(POST /steering-group/meetings on scheduling)"
            )
        return text + share + note

    def _share(self) -> str:
        """The part of the year judged, when the contract does not cover all of it."""
        whole = (date(self.year, 1, 1), date(self.year, 12, 31))
        if self.covered is None or self.covered == whole:
            return ""
        first, last = self.covered
        return f" (the contract covers {first} to {last}: {self.required} required)"


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
    term: Term = DEFAULT_TERM,
) -> Outlook:
    """Where the year's steering meetings stand on ``today`` (a Stockholm date)."""
    span = term.within(year)
    if span is None:
        return Outlook(year, 0, 0, 0, 0, 0, "no_term", required=0)
    first, end = span
    need = required(year, term)
    mine = [m for m in meetings if first <= m.day <= end]
    held = sum(1 for m in mine if m.counts)
    incomplete = sum(1 for m in mine if m.status == "held" and not m.counts)
    over = today > end
    ahead = 0 if over else sum(1 for m in mine if m.status == "planned" and m.day >= today)
    unrecorded = sum(1 for m in mine if m.status == "planned" and m.day < today)
    left = 0 if over else business_days_after(max(today, first - timedelta(days=1)), end, policy)
    missing = max(0, need - held - ahead)
    level = _level(held, need, missing, left, over)
    return Outlook(
        year, held, ahead, unrecorded, missing, left, level,
        required=need, incomplete=incomplete, covered=span,
    )  # fmt: skip


def _level(held: int, need: int, missing: int, left: int, over: bool) -> Level:
    if held >= need:
        return "met"
    if over:
        return "fell_short"
    if missing == 0:
        return "on_track"
    if left - NOTICE_BUSINESS_DAYS + 1 < missing:
        return "too_late"
    return "short"
