"""Billing's composition root: its store, its tariff book, and its HTTP routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from fastapi import APIRouter

from infra.application import ServiceApplication
from infra.calendar import CalendarPolicy
from infra.clock import make_clock
from infra.runtime import Periodic, Runtime
from infra.settings import Settings
from infra.store import store_env
from services.billing.application import Billing
from services.billing.http import router_for
from services.billing.settings import BillingSettings


def make_app(settings: Settings) -> Billing:
    """Billing over its store; the first start records the default tariff catalogue."""
    billing = BillingSettings()
    app = Billing(
        store_env(settings, "billing"),
        clock=make_clock(settings),
        grace_days=billing.grace_days,
        pace_weeks=billing.pace_weeks,
        calendar=CalendarPolicy(de_facto_days_off=settings.de_facto_days_off),
    )
    app.record_default_tariffs()
    return app


def periodic(app: ServiceApplication, settings: Settings) -> list[Periodic]:
    """With a grace window set: close the months whose window has ended (``docs/billing.md``)."""
    billing = BillingSettings()
    if billing.grace_days == 0:
        return []
    job = cast(Billing, app).close_due_months
    return [Periodic("billing-grace-close", billing.close_check_seconds, job)]


def routers(app: ServiceApplication, runtime: Runtime) -> Sequence[APIRouter]:
    """Billing's own routes, for :func:`infra.service.serve`."""
    assert isinstance(app, Billing)
    from services.billing import polare_http

    return [router_for(app), polare_http.router_for(app)]
