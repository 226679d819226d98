"""A polar dropping out of a school year, and the school year's places (seed 004).

Field work recruits 20 youths per school year ("läsårsvis rekrytera ... 20 ungdomar"): when one
drops out, recording it frees their place from that day, and a replacement may be enrolled
(:mod:`services.intake.polare_roll`). The rules, each refused with a code and a sentence that
names no person:

* the day they left is in the school year, not in the future (``invalid_school_year``,
  ``in_the_future``, 422) and not before they were enrolled for it (``before_enrolment``, 422);
* they are enrolled for that school year (``not_enrolled``, 409) and left it once: the same
  day again changes nothing, another day is ``already_left`` (409);
* they walked no attested night walk on or after that day (``walked_after_leaving``, 409):
  fees paid for a walk stay true, so the register cannot say they had left before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from infra.calendar import local_date
from infra.schoolyear import SchoolYearError, parse, school_year_of
from infra.unit_of_work import UnitOfWork
from services.intake.polare import (
    Polar,
    PolareError,
    PolareYear,
    UnknownPolar,
    WalkAttestation,
    polar_in,
    roll_periods,
)
from services.intake.polare_ports import Register
from services.intake.polare_roll import AT_ONCE, Period, active_on


@dataclass(frozen=True)
class Departure:
    polar: Polar
    school_year: str
    left_on: date
    #: Polare active on ``left_on`` once this one left.
    active: int
    #: False when the same leave was recorded before (nothing changed).
    new: bool


def _school_year(day: date, school_year: str | None) -> str:
    year = school_year or school_year_of(day)
    try:
        first, last = parse(year)
    except SchoolYearError as exc:
        raise PolareError("invalid_school_year", str(exc)) from exc
    if not first <= day <= last:
        raise PolareError(
            "invalid_school_year", f"{day} is not in school year {year} ({first}..{last})"
        )
    return year


def leave(
    app: Register,
    polar_ref: UUID,
    left_on: date,
    recorded_by: str,
    school_year: str | None = None,
) -> Departure:
    """Record that the polar left ``school_year`` (default: that of ``left_on``) on
    ``left_on``: from that day they are not active and their place is free."""
    today = local_date(app.clock())
    if left_on > today:
        raise PolareError("in_the_future", f"{left_on} is after today ({today})")
    year = _school_year(left_on, school_year)
    return app.transact(  # another instance may change the polar meanwhile
        lambda uow: _leave(app, uow, polar_ref, left_on, recorded_by, year),
        busy=lambda: PolareError("busy", "the register kept changing; send it again"),
    )


def _leave(
    app: Register, uow: UnitOfWork, ref: UUID, left_on: date, recorded_by: str, year: str
) -> Departure:
    polar = polar_in(uow, ref)
    if polar is None:
        raise UnknownPolar(ref)
    if year not in polar.school_years:
        raise PolareError("not_enrolled", f"polar {ref} is not enrolled for school year {year}")
    roll = uow.get(PolareYear.create_id(year), PolareYear)
    periods = roll_periods(uow, roll) if roll is not None else []
    if year in polar.left:
        if polar.left[year] != left_on:
            raise PolareError(
                "already_left", f"polar {ref} left school year {year} on {polar.left[year]}"
            )
        return Departure(polar, year, left_on, active_on(periods, left_on), new=False)
    if left_on < polar.enrolled[year]:
        raise PolareError(
            "before_enrolment",
            f"{left_on} is before polar {ref} was enrolled for {year} ({polar.enrolled[year]})",
        )
    walked = last_walk(app, ref, year)
    if walked is not None and walked >= left_on:
        raise PolareError(
            "walked_after_leaving",
            f"polar {ref} walked a night walk on {walked} (attested); the day they left must "
            "come after it",
        )
    active = active_on(periods, left_on) - 1  # this polar was active that day until now
    polar.leave(year, left_on, active, recorded_by, app.clock())
    return Departure(polar, year, left_on, active, new=True)


def last_walk(app: Register, polar_ref: UUID, school_year: str) -> date | None:
    """The last night walk in ``school_year`` for which intake attested the polar."""
    topic = get_topic(WalkAttestation.Attested)  # type: ignore[attr-defined]
    ref, position, latest = str(polar_ref), 0, None
    while True:
        notes = app.recorder.select_notifications(start=position + 1, limit=1000, topics=[topic])
        for note in notes:
            walk: Any = app.mapper.to_domain_event(note)
            if school_year_of(walk.walked_on) == school_year and any(
                a["polar_ref"] == ref for a in walk.attested
            ):
                latest = walk.walked_on if latest is None else max(latest, walk.walked_on)
        if len(notes) < 1000:
            return latest
        position = notes[-1].id


def places(app: Register, school_year: str, on: date | None = None) -> dict[str, Any]:
    """The school year's places on ``on`` (default: today, or the school year's nearest day):
    active, free of the 20, everyone enrolled (replacements included) and those who left."""
    try:
        first, last = parse(school_year)
    except SchoolYearError as exc:
        raise PolareError("invalid_school_year", str(exc)) from exc
    day = on or min(max(local_date(app.clock()), first), last)
    if not first <= day <= last:
        raise PolareError(
            "invalid_school_year", f"{day} is not in school year {school_year} ({first}..{last})"
        )

    def read(uow: UnitOfWork) -> list[Period]:
        roll = uow.get(PolareYear.create_id(school_year), PolareYear)
        return roll_periods(uow, roll) if roll is not None else []

    periods = app.locked(read)
    active = active_on(periods, day)
    return {
        "school_year": school_year,
        "on": day.isoformat(),
        "at_once": AT_ONCE,
        "active": active,
        "free": max(AT_ONCE - active, 0),
        "enrolled": len(periods),
        "left": sum(p.end is not None and p.end <= day for p in periods),
    }
