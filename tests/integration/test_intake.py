"""Intake over a real Redis and store: answers, idempotency, the case's life, deadlines."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import redis

from events.codec import encode
from events.scheduling import MeetingHeld
from infra.settings import Settings
from tests.support.flow import eventually
from tests.support.intake import Clock, entry, personal_number, referral, running_intake


def _events(client: redis.Redis, settings: Settings) -> list[dict[str, Any]]:
    return [
        {"type": f["type"], **json.loads(f["data"])}
        for _, f in client.xrange(settings.stream("intake.events"))
    ]


async def test_http_and_stream_share_one_answer_per_referral(
    settings: Settings, redis_client: redis.Redis
) -> None:
    body = referral()
    resent = [entry(body), entry(body)]  # the same referral sent again, under new message ids
    async with running_intake(settings, Clock()) as (app, _, http):
        first = await http.post("/referrals", json=body)
        again = await http.post("/referrals", json=body)
        for fields in resent:
            redis_client.xadd(settings.stream("intake.referrals"), fields)  # type: ignore[arg-type]
        await eventually(lambda: app.store.count_processed("intake") == 2)
        await eventually(lambda: len(_events(redis_client, settings)) == 3)
        looked_up = await http.get(f"/referrals/{body['source']}/{body['referral_id']}")
        stored = app.recorder.max_notification_id()
    assert first.status_code == again.status_code == looked_up.status_code == 202
    assert first.json()["case_id"] == again.json()["case_id"] == looked_up.json()["case_id"]
    entries = [f for _, f in redis_client.xrange(settings.stream("intake.events"))]
    received, *repeats = _events(redis_client, settings)
    assert received["type"] == "ReferralReceived" and received["repeat_of"] is None
    assert received["case_id"] == first.json()["case_id"]
    # Each re-sent message gets the first answer again, caused by it; the HTTP repeat does
    # not (its answer was the response).
    assert [f["causation_id"] for f in entries[1:]] == [f["id"] for f in resent]
    for repeat in repeats:
        assert repeat.pop("repeat_of") == entries[0]["id"]
        assert repeat == {k: v for k, v in received.items() if k != "repeat_of"}
    assert stored == 3, "one case, and two answers given again"


async def test_a_rejection_over_http_lists_every_reason(settings: Settings) -> None:
    body = referral(programme="coordinated", note="x" * 2001, basis="decision")
    body["persons"][0]["personal_number"] = "201407142396"
    async with running_intake(settings, Clock()) as (_, _, http):
        response = await http.post("/referrals", json=body)
        repeat = await http.post("/referrals", json=body)
    assert response.status_code == 422
    codes = {r["code"] for r in response.json()["reasons"]}
    assert {
        "invalid_personal_number",
        "missing_consent",
        "no_eligibility_indicator",
        "note_too_long",
        "basis_not_offered",
    } <= codes
    assert repeat.json() == response.json(), "the first answer stands"
    assert "201407142396" not in response.text


async def test_unreadable_http_bodies_get_a_clear_422_and_record_nothing(
    settings: Settings,
) -> None:
    async with running_intake(settings, Clock()) as (app, _, http):
        not_json = await http.post("/referrals", content=b"{oops")
        anonymous = await http.post("/referrals", json={"programme": "network"})
        wrong_types = await http.post(
            "/referrals",
            json={"source": "linkoping.elevhalsa", "referral_id": "r", "persons": "many"},
        )
        assert app.recorder.max_notification_id() == 1  # only the wrong-types rejection
    assert not_json.status_code == anonymous.status_code == 422
    assert not_json.json()["reasons"][0]["code"] == "malformed"
    assert {(r["code"], r["field"]) for r in anonymous.json()["reasons"]} == {
        ("malformed", "source"),
        ("malformed", "referral_id"),
    }
    assert wrong_types.status_code == 422
    reasons = wrong_types.json()["reasons"]
    assert {r["code"] for r in reasons} == {"malformed"}
    assert {r["field"] for r in reasons} == {"programme", "persons"}


async def test_an_id_with_slashes_reads_back_and_one_that_forges_lines_is_refused(
    settings: Settings, redis_client: redis.Redis
) -> None:
    slashed = referral(referral_id="EH/2026/000123/")
    source = slashed["source"]
    forged = referral(referral_id="EH-1\n2026-11-02T09:00:00+01:00  intake  Case.Closed")
    stream = settings.stream("intake.referrals")
    async with running_intake(settings, Clock()) as (app, _, http):
        sent = await http.post("/referrals", json=slashed)
        plain = await http.get(f"/referrals/{source}/EH/2026/000123/")
        encoded = await http.get(f"/referrals/{source}/EH%2F2026%2F000123%2F")
        shorter = await http.get(f"/referrals/{source}/EH/2026/000123")
        refused = await http.post("/referrals", json=forged)
        redis_client.xadd(stream, entry(forged))  # type: ignore[arg-type]
        await eventually(lambda: redis_client.xlen(f"{stream}.dead") == 1)
        stored = app.recorder.max_notification_id()
    assert sent.status_code == plain.status_code == encoded.status_code == 202
    assert sent.json() == plain.json() == encoded.json()
    assert shorter.status_code == 404 and "EH" not in shorter.text
    assert refused.status_code == 422 and refused.json()["referral_id"] is None
    assert [(r["code"], r["field"]) for r in refused.json()["reasons"]] == [
        ("malformed", "referral_id")
    ]
    assert "2026-11-02T09" not in refused.text, "the input is not echoed"
    assert stored == 2, "the case and the dead letter's kept content; nothing for the forged id"
    assert len(_events(redis_client, settings)) == 1


async def test_counselling_for_non_residents_needs_a_recorded_exception(
    settings: Settings,
) -> None:
    couple = [
        {
            "role": "partner",
            "personal_number": personal_number(date(1980, 1, 2)),
            "municipality_code": "0581",
        },
        {
            "role": "partner",
            "personal_number": personal_number(date(1982, 3, 4), "342"),
            "municipality_code": "0580",
        },
    ]
    plain = referral(programme="counselling", persons=couple)
    excepted = referral(programme="counselling", persons=couple)
    async with running_intake(settings, Clock()) as (_, _, http):
        grant = await http.post(
            "/residency-exceptions",
            json={
                "source": excepted["source"],
                "referral_id": excepted["referral_id"],
                "granted_by": "administration",
                "reason": "moving to Linköping",
            },
        )
        rejected = await http.post("/referrals", json=plain)
        accepted = await http.post("/referrals", json=excepted)
    assert grant.status_code == 201
    assert rejected.status_code == 422
    assert [r["code"] for r in rejected.json()["reasons"]] == ["not_resident"]
    assert accepted.status_code == 202


async def test_acknowledgement_deadline_is_recorded_once_and_visible(
    settings: Settings, redis_client: redis.Redis
) -> None:
    clock = Clock()  # Monday 2 November 2026, 10:00 in Stockholm
    async with running_intake(settings, clock) as (app, _, http):
        late = (await http.post("/referrals", json=referral())).json()["case_id"]
        on_time = (await http.post("/referrals", json=referral())).json()["case_id"]
        clock.advance(hours=23)
        ack = await http.post(f"/cases/{on_time}/acknowledgement", json={"by": "anna"})
        assert app.check_acknowledgements() == []
        clock.advance(hours=1, minutes=1)
        assert [str(c) for c in app.check_acknowledgements()] == [late]
        assert app.check_acknowledgements() == []  # noted once
        view = (await http.get(f"/cases/{late}")).json()
        await eventually(lambda: len(_events(redis_client, settings)) == 4)
    assert ack.status_code == 200 and ack.json()["acknowledged_at"] is not None
    assert view["ack_overdue"] is True and view["acknowledged_at"] is None
    by_type = {e["type"]: e for e in _events(redis_client, settings)}
    assert by_type["CaseAcknowledged"]["within_deadline"] is True
    assert by_type["AcknowledgementOverdue"]["case_id"] == late


async def test_a_case_follows_meetings_and_closes_with_its_outcome(
    settings: Settings, redis_client: redis.Redis
) -> None:
    clock = Clock()
    async with running_intake(settings, clock) as (app, _, http):
        case_id = (await http.post("/referrals", json=referral())).json()["case_id"]
        start = clock.now + timedelta(days=3)
        held = MeetingHeld(
            meeting_id=uuid.uuid4(),
            case_id=uuid.UUID(case_id),
            programme="network",
            kind="network_meeting",
            format="group",
            provider="leanlink",
            staff=["s"],
            started_at=start,
            ended_at=start + timedelta(minutes=90),
            participants=6,
            client_visits=0,
        )
        fields = encode(held)
        redis_client.xadd(settings.stream("scheduling.events"), fields)  # type: ignore[arg-type]
        redis_client.xadd(settings.stream("scheduling.events"), fields)  # type: ignore[arg-type]
        await eventually(lambda: app.case(uuid.UUID(case_id)).minutes_used == 90)
        clock.advance(days=40)
        closed = await http.post(
            f"/cases/{case_id}/closure", json={"outcome": "goals_met", "by": "anna"}
        )
        twice = await http.post(
            f"/cases/{case_id}/closure", json={"outcome": "moved", "by": "anna"}
        )
        unknown = await http.post(
            f"/cases/{uuid.uuid4()}/closure", json={"outcome": "moved", "by": "anna"}
        )
        bad = await http.post(f"/cases/{case_id}/closure", json={"outcome": "won", "by": "a"})
        await eventually(
            lambda: any(e["type"] == "CaseClosed" for e in _events(redis_client, settings))
        )
    assert closed.status_code == 200
    view = closed.json()
    assert view["minutes_used"] == 90 and view["network_norm_minutes"] == 780
    assert view["first_contact_at"] is not None
    assert view["outcome"] == "goals_met" and view["throughput_days"] == 40
    assert twice.status_code == 409 and unknown.status_code == 404 and bad.status_code == 422


async def test_the_answer_flags_a_referral_to_a_programme_with_no_contract_in_force(
    settings: Settings, redis_client: redis.Redis
) -> None:
    network = referral()  # the joint contract of 002 ended 2021-08-31; no extension set
    counselling = referral(programme="counselling")
    over_http = referral()
    async with running_intake(settings, Clock()) as (_app, _, http):
        for body in (network, counselling):
            redis_client.xadd(settings.stream("intake.referrals"), entry(body))  # type: ignore[arg-type]
        await eventually(lambda: len(_events(redis_client, settings)) == 2)
        answered = await http.post("/referrals", json=over_http)
    assert answered.status_code == 202  # accepted, and flagged in the answer too
    assert answered.json()["no_contract_in_force"]["contract"] == "coordinated-network-2018"
    answers = {a["referral_id"]: a for a in _events(redis_client, settings)}
    flagged, served = answers[network["referral_id"]], answers[counselling["referral_id"]]
    assert flagged["type"] == served["type"] == "ReferralReceived"  # accepted, and flagged
    assert flagged["no_contract_in_force"] == {
        "contract": "coordinated-network-2018",
        "ended_on": "2021-08-31",
        "message": "network: contract coordinated-network-2018 ended on 2021-08-31; "
        "no contract in force on 2026-11-02",
    }
    assert served["no_contract_in_force"] is None
