"""What intake's handlers and rules need of the application, as a small :class:`Protocol`.

The handlers (:mod:`services.intake.handlers`) and what they call to open a case or record a
rejection (:mod:`services.intake.records`, :mod:`services.intake.reevaluation`,
:mod:`services.intake.eligibility`) type against :class:`Answering`, not the concrete
:class:`~services.intake.application.Intake`, so that none of them imports the application.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from events.referrals import SubmitReferral
from infra.pii import StagedKeys
from services.intake.inbound import UnreadableReferral
from services.intake.limits import SourceLimiter
from services.intake.rules import IntakePolicy, Member


class Answering(Protocol):
    """Intake as a referral's answer sees it: its settings, its clock, its rate limit, and its
    personal-data keys (:mod:`services.intake.personal`)."""

    policy: IntakePolicy
    clock: Callable[[], datetime]
    limiter: SourceLimiter
    staged_keys: StagedKeys

    def fingerprint(self, referral: SubmitReferral | UnreadableReferral) -> str: ...

    def member(self, member: Member, name: str | None) -> dict[str, Any]: ...

    def person_ref(self, personal_number: str) -> UUID: ...
