"""A referral's priority by its programme's order (seeds 000/002: decided assistance before
service in network work; 003 §2.3: acute first in counselling), exhaustively, and as intake's
rules and settings apply it."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from pydantic import ValidationError

from services.intake.app import policy as policy_of_settings
from services.intake.priority import DEFAULT_ORDERS, Order, check_order, priority_of
from services.intake.rules import Accepted, IntakePolicy, evaluate
from services.intake.settings import IntakeSettings
from tests.unit.test_intake_rules import RECEIVED, referral

ORDERS: list[Order] = [
    check_order(o) for o in itertools.permutations(("acute", "decision", "service"))
]
KINDS = [(b, u) for b in ("service", "decision") for u in ("normal", "acute")]


def test_every_order_gives_the_place_of_the_first_label_a_referral_carries() -> None:
    for order, (basis, urgency) in itertools.product(ORDERS, KINDS):
        carried = [basis] + (["acute"] if urgency == "acute" else [])
        expected = 1 + min(order.index(label) for label in carried)
        assert priority_of(order, basis, urgency) == expected in (1, 2, 3)


def test_in_network_work_decided_assistance_comes_before_service_acute_or_not() -> None:
    network = DEFAULT_ORDERS["network"]
    decided = priority_of(network, "decision", "normal")
    acute_decided = priority_of(network, "decision", "acute")
    acute_service = priority_of(network, "service", "acute")
    service = priority_of(network, "service", "normal")
    assert (acute_decided, decided, acute_service, service) == (1, 1, 2, 3)
    assert decided < acute_service  # acute is not above decided assistance by default


def test_network_work_puts_acute_above_decided_assistance_only_when_set_so() -> None:
    acute_first = check_order(("acute", "decision", "service"))
    assert priority_of(acute_first, "service", "acute") == 1
    assert priority_of(acute_first, "decision", "normal") == 2
    assert priority_of(acute_first, "service", "normal") == 3


@pytest.mark.parametrize("programme", ["counselling", "coordinated"])
def test_counselling_and_coordinated_support_serve_acute_cases_first(programme: str) -> None:
    order = DEFAULT_ORDERS[programme]
    assert priority_of(order, "service", "acute") == 1
    assert priority_of(order, "service", "normal") == 3


def test_intake_gives_each_programme_its_own_order() -> None:
    def priority(**fields: Any) -> int:
        outcome = evaluate(referral(**fields), received_at=RECEIVED, policy=IntakePolicy())
        assert isinstance(outcome, Accepted), outcome
        return outcome.priority

    assert priority(basis="decision", decision_ref="SoL-1") == 1
    assert priority(urgency="acute") == 2
    assert priority() == 3
    assert priority(programme="counselling", urgency="acute") == 1
    assert priority(programme="counselling") == 3
    assert priority(programme="coordinated", urgency="acute") == 1
    assert priority(programme="coordinated") == 3


def test_an_order_ranks_each_label_once_and_every_programme_has_one() -> None:
    for bad in [("acute", "acute", "service"), ("acute", "decision"), ("urgent", "decision", "x")]:
        with pytest.raises(ValueError, match="each once"):
            check_order(bad)
    with pytest.raises(ValueError, match="every programme"):
        IntakePolicy(priority_orders={"network": DEFAULT_ORDERS["network"]})
    with pytest.raises(ValueError, match="each once"):
        IntakePolicy(priority_orders={**DEFAULT_ORDERS, "network": ("acute", "acute", "service")})


def test_the_setting_changes_one_programme_and_keeps_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acute_first = ["acute", "decision", "service"]
    monkeypatch.setenv("LOTS_INTAKE_PRIORITY_ORDER", json.dumps({"network": acute_first}))
    orders = policy_of_settings(IntakeSettings()).priority_orders
    assert orders == {**DEFAULT_ORDERS, "network": tuple(acute_first)}
    monkeypatch.setenv("LOTS_INTAKE_PRIORITY_ORDER", json.dumps({"network": ["acute"] * 3}))
    with pytest.raises(ValidationError, match="each once"):
        IntakeSettings()
    monkeypatch.setenv("LOTS_INTAKE_PRIORITY_ORDER", json.dumps({"field": acute_first}))
    with pytest.raises(ValidationError):
        IntakeSettings()
