"""Billing's own settings: the ``LOTS_BILLING_*`` environment variables (``docs/billing.md``).

What every service shares (Redis, stores, ports, tokens, the calendar's days off) stays in
:class:`infra.settings.Settings`; :mod:`services.billing.app` reads both.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BillingSettings(BaseSettings):
    """The ``LOTS_BILLING_*`` environment variables (documented in ``docs/billing.md``)."""

    model_config = SettingsConfigDict(env_prefix="LOTS_BILLING_", extra="ignore", frozen=True)

    #: Stockholm business days after a month's end during which its late sessions still land
    #: in it; 0: no grace window (a month is open until closed by hand).
    grace_days: int = Field(default=0, ge=0, le=20)
    #: The trailing window, in weeks, over which the pace of the yearly cap forecast is taken.
    pace_weeks: int = Field(default=8, ge=1, le=52)
    #: How often the service closes the months whose grace window has ended.
    close_check_seconds: float = Field(default=300.0, gt=0)
