"""Intake's composition root: the application over its store, its routes and its jobs.

The application takes its handlers and public translators from :mod:`services.intake.registry`;
``python -m services.intake`` takes all three from here.
"""

from __future__ import annotations

from fastapi import APIRouter

from infra.application import ServiceApplication
from infra.calendar import CalendarPolicy
from infra.clock import make_clock
from infra.runtime import Periodic, Runtime
from infra.settings import Settings
from infra.store import store_env
from services.intake import http, polare_erasure
from services.intake.application import Intake
from services.intake.limits import Rate, SourceLimiter
from services.intake.priority import DEFAULT_ORDERS
from services.intake.rules import IntakePolicy
from services.intake.settings import IntakeSettings
from services.intake.sources import StreamSources


def policy(settings: IntakeSettings) -> IntakePolicy:
    """Intake's rules with the deployment's named settings."""
    return IntakePolicy(
        first_contact_days={
            "network": settings.first_contact_days_network,
            "coordinated": settings.first_contact_days_coordinated,
            "counselling": settings.first_contact_days_counselling,
        },
        priority_orders={**DEFAULT_ORDERS, **dict(settings.intake_priority_order.items())},
        calendar=CalendarPolicy(de_facto_days_off=settings.de_facto_days_off),
    )


def limiter(settings: IntakeSettings) -> SourceLimiter:
    """The per-source rate limit on referrals (``LOTS_INTAKE_RATE_*``); per_minute 0: none."""

    def rate(per_minute: int, burst: int) -> Rate | None:
        return Rate(per_minute, burst) if per_minute else None

    return SourceLimiter(
        default=rate(settings.intake_rate_per_minute, settings.intake_rate_burst),
        overrides={
            source: rate(r.per_minute, r.burst)
            for source, r in settings.intake_rate_overrides.items()
        },
    )


def make_app(shared: Settings) -> Intake:
    settings = IntakeSettings.of(shared)
    return Intake(
        store_env(settings, "intake", encrypted=True),
        policy=policy(settings),
        clock=make_clock(settings),
        limiter=limiter(settings),
        sources=StreamSources.from_settings(settings),
    )


def periodic(app: ServiceApplication, shared: Settings) -> list[Periodic]:
    assert isinstance(app, Intake)
    settings = IntakeSettings.of(shared)
    return [
        Periodic("acknowledgement deadlines", 60.0, app.check_acknowledgements),
        Periodic("retention", 24 * 3600.0, lambda: app.erase_expired(settings.retention_years)),
        Periodic("polare retention", 24 * 3600.0, lambda: polare_erasure.erase_expired(app)),
    ]


def routers(app: ServiceApplication, runtime: Runtime) -> list[APIRouter]:
    """Intake's routes (:mod:`services.intake.http`), for :func:`infra.service.serve`."""
    return http.routers(app, runtime)
