"""Erasing a polar's personal data (seed 004's polare are young people: :mod:`infra.pii`).

A polar's key is destroyed two years (``RETENTION_YEARS``) after the end of the last school
year they were enrolled for (a daily job; kept that long for questions about fees paid), or at
once when the polar asks (erasure on request: a register of volunteers is not a social-services
case record). The events stay byte for byte; the personal data then reads ``(erased)``, an
erased polar cannot be enrolled again and walks after it are not attested (``erased``).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import structlog

from infra.calendar import local_date
from infra.schoolyear import parse
from infra.unit_of_work import UnitOfWork
from services.intake.polare import Polar, PolarErased, UnknownPolar, polar_in
from services.intake.polare_ports import Register

RETENTION_YEARS = 2
log = structlog.get_logger(__name__)


def erase(app: Register, polar_ref: UUID, reason: str, by: str) -> bool:
    """Destroy the polar's key; False if it was erased before."""

    def destroy(uow: UnitOfWork) -> bool:
        if polar_in(uow, polar_ref) is None:
            raise UnknownPolar(polar_ref)
        if uow.get(PolarErased.create_id(polar_ref), PolarErased) is not None:
            return False
        now = app.clock()
        app.store.erase_subject(str(polar_ref), now.isoformat())
        app.save(PolarErased(polar_ref=polar_ref, reason=reason, by=by, at=now))
        return True

    if not app.locked(destroy):
        return False
    log.info("polar erased", polar_ref=str(polar_ref))
    return True


def erase_expired(app: Register, years: int = RETENTION_YEARS) -> list[str]:
    """Erase every polar whose last school year ended ``years`` or more years ago."""
    today = local_date(app.clock())

    def expired(uow: UnitOfWork) -> list[UUID]:
        due = []
        for ref in _all_polare(app):
            found = polar_in(uow, ref)
            if found is None or not found.school_years:
                continue
            ended = parse(found.school_years[-1])[1]
            if _add_years(ended, years) < today and (
                uow.get(PolarErased.create_id(ref), PolarErased) is None
            ):
                due.append(ref)
        return due

    due = app.locked(expired)
    for ref in due:
        erase(app, ref, f"retention: {years} years after the last school year", "retention")
    return sorted(str(r) for r in due)


def _all_polare(app: Register) -> list[UUID]:
    from eventsourcing.utils import get_topic

    topic = get_topic(Polar.Recruited)  # type: ignore[attr-defined]
    refs: list[Any] = []
    position = 0
    while True:
        notes = app.recorder.select_notifications(start=position + 1, limit=1000, topics=[topic])
        refs.extend(n.originator_id for n in notes)
        if len(notes) < 1000:
            return [UUID(str(r)) for r in refs]
        position = notes[-1].id


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
