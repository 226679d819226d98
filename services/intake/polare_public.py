"""The polare register's events as public messages on ``intake.events`` (seed 004): refs,
school years, dates, ages in whole years and counts, never a name, personal number or date of
birth (see :mod:`services.intake.polare`, whose ``PUBLIC_EVENTS`` maps its events to these)."""

from __future__ import annotations

from typing import Any

from events.intake import AttestedPolar, NotAttested, PolarEnrolled, PolareWalkAttested, PolarLeft
from infra.outbox import Outgoing
from infra.topology import INTAKE_EVENTS


def polar_enrolled(event: Any) -> Outgoing:
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


def polar_left(event: Any) -> Outgoing:
    return Outgoing(
        INTAKE_EVENTS,
        PolarLeft(
            polar_ref=event.originator_id,
            school_year=event.school_year,
            left_on=event.left_on,
            active_in_school_year=event.active_in_school_year,
        ),
    )


def walk_attested(event: Any) -> Outgoing:
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
