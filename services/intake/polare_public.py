"""The polare register's events as public messages on ``intake.events`` (seed 004): refs,
school years, dates, ages in whole years and counts, never a name, personal number or date of
birth (see :mod:`services.intake.polare`, whose ``PUBLIC_EVENTS`` maps its events to these)."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol
from uuid import UUID

from events.intake import AttestedPolar, NotAttested, PolarEnrolled, PolareWalkAttested, PolarLeft
from infra.outbox import Outgoing
from infra.topology import INTAKE_EVENTS

# The register's events as the translators read them: what the ``@event`` methods of
# :class:`~services.intake.polare.Polar` and :class:`~services.intake.polare.WalkAttestation`
# record (a type checker cannot see their generated classes, ``Polar.Enrolled`` ...).


class PolarEnrolledEvent(Protocol):
    originator_id: UUID
    school_year: str
    enrolled_on: date
    years_in_activity: int
    enrolled_in_school_year: int
    #: Absent from enrolments recorded before replacements were counted.
    active_in_school_year: int | None


class PolarLeftEvent(Protocol):
    originator_id: UUID
    school_year: str
    left_on: date
    active_in_school_year: int


class WalkAttestedEvent(Protocol):
    walk_id: UUID
    walked_on: date
    attested: list[dict[str, Any]]
    not_attested: list[dict[str, Any]]
    causation_id: str


def polar_enrolled(event: PolarEnrolledEvent) -> Outgoing:
    return Outgoing(
        INTAKE_EVENTS,
        PolarEnrolled(
            polar_ref=event.originator_id,
            school_year=event.school_year,
            enrolled_on=event.enrolled_on,
            years_in_activity=event.years_in_activity,
            enrolled_in_school_year=event.enrolled_in_school_year,
            active_in_school_year=getattr(event, "active_in_school_year", None),
        ),
    )


def polar_left(event: PolarLeftEvent) -> Outgoing:
    return Outgoing(
        INTAKE_EVENTS,
        PolarLeft(
            polar_ref=event.originator_id,
            school_year=event.school_year,
            left_on=event.left_on,
            active_in_school_year=event.active_in_school_year,
        ),
    )


def walk_attested(event: WalkAttestedEvent) -> Outgoing:
    return Outgoing(
        INTAKE_EVENTS,
        PolareWalkAttested(
            walk_id=event.walk_id,
            walked_on=event.walked_on,
            attested=[AttestedPolar.model_validate(a) for a in event.attested],
            not_attested=[NotAttested.model_validate(n) for n in event.not_attested],
        ),
        correlation_id=str(event.walk_id),
        causation_id=event.causation_id,
    )
