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

This module keeps the register's aggregates, its refusals and the translators of its events;
the commands and reads are :mod:`services.intake.polare_commands`, a night walk's attestation
:mod:`services.intake.polare_walks`, both functions of
:class:`~services.intake.polare_ports.Register`, never of the concrete application.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.outbox import Translator
from infra.refusals import Refused
from infra.unit_of_work import UnitOfWork
from services.intake.polare_public import polar_enrolled, polar_left, walk_attested
from services.intake.polare_roll import AT_ONCE, Period

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


def roll_periods(uow: UnitOfWork, roll: PolareYear) -> list[Period]:
    """Each enrolled polar's period in the roll's school year."""
    refs = [UUID(r) for r in roll.polare]
    uow.prefetch(refs)
    polare = [polar_in(uow, r) for r in refs]
    return [p.period(roll.school_year) for p in polare if p is not None]


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


# --- public events --------------------------------------------------------------------------


PUBLIC_EVENTS: Mapping[type[Any], Translator] = {
    Polar.Enrolled: polar_enrolled,  # type: ignore[attr-defined]
    Polar.Left: polar_left,  # type: ignore[attr-defined]
    WalkAttestation.Attested: walk_attested,  # type: ignore[attr-defined]
}
