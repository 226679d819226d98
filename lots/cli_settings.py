"""The settings every ``lots`` verb reads, or a plain ``error: bad settings`` and exit 2."""

from __future__ import annotations

import typer

from infra.settings import Settings
from services.intake.settings import IntakeSettings


def settings_or_exit() -> Settings:
    try:
        # intake's own settings too: one refused (LOTS_INTAKE_CONTRACT_ENDS...) stops `lots up`
        # here, and the children are handed them with the shared ones (supervisor.child_env)
        return IntakeSettings()
    except Exception as exc:
        typer.echo(f"error: bad settings: {exc}", err=True)
        raise typer.Exit(2) from exc
