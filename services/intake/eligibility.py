"""How many of coordinated support's five indicators a family must meet, as decided.

002 §1 lists the indicators "som skall vara uppfyllda för att en familj ska vara aktuell för
ett erbjudande om stöd". Read literally, a family meets all five, and that is intake's rule
unless the administration decides otherwise (issue 14, item 12). A relaxation is the
administration's decision about who is offered support, so it is recorded in intake's store as
an event of :class:`IndicatorRule`, with how many indicators are required, who decided, the
decision's reference and why (``POST /eligibility/indicators``): the store then shows which rule
judged every referral, and a replay judges it the same. It is not an environment variable:
``LOTS_INTAKE_MIN_INDICATORS``, which set it before, is refused at start, so a deployment that
still sets it is told to record the decision instead of being silently judged by another rule.

A decision applies to the referrals received from the moment it is recorded (intake's clock);
a referral is judged by the last decision recorded before it was received (a referral
evaluated again later, :mod:`services.intake.reevaluation`, by the same). A later decision
replaces it, back to all five as well. At least one indicator is always required: the
administration may relax the rule, not abolish it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from infra.commands import Busy
from infra.refusals import Refused
from infra.unit_of_work import UnitOfWork
from services.intake import terms
from services.intake.coordinated import INDICATORS
from services.intake.policy import IntakePolicy
from services.intake.ports import Answering, Recording
from services.intake.referral_keys import REFERRAL_NAMESPACE

RULE_ID = uuid5(REFERRAL_NAMESPACE, "eligibility/coordinated-indicators")
#: The fewest indicators a decision may require (see the module docstring).
FEWEST = 1


class EligibilityError(Refused, ValueError):
    """A decision that cannot be recorded; the text says why (answered 422)."""

    status = 422


class IndicatorRule(Aggregate):
    """The administration's decisions on how many indicators coordinated support requires."""

    @staticmethod
    def create_id(**_: object) -> UUID:
        return RULE_ID

    @event("Decided")
    def __init__(
        self, required: int, decided_by: str, decision_ref: str, reason: str, at: datetime
    ) -> None:
        # Dicts of plain values: the state may be snapshotted as JSON.
        self.decisions: list[dict[str, Any]] = []
        self._note(required, decided_by, decision_ref, reason, at)

    def decide(
        self, required: int, decided_by: str, decision_ref: str, reason: str, at: datetime
    ) -> None:
        self._decided_again(
            required=required, decided_by=decided_by, decision_ref=decision_ref, reason=reason,
            at=at,
        )  # fmt: skip

    @event("DecidedAgain")
    def _decided_again(
        self, required: int, decided_by: str, decision_ref: str, reason: str, at: datetime
    ) -> None:
        self._note(required, decided_by, decision_ref, reason, at)

    def _note(
        self, required: int, decided_by: str, decision_ref: str, reason: str, at: datetime
    ) -> None:
        self.decisions.append(
            {
                "required": required,
                "decided_by": decided_by,
                "decision_ref": decision_ref,
                "reason": reason,
                "at": at.isoformat(),
            }
        )

    def required_at(self, moment: datetime) -> int | None:
        """The number required by the last decision recorded by ``moment`` (None: none yet)."""
        required = None
        for decision in self.decisions:
            if datetime.fromisoformat(decision["at"]) <= moment:
                required = int(decision["required"])
        return required


def policy_for(policy: IntakePolicy, rule: IndicatorRule | None, moment: datetime) -> IntakePolicy:
    """``policy`` with the number of indicators in force at ``moment``."""
    required = rule.required_at(moment) if rule is not None else None
    if required is None or required == policy.min_indicators:
        return policy
    return replace(policy, min_indicators=required)


def policy_at(app: Answering, uow: UnitOfWork, moment: datetime) -> IntakePolicy:
    """The policy a referral received at ``moment`` is judged by (the rule read in ``uow``),
    with the contract terms billing has recorded (:mod:`services.intake.terms`)."""
    judged = policy_for(app.policy, uow.get(RULE_ID, IndicatorRule), moment)
    return terms.policy_for(judged, uow.get(terms.TERMS_ID, terms.FollowedTerms))


def rule_of(app: Recording) -> IndicatorRule | None:
    try:
        found: Aggregate = app.repository.get(RULE_ID)
    except AggregateNotFoundError:
        return None
    return found if isinstance(found, IndicatorRule) else None


def decide(
    app: Recording, required: int, decided_by: str, decision_ref: str, reason: str
) -> IndicatorRule:
    """Record the administration's decision on the indicators required, from now on."""
    if not FEWEST <= required <= len(INDICATORS):
        raise EligibilityError(
            f"a decision requires {FEWEST} to {len(INDICATORS)} of the five indicators"
        )
    if not (decided_by.strip() and decision_ref.strip() and reason.strip()):
        raise EligibilityError("a decision names who decided, its reference and why")

    def record(uow: UnitOfWork) -> IndicatorRule:  # another instance may decide meanwhile
        now = app.clock()
        rule = uow.get(RULE_ID, IndicatorRule)
        if rule is None:
            rule = IndicatorRule(
                required=required,
                decided_by=decided_by,
                decision_ref=decision_ref,
                reason=reason,
                at=now,
            )
            uow.add(rule)
        else:
            rule.decide(required, decided_by, decision_ref, reason, now)
        return rule

    return app.transact(
        record,
        busy=lambda: Busy("the indicator rule kept changing under this decision; try again"),
    )
