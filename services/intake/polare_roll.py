"""How many polare a school year has at once (seed 004: "Uppdraget består av att läsårsvis
rekrytera, utbilda och arbetsleda 20 ungdomar").

The 20 is the number field work recruits and leads **per school year** (läsår, 1 July to 30
June, :mod:`infra.schoolyear`), so it bounds the polare **active at the same time** in a school
year, not everyone ever enrolled in it: a polar who drops out leaves a place that a replacement
may take from the day they left. A polar is active in a school year from the day they were
enrolled for it until the day they left it (that day no longer counts).

Pure: the periods in, the answer out; :mod:`services.intake.polare` and
:mod:`services.intake.polare_leave` read the periods from the register.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

#: Seed 004: "läsårsvis rekrytera, utbilda och arbetsleda 20 ungdomar".
AT_ONCE = 20


@dataclass(frozen=True)
class Period:
    """A polar's time in one school year: from ``start`` (enrolled) until ``end`` (left; not
    active that day), or to the end of the school year when ``end`` is None."""

    start: date
    end: date | None = None

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


def active_on(periods: Iterable[Period], day: date) -> int:
    """How many polare are active on ``day``."""
    return sum(p.active_on(day) for p in periods)


def busiest_from(periods: Iterable[Period], day: date) -> tuple[int, date]:
    """The most polare active at once on any day from ``day`` on, and the first such day.

    The count only rises on a day someone starts, so ``day`` and the later starts are the
    days to look at."""
    every = list(periods)
    days = sorted({day, *(p.start for p in every if p.start > day)})
    best, when = -1, day
    for candidate in days:
        count = active_on(every, candidate)
        if count > best:
            best, when = count, candidate
    return best, when


def room_from(periods: Iterable[Period], day: date, limit: int = AT_ONCE) -> tuple[bool, int, date]:
    """Whether one more polar, active from ``day`` on, keeps every day at ``limit`` or fewer;
    with the busiest count it meets and the first day of it (what a refusal says)."""
    busiest, when = busiest_from(periods, day)
    return busiest < limit, busiest, when


def full_message(school_year: str, busiest: int, when: date, limit: int = AT_ONCE) -> str:
    """Why an enrolment is refused, in words, with no personal data."""
    return (
        f"school year {school_year} has {busiest} active polare on {when}, the most it may have "
        f"at once ({limit}: seed 004 recruits 20 youths per school year); a replacement can be "
        "enrolled from the day a polar left, once that is recorded (POST /polare/{polar_ref}"
        "/leave, or lots polare leave)"
    )
