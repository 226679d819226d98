"""The polare register (seed 004): the young people field work recruits, trains and leads on
night walks, at most 20 active at once in a school year (a drop-out's place may be taken by a
replacement, :mod:`services.intake.polare_roll`), and what billing may know of them.

Polare are young people, so their data gets the protection of a case's persons: the personal
number, name and date of birth are sealed with the polar's own key (:mod:`infra.pii`) inside
intake's encrypted store and leave intake only as the pseudonymous ``polar_ref`` (a keyed hash
of the personal number, in a domain of its own, so it is not the ``person_ref`` the same youth
would have in a case). For each reported night walk intake attests each polar's age in whole
years and years in the activity on the walk's date (``PolareWalkAttested``): billing prices the
fee from those two numbers and never sees a date of birth.

Years in the activity: the polar's year in the activity during a school year, 1 in the first
school year they are enrolled for, plus one for every earlier school year they were enrolled
for, plus the years they had walked before the register (``years_before``).

Erasure (:mod:`services.intake.polare_erasure`): a polar's key is destroyed two years after the
end of the last school year they were enrolled for, or at once when the polar asks. The events
stay byte for byte; the personal data then reads ``(erased)`` and walks after it are not
attested (``erased``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from events.codec import Envelope
from events.scheduling import NightWalkReported
from infra.batches import Handler, Lookup
from infra.calendar import local_date
from infra.outbox import Translator
from infra.pii import ERASED, seal, unseal
from infra.refusals import Refused
from infra.schoolyear import SchoolYearError, parse, school_year_of
from infra.unit_of_work import UnitOfWork
from services.intake.polare_public import polar_enrolled, polar_left, walk_attested
from services.intake.polare_roll import AT_ONCE, Period, active_on, full_message, room_from
from services.intake.rules import age_on, parse_personal_number

if TYPE_CHECKING:
    from services.intake.application import Intake

NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/polare")
#: Seed 004: "läsårsvis rekrytera, utbilda och arbetsleda 20 ungdomar": at once, per school
#: year (:mod:`services.intake.polare_roll`).
PER_SCHOOL_YEAR = AT_ONCE
#: Polare are young people ("ungdomar"): 13 to 25 years old when enrolled. The seed gives no
#: ages; this is the municipality's usual meaning of youth work's age group.
MIN_AGE, MAX_AGE = 13, 25


#: Refusals by the register as it stands (409); other refusals break a rule (422).
CONFLICTS = frozenset(
    {"erased", "busy", "school_year_full", "left_school_year", "not_enrolled", "already_left",
     "walked_after_leaving"}
)  # fmt: skip


class PolareError(Refused):
    """A register command the rules refuse; ``code`` names the rule, the text explains.
    Answered 409 when the register as it stands refuses (:data:`CONFLICTS`), else 422."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def http_status(self) -> int:
        return 409 if self.code in CONFLICTS else 422

    def detail(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self)}


class UnknownPolar(PolareError):
    def http_status(self) -> int:
        return 404

    def __init__(self, polar_ref: UUID) -> None:
        super().__init__("unknown_polar", f"no polar {polar_ref} in the register")


