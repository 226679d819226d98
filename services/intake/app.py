"""Intake's composition root."""

from __future__ import annotations

from infra.settings import Settings
from infra.store import store_env
from services.intake.application import Intake


def make_app(settings: Settings) -> Intake:
    return Intake(store_env(settings, "intake", encrypted=True))
