"""What a referral's sender is told: the answer recorded for it, or why nothing was."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from services.intake.domain import RejectedReferral
from services.intake.domain_case import Case


@dataclass(frozen=True)
class Answer:
    """What a sender is told: accepted with its case, rejected with every reason, refused for
    now by the rate limit (``retry_after``: when to send it again), or refused as a different
    referral under a used ``(source, referral_id)`` (``conflict``)."""

    accepted: bool
    source: str | None
    referral_id: str | None
    case_id: UUID | None = None
    reasons: list[dict[str, str]] = field(default_factory=list)
    retry_after: timedelta | None = None
    conflict: bool = False
    #: Accepted with no contract of its programme in force on the day received (rules.py).
    no_contract_in_force: dict[str, Any] | None = None


def answer_of(found: Case | RejectedReferral) -> Answer:
    """The answer recorded for a referral, as its sender is told it."""
    if isinstance(found, Case):
        notice = getattr(found, "no_contract_in_force", None)  # cases opened before: none
        return Answer(
            True, found.source, found.referral_id, case_id=found.id, no_contract_in_force=notice
        )
    return Answer(False, found.source, found.referral_id, reasons=list(found.reasons))


def unrecorded(message: str) -> Answer:
    """A refusal of a body that names nobody to answer under: nothing is recorded."""
    return Answer(
        False, None, None, reasons=[{"code": "malformed", "field": "", "message": message}]
    )