class Polar(Aggregate):
    """One polar: personal data sealed with the polar's key, school years, trainings."""

    @staticmethod
    def create_id(polar_ref: UUID, **_: object) -> UUID:
        return polar_ref

    @event("Recruited")
    def __init__(
        self,
        polar_ref: UUID,
        personal_number: str | None,
        name: str | None,
        date_of_birth: str | None,
        years_before: int,
        recruited_on: date,
        recorded_by: str,
        recorded_at: datetime,
    ) -> None:
        self.personal_number = personal_number
        self.name = name
        self.date_of_birth = date_of_birth
        self.years_before = years_before
        self.recruited_on = recruited_on
        self.school_years: list[str] = []
        #: School year -> the day the polar was enrolled for it.
        self.enrolled: dict[str, date] = {}
        #: School year -> the day the polar left it (not active from that day).
        self.left: dict[str, date] = {}
        self.trainings: list[dict[str, Any]] = []

    def period(self, school_year: str) -> Period:
        """The polar's time in ``school_year`` (they must be enrolled for it)."""
        return Period(self.enrolled[school_year], self.left.get(school_year))

    def years_in(self, school_year: str) -> int:
        """The polar's year in the activity during ``school_year`` (enrolled or not)."""
        earlier = sum(1 for s in self.school_years if s < school_year)
        return self.years_before + earlier + 1

    @event("Enrolled")
    def enroll(
        self,
        school_year: str,
        enrolled_on: date,
        years_in_activity: int,
        enrolled_in_school_year: int,
        recorded_by: str,
        recorded_at: datetime,
        active_in_school_year: int | None = None,
    ) -> None:
        self.school_years = sorted([*self.school_years, school_year])
        self.enrolled[school_year] = enrolled_on

    @event("Left")
    def leave(
        self,
        school_year: str,
        left_on: date,
        active_in_school_year: int,
        recorded_by: str,
        recorded_at: datetime,
    ) -> None:
        """The polar dropped out of ``school_year`` on ``left_on`` (checked by
        :func:`services.intake.polare_leave.leave`)."""
        self.left[school_year] = left_on

    @event("Trained")
    def record_training(
        self, course: str, trained_on: date, recorded_by: str, recorded_at: datetime
    ) -> None:
        self.trainings.append({"course": course, "trained_on": trained_on})


class PolareYear(Aggregate):
    """A school year's roll: everyone enrolled for it, replacements included; never more
    active at once than the school year allows. Every enrolment changes it, so two at the same
    time cannot both take the last place."""

    @staticmethod
    def create_id(school_year: str, **_: object) -> UUID:
        return uuid5(NAMESPACE, f"school-year/{school_year}")

    @event("Opened")
    def __init__(self, school_year: str) -> None:
        self.school_year = school_year
        self.polare: list[str] = []

    @event("Enrolled")
    def add(self, polar_ref: str) -> None:
        self.polare.append(polar_ref)


class PolarErased(Aggregate):
    """A polar's key was destroyed: on request, or when retention ended."""

    @staticmethod
    def create_id(polar_ref: UUID, **_: object) -> UUID:
        return uuid5(NAMESPACE, f"erased/{polar_ref}")

    @event("Erased")
    def __init__(self, polar_ref: UUID, reason: str, by: str, at: datetime) -> None:
        self.polar_ref = polar_ref


def polar_in(uow: UnitOfWork, polar_ref: UUID) -> Polar | None:
    """The polar of a ref, or None, also when the id belongs to something else (a case id
    given as a polar's ref is not a polar)."""
    found = uow.get(polar_ref, Aggregate)
    return found if isinstance(found, Polar) else None


@dataclass(frozen=True)
class Enrolment:
    polar: Polar
    school_year: str
    #: False when the polar was already enrolled for the school year (nothing changed).
    new: bool


def polar_ref_of(app: Intake, personal_number: str) -> UUID:
    return app.pseudonym(b"polar:" + personal_number.encode())


