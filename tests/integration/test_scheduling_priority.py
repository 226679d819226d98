"""Each programme's queue is served in its seed's order, from the referral through intake's
priority to scheduling's queue, on SQLite and PostgreSQL: network work serves decided
assistance before service (000/002) unless the order is set otherwise, counselling and
coordinated support serve acute cases first (003 §2.3; the choice for coordinated support)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from events.codec import decode, encode
from events.intake import ReferralReceived
from infra.batches import Incoming
from infra.calendar import STOCKHOLM
from infra.settings import Settings
from infra.store import store_env
from services.intake.application import Intake
from services.intake.priority import DEFAULT_ORDERS
from services.intake.rules import IntakePolicy
from services.scheduling.application import Scheduling
from tests.integration.test_scheduling_support import Clock, scheduling
from tests.support.intake import entry, personal_number
from tests.support.intake import referral as any_referral

RECEIVED = datetime(2026, 3, 2, 9, tzinfo=STOCKHOLM)


def referral(**fields: Any) -> dict[str, Any]:
    """A referral sent the day it is received (intake refuses one dated after that day)."""
    return any_referral(**{"submitted_at": RECEIVED.isoformat(), **fields})


def _counselling(**fields: Any) -> dict[str, Any]:
    partners = [
        {"role": "partner", "personal_number": personal_number(date(1980 + n, 3, 4)),
         "municipality_code": "0580"}
        for n in range(2)
    ]  # fmt: skip
    return referral(programme="counselling", persons=partners, **fields)


def _coordinated(**fields: Any) -> dict[str, Any]:
    consent = {"given": True, "form_ref": "SAMTYCKE-1", "given_at": "2026-03-01"}
    return referral(programme="coordinated", consent=consent, indicators=sorted(INDICATORS),
                    **fields)  # fmt: skip


INDICATORS = {
    "several_members_need_support", "uncoordinated_actors", "extraordinary_support_needs",
    "economic_vulnerability", "risk_not_qualifying_upper_secondary",
}  # fmt: skip


def _through_intake(
    settings: Settings, policy: IntakePolicy, bodies: list[tuple[str, dict[str, Any]]]
) -> dict[str, ReferralReceived]:
    """Each body sent to intake a minute apart; its ReferralReceived by the body's name."""
    clock = Clock(RECEIVED)
    intake = Intake(store_env(settings, "intake", encrypted=True), policy=policy, clock=clock)
    try:
        for n, (_, body) in enumerate(bodies):
            items = [Incoming(f"{n}-0", "intake.referrals", decode(entry(body)))]
            assert intake.process("intake", items) == {f"{n}-0": None}
            clock.advance(minutes=1)
        _, out = intake.outbox(0, 1000)
    finally:
        intake.close()
    received = {m.message.referral_id: m.message for m in out}
    by_name = {name: received[body["referral_id"]] for name, body in bodies}
    assert all(isinstance(m, ReferralReceived) for m in by_name.values())
    return by_name  # type: ignore[return-value]


def _queue(settings: Settings, messages: dict[str, ReferralReceived]) -> dict[str, list[str]]:
    """Scheduling's queue per programme, by the names of the referrals."""
    app: Scheduling = scheduling(settings, Clock(RECEIVED + timedelta(hours=1)))
    try:
        items = [
            Incoming(f"{n}-0", "intake.events", decode(encode(m, id=uuid.uuid4())))
            for n, m in enumerate(messages.values())
        ]
        assert all(e is None for e in app.process("scheduling", items).values())
        names = {m.case_id: name for name, m in messages.items()}
        return {
            p: [names[row.case.id] for row in app.queue(p)]
            for p in ("network", "counselling", "coordinated")
        }
    finally:
        app.close()


def _bodies() -> list[tuple[str, dict[str, Any]]]:
    # Sent in the reverse of the order they are served in, so receipt order cannot explain it.
    return [
        ("service", referral()),
        ("acute service", referral(urgency="acute")),
        ("decided", referral(basis="decision", decision_ref="SoL-1")),
        ("acute decided", referral(basis="decision", decision_ref="SoL-2", urgency="acute")),
        ("counselling", _counselling()),
        ("acute counselling", _counselling(urgency="acute")),
        ("coordinated", _coordinated()),
        ("acute coordinated", _coordinated(urgency="acute")),
    ]


def test_each_programme_is_served_in_its_seeds_order(store_settings: Settings) -> None:
    messages = _through_intake(store_settings, IntakePolicy(), _bodies())
    assert {n: m.priority for n, m in messages.items()} == {
        "service": 3, "acute service": 2, "decided": 1, "acute decided": 1,
        "counselling": 3, "acute counselling": 1, "coordinated": 3, "acute coordinated": 1,
    }  # fmt: skip
    assert _queue(store_settings, messages) == {
        "network": ["acute decided", "decided", "acute service", "service"],
        "counselling": ["acute counselling", "counselling"],
        "coordinated": ["acute coordinated", "coordinated"],
    }


def test_network_work_puts_acute_cases_above_decided_assistance_when_set_so(
    store_settings: Settings,
) -> None:
    orders = {**DEFAULT_ORDERS, "network": ("acute", "decision", "service")}
    messages = _through_intake(store_settings, IntakePolicy(priority_orders=orders), _bodies())
    assert [messages[n].priority for n in ("acute service", "decided", "service")] == [1, 2, 3]
    # Both acute cases have priority 1: the earlier received (acute service) comes first.
    assert _queue(store_settings, messages)["network"] == [
        "acute service", "acute decided", "decided", "service",
    ]  # fmt: skip
