"""Intake's composition root."""

from __future__ import annotations

from infra.application import ServiceApplication
from infra.runtime import Periodic
from infra.settings import Settings
from infra.store import store_env
from services.intake.application import Intake


def make_app(settings: Settings) -> Intake:
    return Intake(store_env(settings, "intake", encrypted=True))


def periodic(app: ServiceApplication, settings: Settings) -> list[Periodic]:
    assert isinstance(app, Intake)
    return [Periodic("acknowledgement deadlines", 60.0, app.check_acknowledgements)]