def enroll(
    app: Intake,
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
    app: Intake, uow: UnitOfWork, ref: UUID, digits: str, name: str, birth: date, year: str,
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


def roll_periods(uow: UnitOfWork, roll: PolareYear) -> list[Period]:
    """Each enrolled polar's period in the roll's school year."""
    refs = [UUID(r) for r in roll.polare]
    uow.prefetch(refs)
    polare = [polar_in(uow, r) for r in refs]
    return [p.period(roll.school_year) for p in polare if p is not None]


def record_training(
    app: Intake, polar_ref: UUID, course: str, trained_on: date, recorded_by: str
) -> Polar:
    """Record a training the polar took (the leadership training of seed 004, and others)."""
    if trained_on > local_date(app.clock()):
        raise PolareError("in_the_future", f"{trained_on} is after today")
    with app.lock:
        uow = UnitOfWork(app)
        polar = polar_in(uow, polar_ref)
        if polar is None:
            raise UnknownPolar(polar_ref)
        polar.record_training(course, trained_on, recorded_by, app.clock())
        app.save(polar)
        return polar


def register(app: Intake, school_year: str) -> list[dict[str, Any]]:
    """The school year's polare, without personal data."""
    try:
        parse(school_year)
    except SchoolYearError as exc:
        raise PolareError("invalid_school_year", str(exc)) from exc
    with app.lock:
        uow = UnitOfWork(app)
        roll = uow.get(PolareYear.create_id(school_year), PolareYear)
        refs = roll.polare if roll else []
        polare = [polar_in(uow, UUID(r)) for r in refs]
    return [view(p, school_year) for p in polare if p is not None]


def record_of(app: Intake, polar_ref: UUID) -> Polar:
    with app.lock:
        found = polar_in(UnitOfWork(app), polar_ref)
    if found is None:
        raise UnknownPolar(polar_ref)
    return found


def polar(app: Intake, polar_ref: UUID) -> dict[str, Any]:
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


def reveal(app: Intake, polar: Polar) -> dict[str, str | None]:
    """The polar's personal data, readable (or ``(erased)``): for intake's own use only."""
    subject = str(polar.id)
    return {
        "personal_number": unseal(app.store, subject, polar.personal_number),
        "name": unseal(app.store, subject, polar.name),
        "date_of_birth": unseal(app.store, subject, polar.date_of_birth),
    }


# --- attesting a night walk's polare ------------------------------------------------------


class WalkAttestation(Aggregate):
    """What intake attested for one reported night walk (public: ``PolareWalkAttested``)."""

    @staticmethod
    def create_id(walk_id: UUID, **_: object) -> UUID:
        return uuid5(NAMESPACE, f"walk/{walk_id}")

    @event("Attested")
    def __init__(
        self,
        walk_id: UUID,
        walked_on: date,
        attested: list[dict[str, Any]],
        not_attested: list[dict[str, Any]],
        causation_id: str,
    ) -> None:
        self.walk_id = walk_id


def attest(app: Intake, uow: UnitOfWork, polar_ref: UUID, walked_on: date) -> dict[str, Any]:
    """A polar's age and years in the activity on a walk's date, or why not."""
    year = school_year_of(walked_on)
    found = polar_in(uow, polar_ref)
    if found is None:
        return {"polar_ref": str(polar_ref), "reason": "unknown_polar"}
    if year not in found.school_years or not found.period(year).active_on(walked_on):
        return {"polar_ref": str(polar_ref), "reason": "not_enrolled"}
    birth = unseal(app.store, str(polar_ref), found.date_of_birth)
    if birth is None or birth == ERASED:
        return {"polar_ref": str(polar_ref), "reason": "erased"}
    return {
        "polar_ref": str(polar_ref),
        "age": age_on(date.fromisoformat(birth), walked_on),
        "years_in_activity": found.years_in(year),
    }


def when_night_walk_reported_attest(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    walk: NightWalkReported = envelope.message
    key = WalkAttestation.create_id(walk.walk_id)
    if uow.get(key, WalkAttestation) is not None:
        return  # the same walk again
    app: Intake = uow.app  # type: ignore[assignment]
    found = [attest(app, uow, ref, walk.walked_on) for ref in walk.polare]
    uow.add(
        WalkAttestation(
            walk_id=walk.walk_id,
            walked_on=walk.walked_on,
            attested=[f for f in found if "reason" not in f],
            not_attested=[f for f in found if "reason" in f],
            causation_id=str(envelope.id),
        )
    )


def _walk_lookups(walk: NightWalkReported) -> list[UUID]:
    return [WalkAttestation.create_id(walk.walk_id), *walk.polare]


HANDLERS: Mapping[str, Handler] = {NightWalkReported.type_name: when_night_walk_reported_attest}
LOOKUPS: Mapping[str, Lookup] = {NightWalkReported.type_name: _walk_lookups}


# --- public events --------------------------------------------------------------------------


PUBLIC_EVENTS: Mapping[type[Any], Translator] = {
    Polar.Enrolled: polar_enrolled,  # type: ignore[attr-defined]
    Polar.Left: polar_left,  # type: ignore[attr-defined]
    WalkAttestation.Attested: walk_attested,  # type: ignore[attr-defined]
}
