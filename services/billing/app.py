"""Billing's composition root: its store, its tariff book, and its HTTP routes."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from infra.application import ServiceApplication
from infra.clock import make_clock
from infra.runtime import Runtime
from infra.settings import Settings
from infra.store import store_env
from services.billing.application import Billing
from services.billing.http import router_for


def make_app(settings: Settings) -> Billing:
    """Billing over its store; the first start records the default tariff catalogue."""
    app = Billing(store_env(settings, "billing"), clock=make_clock(settings))
    app.record_default_tariffs()
    return app


def routers(app: ServiceApplication, runtime: Runtime) -> Sequence[APIRouter]:
    """Billing's own routes, for :func:`infra.service.serve`."""
    assert isinstance(app, Billing)
    from services.billing import polare_http

    return [router_for(app), polare_http.router_for(app)]
