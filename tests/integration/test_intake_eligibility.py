"""Coordinated support's indicators (issue 14, item 12): all five by default; the
administration's decision, recorded in intake's store, relaxes it from then on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.settings import Settings
from services.intake.eligibility import RULE_ID
from services.intake.settings import IntakeSettings
from tests.support.intake import Clock, make_intake, referral, running_intake

THREE = ["economic_vulnerability", "extraordinary_support_needs", "uncoordinated_actors"]
DECISION = {
    "required": 3,
    "decided_by": "Omsorgsnämnden",
    "decision_ref": "ON 2026/0412",
    "reason": "three indicators suffice for the pilot year",
}


def coordinated(indicators: list[str], **fields: Any) -> dict[str, Any]:
    consent = {"given": True, "form_ref": "SAMTYCKE-9", "given_at": "2026-11-01"}
    return referral(programme="coordinated", consent=consent, indicators=indicators, **fields)


async def test_a_recorded_decision_relaxes_the_indicators_for_referrals_after_it(
    store_settings: Settings,
) -> None:
    clock = Clock()
    before = coordinated(THREE)
    async with running_intake(store_settings, clock) as (_, _, http):
        refused = await http.post("/referrals", json=before)
        seed = (await http.get("/eligibility/indicators")).json()
        decided = await http.post("/eligibility/indicators", json=DECISION)
        clock.advance(minutes=1)
        after = await http.post("/referrals", json=coordinated(THREE))
        sent_again = await http.post("/referrals", json=before)
        two = await http.post("/referrals", json=coordinated(THREE[:2]))
        abolish = await http.post("/eligibility/indicators", json={**DECISION, "required": 0})
        anonymous = await http.post("/eligibility/indicators", json={**DECISION, "decided_by": ""})
        view = (await http.get("/eligibility/indicators")).json()
    assert refused.status_code == 422
    named = [r["message"].split("not given: ")[1] for r in refused.json()["reasons"]]
    assert [n.split(" ")[0] for n in named] == [
        "several_members_need_support",
        "risk_not_qualifying_upper_secondary",
    ]
    assert seed == {"required": 5, "default": 5, "decisions": []}
    assert decided.status_code == 201 and decided.json()["required"] == 3
    assert after.status_code == 202
    assert sent_again.json() == refused.json(), "judged when received: its answer stands"
    assert two.status_code == 422 and len(two.json()["reasons"]) == 3
    assert all("at least 3 of the five" in r["message"] for r in two.json()["reasons"])
    assert abolish.status_code == anonymous.status_code == 422
    [recorded] = view["decisions"]
    assert {k: recorded[k] for k in DECISION} == DECISION
    assert recorded["at"] == Clock().now.isoformat(), "recorded when decided"


def test_the_decision_is_an_event_in_intakes_store_read_by_every_instance(
    store_settings: Settings,
) -> None:
    from services.intake.eligibility import decide

    clock = Clock()
    deciding, other = make_intake(store_settings, clock), make_intake(store_settings, clock)
    try:
        refused = other.submit(json.dumps(coordinated(THREE)).encode())
        decide(deciding, 3, "Omsorgsnämnden", "ON 2026/0412", "pilot year")
        clock.advance(seconds=1)
        accepted = other.submit(json.dumps(coordinated(THREE)).encode())
        [event] = list(other.events.get(RULE_ID))
    finally:
        deciding.close()
        other.close()
    assert not refused.accepted and accepted.accepted
    assert (event.required, event.decided_by, event.decision_ref) == (  # type: ignore[attr-defined]
        3,
        "Omsorgsnämnden",
        "ON 2026/0412",
    )


def test_the_old_setting_is_refused_with_what_to_do_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOTS_INTAKE_MIN_INDICATORS", "1")
    with pytest.raises(ValueError, match="POST /eligibility/indicators"):
        IntakeSettings()
