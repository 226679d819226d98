"""The group rule of counselling time (003 §1.2): a group session of 60..120 minutes with at
least 5 participants earns 4 client hours per group hour; any other group session waits for a
person's decision, and a group of fewer than 5 is never billed as a group. Pure functions,
shared by the billing service, its replay and the offline settlement through
:mod:`services.billing.pricing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from events.scheduling import MeetingHeld
from services.billing.pricing_time import PricingError

GROUP_MIN_PARTICIPANTS = 5
GROUP_MIN_MINUTES = 60
GROUP_MAX_MINUTES = 120
CLIENT_HOURS_PER_GROUP_HOUR = 4

Decision = Literal["bill_as_ordinary_time", "bill_as_group", "not_billable"]
DECISIONS: tuple[Decision, ...] = ("bill_as_ordinary_time", "bill_as_group", "not_billable")
MULTIPLIER: dict[Decision, int] = {
    "bill_as_ordinary_time": 1,
    "bill_as_group": CLIENT_HOURS_PER_GROUP_HOUR,
    "not_billable": 0,
}


class DecisionRefused(PricingError):
    """A decision the group rule does not allow (a group of fewer than 5 billed as a group)."""


@dataclass(frozen=True)
class NeedsDecision:
    """A group session the group rule does not clearly cover: a person decides how to bill it."""

    meeting_id: UUID
    case_id: UUID
    programme: str
    settlement_month: str
    minutes: int
    participants: int
    reason: str
    options: tuple[Decision, ...] = DECISIONS


def decision_options(participants: int) -> tuple[Decision, ...]:
    """What a person may decide for a group session the group rule does not clearly cover.

    003 §1.2 earns 4 client hours per group hour only "med minst 5 deltagare": a group of fewer
    is never billed as a group, only as ordinary time or not at all. Only a group of at least 5
    whose duration is outside 1-2 hours (where the seed's principle does not say) leaves
    ``bill_as_group`` to a person.
    """
    if participants < GROUP_MIN_PARTICIPANTS:
        return tuple(d for d in DECISIONS if d != "bill_as_group")
    return DECISIONS


def check_decision(decision: Decision, participants: int) -> None:
    """Raise :class:`DecisionRefused` unless the group rule allows ``decision``."""
    if decision not in decision_options(participants):
        raise DecisionRefused(
            f"a group of {participants} participants cannot be billed as a group: the group "
            f"rule earns 4 client hours per group hour only with at least "
            f"{GROUP_MIN_PARTICIPANTS} participants (003 §1.2); decide "
            f"{' or '.join(decision_options(participants))}"
        )


def group_rule_gap(meeting: MeetingHeld, minutes: int) -> str | None:
    """Why the group rule does not clearly cover this group session, or None if it does."""
    problems = []
    if meeting.participants < GROUP_MIN_PARTICIPANTS:
        problems.append(
            f"{meeting.participants} participants; the group rule needs at least "
            f"{GROUP_MIN_PARTICIPANTS}"
        )
    if not GROUP_MIN_MINUTES <= minutes <= GROUP_MAX_MINUTES:
        problems.append(
            f"{minutes} minutes; the group rule covers sessions of "
            f"{GROUP_MIN_MINUTES} to {GROUP_MAX_MINUTES} minutes"
        )
    return "; ".join(problems) or None
