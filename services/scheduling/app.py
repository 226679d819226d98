"""Scheduling's composition root: the application over its store, its routes and its jobs.

The application takes its handlers and public translators from
:mod:`services.scheduling.registry`; ``python -m services.scheduling`` takes all three from here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from fastapi import APIRouter

from infra.application import ServiceApplication
from infra.calendar import CalendarPolicy
from infra.clock import make_clock
from infra.runtime import Periodic, Runtime
from infra.settings import Settings
from infra.store import store_env
from services.scheduling import http
from services.scheduling.application import Scheduling
from services.scheduling.policy import SchedulingPolicy
from services.scheduling.settings import SchedulingSettings


def make_app(settings: Settings) -> Scheduling:
    """The service as ``python -m services.scheduling`` runs it: settings from the environment."""
    return build(settings)


def build(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    policy: SchedulingPolicy | None = None,
) -> Scheduling:
    """The application over the settings' store, on the project's clock (real time, or in
    development ``LOTS_SIMULATED_START``); tests give it their own clock and policy."""
    calendar = CalendarPolicy(de_facto_days_off=settings.de_facto_days_off)
    return Scheduling(
        store_env(settings, "scheduling"),
        policy=policy or SchedulingSettings().policy(calendar),
        clock=clock or make_clock(settings),
    )


def periodic(app: ServiceApplication, settings: Settings) -> list[Periodic]:
    """The deadline check: first-contact deadlines and the wait-time monitor."""
    seconds = SchedulingSettings().check_interval_seconds
    return [Periodic("scheduling-deadlines", seconds, cast(Scheduling, app).check_deadlines)]


def routers(app: ServiceApplication, runtime: Runtime | None = None) -> list[APIRouter]:
    """Scheduling's routes (:mod:`services.scheduling.http`), for :func:`infra.service.serve`."""
    return http.routers(app, runtime)
