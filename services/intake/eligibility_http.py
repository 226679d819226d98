"""Intake's HTTP routes for the administration's decision on coordinated support's indicators
(:mod:`services.intake.eligibility`): staff record it, staff and auditors read it."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter
from pydantic import BaseModel, Field

from infra.auth import READ, STAFF
from services.intake import eligibility
from services.intake.application import Intake
from services.intake.coordinated import INDICATORS
from services.intake.eligibility import FEWEST


class IndicatorDecision(BaseModel):
    """The administration's decision on how many of coordinated support's five indicators a
    family must meet (002 §1: all five unless decided otherwise)."""

    required: Annotated[int, Field(ge=FEWEST, le=len(INDICATORS))]
    decided_by: Annotated[str, Field(min_length=1, max_length=200)]
    decision_ref: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class IndicatorRuleView(BaseModel):
    #: Indicators required of a referral received now.
    required: int
    #: Without a recorded decision: the seed's five.
    default: int
    decisions: list[dict[str, Any]]


def router_for(intake: Intake) -> APIRouter:
    router = APIRouter(tags=["intake"])

    @router.post(
        "/eligibility/indicators",
        status_code=201,
        response_model=IndicatorRuleView,
        dependencies=STAFF,
    )
    async def decide_indicators(decision: IndicatorDecision) -> IndicatorRuleView:
        """Record the administration's decision on how many of the five indicators coordinated
        support requires, for referrals received from now on (by default all five, 002 §1)."""
        await anyio.to_thread.run_sync(
            lambda: eligibility.decide(
                intake,
                decision.required,
                decision.decided_by,
                decision.decision_ref,
                decision.reason,
            )
        )
        return await anyio.to_thread.run_sync(_rule_view, intake)

    @router.get(
        "/eligibility/indicators",
        response_model=IndicatorRuleView,
        dependencies=READ,
    )
    async def indicators() -> IndicatorRuleView:
        """The indicators coordinated support requires now, and every decision recorded."""
        return await anyio.to_thread.run_sync(_rule_view, intake)

    return router


def _rule_view(intake: Intake) -> IndicatorRuleView:
    rule = eligibility.rule_of(intake)
    default = intake.policy.min_indicators
    now = rule.required_at(intake.clock()) if rule is not None else None
    return IndicatorRuleView(
        required=default if now is None else now,
        default=default,
        decisions=list(rule.decisions) if rule is not None else [],
    )
