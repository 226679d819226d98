"""Billing's composition root."""

from __future__ import annotations

from infra.settings import Settings
from infra.store import store_env
from services.billing.application import Billing


def make_app(settings: Settings) -> Billing:
    return Billing(store_env(settings, "billing"))
