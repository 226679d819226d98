"""Residency (family counselling, 003 §2.3 "endast för boende i Linköpings kommun"): every
listed person must have the home municipality's code (0580), a missing code included, unless
the administration agreed an exception (``residency_exception``), which then covers the whole
referral (:mod:`services.intake.reevaluation` for one recorded after a rejection).
"""

from __future__ import annotations

from collections.abc import Sequence

from events.intake import Reason
from events.referrals import Person
from services.intake.policy import IntakePolicy
from services.intake.reasons import reason
from services.intake.settings import Referable


def check_residency(
    programme: Referable,
    persons: Sequence[Person],
    policy: IntakePolicy,
    residency_exception: bool,
    reasons: list[Reason],
) -> None:
    """One ``not_resident`` per person of a resident-only programme living elsewhere."""
    if programme not in policy.resident_only or residency_exception:
        return
    for i, person in enumerate(persons):
        if person.municipality_code != policy.home_municipality:
            field_ = f"persons[{i}].municipality_code"
            reasons.append(
                reason("not_resident", field_, programme=programme, home=policy.home_municipality)
            )
