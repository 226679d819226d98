"""Intake's commands for the quality registers and the follow-up of coordinated support.

A mixin of :class:`services.intake.application.Intake`, kept apart so that the case's own
commands and these do not crowd one module: the registers' commands are in
:mod:`services.intake.quality_commands`, the follow-up's in
:mod:`services.intake.followup_commands`, what both stand on (finding, changing, sealing) in
:mod:`services.intake.register_base`.
"""

from __future__ import annotations

from services.intake.followup_commands import FollowUpCommands
from services.intake.quality_commands import QualityCommands


class RegisterCommands(QualityCommands, FollowUpCommands):
    """Quality registers and coordinated-support follow-ups; mixed into Intake."""
