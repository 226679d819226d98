"""The polare register's commands and reads (seed 004): enrolling a polar for a school year,
recording a training, and the register without personal data (or, for intake's own use, with
it). The aggregates and the rules' refusals are :mod:`services.intake.polare`'s; the commands
are functions of :class:`~services.intake.polare_ports.Register`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from infra.calendar import local_date
from infra.pii import seal, unseal
from infra.schoolyear import SchoolYearError, parse, school_year_of
from infra.unit_of_work import UnitOfWork
from services.intake.polare import (
    MAX_AGE,
    MIN_AGE,
    PER_SCHOOL_YEAR,
    Polar,
    PolareError,
    PolarErased,
    PolareYear,
    UnknownPolar,
    polar_in,
    roll_periods,
)
from services.intake.polare_ports import Register
from services.intake.polare_roll import Period, active_on, full_message, room_from
from services.intake.rules import age_on, parse_personal_number


@dataclass(frozen=True)
class Enrolment:
    polar: Polar
    school_year: str
    #: False when the polar was already enrolled for the school year (nothing changed).
    new: bool


def polar_ref_of(app: Register, personal_number: str) -> UUID:
    return app.pseudonym(b"polar:" + personal_number.encode())


def enroll(
    app: Register,
    *,
    personal_number: str,
    name: str,
    enrolled_on: date,
    recorded_by: str,
    school_year: str | None = None,
    years_before: int = 0,
    limit: int = PER_SCHOOL_YEAR,
) -> Enrolment:
    """Recruit a polar (once) and enrol them for a school year; the same again changes
    nothing. Refused: an invalid personal number, an age outside 13-25 on ``enrolled_on``, a
    date in the future or outside the school year, a full school year, an erased polar."""
    today = local_date(app.clock())
    parsed = parse_personal_number(personal_number, enrolled_on)
    if isinstance(parsed, str):
        raise PolareError("invalid_personal_number", f"the personal number is invalid ({parsed})")
    digits, birth = parsed
    year = school_year or school_year_of(enrolled_on)
    try:
        first, last = parse(year)
    except SchoolYearError as exc:
        raise PolareError("invalid_school_year", str(exc)) from exc
    if not first <= enrolled_on <= last:
        raise PolareError(
            "invalid_school_year", f"{enrolled_on} is not in school year {year} ({first}..{last})"
        )
    if enrolled_on > today:
        raise PolareError("in_the_future", f"{enrolled_on} is after today ({today})")
    age = age_on(birth, enrolled_on)
    if not MIN_AGE <= age <= MAX_AGE:
        raise PolareError(
            "age_out_of_range", f"polare are {MIN_AGE}-{MAX_AGE} years old; this one is {age}"
        )
    ref = polar_ref_of(app, digits)

    def enrol(uow: UnitOfWork) -> Enrolment:  # another instance may enrol into the same year
        return _enroll(app, uow, ref, digits, name, birth, year, enrolled_on,
                       recorded_by, years_before, limit)  # fmt: skip

    return app.transact(
        enrol,
        busy=lambda: PolareError("busy", "the register kept changing; send it again"),
    )


def _enroll(
    app: Register, uow: UnitOfWork, ref: UUID, digits: str, name: str, birth: date, year: str,
    enrolled_on: date, recorded_by: str, years_before: int, limit: int,
) -> Enrolment:  # fmt: skip
    now = app.clock()
    if uow.get(PolarErased.create_id(ref), PolarErased) is not None:
        raise PolareError("erased", f"polar {ref} was erased; nothing new is kept for them")
    polar = polar_in(uow, ref)
    if polar is not None and year in polar.left:
        raise PolareError(
            "left_school_year",
            f"polar {ref} left school year {year} on {polar.left[year]}; a polar is enrolled "
            "once per school year",
        )
    if polar is not None and year in polar.school_years:
        return Enrolment(polar, year, new=False)
    roll = uow.get(PolareYear.create_id(year), PolareYear)
    if roll is None:
        roll = PolareYear(school_year=year)
        uow.add(roll)
    periods = roll_periods(uow, roll)
    room, busiest, when = room_from(periods, enrolled_on, limit)
    if not room:
        raise PolareError("school_year_full", full_message(year, busiest, when, limit))
    if polar is None:
        subject = str(ref)
        polar = Polar(
            polar_ref=ref,
            personal_number=seal(app.staged_keys, subject, digits),
            name=seal(app.staged_keys, subject, name),
            date_of_birth=seal(app.staged_keys, subject, birth.isoformat()),
            years_before=years_before,
            recruited_on=enrolled_on,
            recorded_by=recorded_by,
            recorded_at=now,
        )
        uow.add(polar)
    roll.add(str(ref))
    active = active_on([*periods, Period(enrolled_on)], enrolled_on)
    polar.enroll(
        year, enrolled_on, polar.years_in(year), len(roll.polare), recorded_by, now, active
    )
    return Enrolment(polar, year, new=True)


def record_training(
    app: Register, polar_ref: UUID, course: str, trained_on: date, recorded_by: str
) -> Polar:
    """Record a training the polar took (the leadership training of seed 004, and others)."""
    if trained_on > local_date(app.clock()):
        raise PolareError("in_the_future", f"{trained_on} is after today")

    def record(uow: UnitOfWork) -> Polar:
        polar = polar_in(uow, polar_ref)
        if polar is None:
            raise UnknownPolar(polar_ref)
        polar.record_training(course, trained_on, recorded_by, app.clock())
        app.save(polar)
        return polar

    return app.locked(record)


def register(app: Register, school_year: str) -> list[dict[str, Any]]:
    """The school year's polare, without personal data."""
    try:
        parse(school_year)
    except SchoolYearError as exc:
        raise PolareError("invalid_school_year", str(exc)) from exc

    def read(uow: UnitOfWork) -> list[Polar | None]:
        roll = uow.get(PolareYear.create_id(school_year), PolareYear)
        refs = roll.polare if roll else []
        return [polar_in(uow, UUID(r)) for r in refs]

    polare = app.locked(read)
    return [view(p, school_year) for p in polare if p is not None]


def record_of(app: Register, polar_ref: UUID) -> Polar:
    found = app.locked(lambda uow: polar_in(uow, polar_ref))
    if found is None:
        raise UnknownPolar(polar_ref)
    return found


def polar(app: Register, polar_ref: UUID) -> dict[str, Any]:
    return view(record_of(app, polar_ref), None)


def view(polar: Polar, school_year: str | None) -> dict[str, Any]:
    """A polar without personal data: what staff planning walks need."""
    enrolled = polar.enrolled.get(school_year) if school_year else None
    left = polar.left.get(school_year) if school_year else None
    return {
        "polar_ref": str(polar.id),
        "school_years": list(polar.school_years),
        "years_in_activity": polar.years_in(school_year) if school_year else None,
        "enrolled_on": enrolled.isoformat() if enrolled else None,
        "left_on": left.isoformat() if left else None,
        "left": {y: d.isoformat() for y, d in sorted(polar.left.items())},
        "recruited_on": polar.recruited_on.isoformat(),
        "trainings": [
            {"course": t["course"], "trained_on": t["trained_on"].isoformat()}
            for t in polar.trainings
        ],
    }


def reveal(app: Register, polar: Polar) -> dict[str, str | None]:
    """The polar's personal data, readable (or ``(erased)``): for intake's own use only."""
    subject = str(polar.id)
    return {
        "personal_number": unseal(app.store, subject, polar.personal_number),
        "name": unseal(app.store, subject, polar.name),
        "date_of_birth": unseal(app.store, subject, polar.date_of_birth),
    }
