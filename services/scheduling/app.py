"""Scheduling's composition root."""

from __future__ import annotations

from infra.settings import Settings
from infra.store import store_env
from services.scheduling.application import Scheduling


def make_app(settings: Settings) -> Scheduling:
    return Scheduling(store_env(settings, "scheduling"))
