"""A referral sent again, over a real Redis and store: the same one gets its first answer again
(caused by the new message), a different one under a used key is refused without touching the
first, and a message id used again for another referral is dead-lettered."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import redis

from events.codec import Envelope
from infra.batches import Incoming
from infra.settings import Settings
from infra.topology import INTAKE_EVENTS, REFERRALS
from services.billing.app import make_app as make_billing
from services.intake.domain_case import Case
from services.intake.referral_keys import referral_key
from services.scheduling.app import build as build_scheduling
from tests.support.flow import eventually
from tests.support.intake import (
    Clock,
    entry,
    make_intake,
    personal_number,
    referral,
    running_intake,
)

CONFLICT = "conflicting_resubmission"


def _answers(client: redis.Redis, settings: Settings) -> list[dict[str, Any]]:
    """intake.events' answers: the entry's fields, with ``data`` read."""
    return [
        {**f, "data": json.loads(f["data"])}
        for _, f in client.xrange(settings.stream("intake.events"))
        if f["type"] in ("ReferralReceived", "ReferralRejected")
    ]


def _other_child(body: dict[str, Any]) -> dict[str, Any]:
    """The same (source, referral_id) for another child: a different referral."""
    child = {"role": "child", "personal_number": personal_number(date(2015, 3, 9), "442")}
    return {**body, "persons": [child, *body["persons"][1:]]}


async def test_a_different_referral_under_a_used_id_is_refused_and_the_first_stands(
    settings: Settings, redis_client: redis.Redis
) -> None:
    first = referral()
    second, third = _other_child(first), {**first, "note": "a sibling needs support too"}
    conflicting = entry(third)
    path = f"/referrals/{first['source']}/{first['referral_id']}"
    async with running_intake(settings, Clock()) as (app, _, http):
        accepted = await http.post("/referrals", json=first)
        refused = await http.post("/referrals", json=second)
        refused_again = await http.post("/referrals", json=second)
        redis_client.xadd(settings.stream("intake.referrals"), conflicting)  # type: ignore[arg-type]
        await eventually(lambda: len(_answers(redis_client, settings)) == 3)
        looked_up = await http.get(path)
        repeat = await http.post("/referrals", json=first)
        key = referral_key(first["source"], first["referral_id"])
        history = [type(e).__qualname__ for e in app.case_events(key)]
        case = app.case(key)
    assert accepted.status_code == looked_up.status_code == repeat.status_code == 202
    assert accepted.json() == looked_up.json() == repeat.json(), "the first answer stands"
    assert refused.status_code == refused_again.status_code == 409
    assert refused.json() == refused_again.json()
    [reason] = refused.json()["reasons"]
    assert reason["code"] == CONFLICT and reason["field"] == "referral_id"
    assert "new referral_id" in reason["message"]
    assert second["persons"][0]["personal_number"] not in refused.text
    assert [p["role"] for p in case.household] == ["child", "guardian"]
    assert case.fingerprint is not None

    received, *rejections = _answers(redis_client, settings)
    assert received["type"] == "ReferralReceived"
    assert [r["type"] for r in rejections] == ["ReferralRejected"] * 2, "one per message"
    assert [r["data"]["reasons"] for r in rejections] == [[reason], [reason]]
    assert rejections[1]["causation_id"] == conflicting["id"]
    assert {r["correlation_id"] for r in rejections} == {str(key)}
    assert "sibling" not in json.dumps(rejections)
    # Recorded in intake's store, in the referral's history: a replay gives the same.
    assert history == ["Case.Opened", "ConflictingReferral.Refused", "ConflictingReferral.Refused"]
    replayed = make_intake(settings, Clock())
    try:
        _, out = replayed.outbox(0, 100)
    finally:
        replayed.close()
    assert [str(o.id) for o in out] == [a["id"] for a in _answers(redis_client, settings)]


async def test_the_same_referral_sent_again_is_the_same_whatever_its_submitted_at(
    settings: Settings, redis_client: redis.Redis
) -> None:
    body = referral(submitted_at="2026-11-02T09:14:00+01:00")
    # Written another way, stamped anew, with a field intake does not read: the same referral.
    restamped = {"extra": "ignored", **dict(reversed(body.items()))}
    restamped["submitted_at"] = "2026-11-02T10:02:00+01:00"
    resent = entry(restamped)
    async with running_intake(settings, Clock()) as (_, _, http):
        first = await http.post("/referrals", json=body)
        again = await http.post("/referrals", json=restamped)
        redis_client.xadd(settings.stream("intake.referrals"), resent)  # type: ignore[arg-type]
        await eventually(lambda: len(_answers(redis_client, settings)) == 2)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    original, repeated = _answers(redis_client, settings)
    assert repeated["type"] == "ReferralReceived" and repeated["causation_id"] == resent["id"]
    assert repeated["data"]["repeat_of"] == original["id"]


async def test_a_rejected_referral_sent_again_gets_its_rejection_again_under_a_stable_id(
    settings: Settings, redis_client: redis.Redis
) -> None:
    body = referral(programme="coordinated")  # no consent and no indicators
    sent, resent = entry(body), entry(body)
    stream = settings.stream("intake.referrals")
    clock = Clock()
    async with running_intake(settings, clock) as (app, _, _):
        redis_client.xadd(stream, sent)  # type: ignore[arg-type]
        await eventually(lambda: len(_answers(redis_client, settings)) == 1)
        clock.advance(hours=2)
        redis_client.xadd(stream, resent)  # type: ignore[arg-type]
        redis_client.xadd(stream, resent)  # a redelivered copy: nothing more  # type: ignore[arg-type]
        await eventually(lambda: redis_client.xlen(stream) == 0)
        await eventually(lambda: len(_answers(redis_client, settings)) == 2)
        stored = app.recorder.max_notification_id()
    first, again = _answers(redis_client, settings)
    assert first["type"] == again["type"] == "ReferralRejected"
    assert again["causation_id"] == resent["id"] and first["causation_id"] == sent["id"]
    assert again["data"].pop("repeat_of") == first["id"]
    assert first["data"].pop("repeat_of") is None
    assert again["data"] == first["data"], "the same reasons, the same received_at"
    assert stored == 2
    # Published again (a Redis that lost its streams), the outbox gives the same ids.
    replayed = make_intake(settings, clock)
    try:
        _, out = replayed.outbox(0, 100)
    finally:
        replayed.close()
    assert [str(o.id) for o in out] == [first["id"], again["id"]]


async def test_a_message_id_used_again_for_another_referral_is_dead_lettered(
    settings: Settings, redis_client: redis.Redis
) -> None:
    stream = settings.stream("intake.referrals")
    message_id = uuid.uuid4()
    first = referral()
    other = referral(persons=_other_child(first)["persons"])
    same_key = _other_child(first)
    async with running_intake(settings, Clock()) as (app, _, _):
        redis_client.xadd(stream, entry(first, message_id))  # type: ignore[arg-type]
        await eventually(lambda: len(_answers(redis_client, settings)) == 1)
        redis_client.xadd(stream, entry(first, message_id))  # a redelivery: done, silently
        redis_client.xadd(stream, entry(other, message_id))  # type: ignore[arg-type]
        redis_client.xadd(stream, entry(same_key, message_id))  # type: ignore[arg-type]
        await eventually(lambda: redis_client.xlen(f"{stream}.dead") == 2)
        await eventually(lambda: redis_client.xlen(stream) == 0)
        letters = [f for _, f in redis_client.xrange(f"{stream}.dead")]
        kept = [app.repository.get(uuid.UUID(f["dead_letter_ref"])) for f in letters]
        other_answer = app.answer(other["source"], other["referral_id"])
        answered = app.repository.get(referral_key(first["source"], first["referral_id"]))
    assert [f["error"].split(":")[0] for f in letters] == ["reused_message_id"] * 2
    assert [f["attempts"] for f in letters] == ["1", "1"], "no retry changes it: at once"
    assert "personal_number" not in json.dumps(letters), "the content stays in intake's store"
    assert [json.loads(k.fields["data"])["referral_id"] for k in kept] == [
        other["referral_id"],
        first["referral_id"],
    ]
    assert other_answer is None, "the other referral was not taken"
    assert isinstance(answered, Case) and answered.version == 1
    assert len(_answers(redis_client, settings)) == 1, "nothing answered for them"


def test_scheduling_and_billing_double_nothing_for_an_answer_repeated_or_a_conflict(
    settings: Settings,
) -> None:
    """intake's own messages (the answer, the same answer again, a conflict's rejection for
    the case's key), delivered to scheduling and billing as the runtime would."""
    intake = make_intake(settings, Clock())
    body = referral()
    try:
        for sent in (body, body, _other_child(body)):  # three messages, three ids
            envelope = intake.decode(REFERRALS, entry(sent))
            assert intake.process("intake", [Incoming("1-0", REFERRALS, envelope)]) == {"1-0": None}
        _, published = intake.outbox(0, 100)
    finally:
        intake.close()
    assert [o.message.type_name for o in published] == [
        "ReferralReceived", "ReferralReceived", "ReferralRejected",
    ]  # fmt: skip
    assert published[1].message.repeat_of == published[0].id  # type: ignore[attr-defined]
    envelopes = [
        Envelope(o.message, o.id, o.correlation_id, o.causation_id)  # type: ignore[arg-type]
        for o in published
    ]
    schedule = build_scheduling(settings, clock=Clock())
    billing = make_billing(settings)
    try:
        for app, group in ((schedule, "scheduling"), (billing, "billing")):
            first = app.process(group, [Incoming("1-0", INTAKE_EVENTS, envelopes[0])])
            stored = app.recorder.max_notification_id()
            later = app.process(
                group, [Incoming(f"{n}-0", INTAKE_EVENTS, e) for n, e in enumerate(envelopes)]
            )
            assert set(first.values()) == set(later.values()) == {None}
            assert app.recorder.max_notification_id() == stored, f"{group} stored more"
            assert app.store.count_processed(group) == 3
        [queued] = schedule.queue()
    finally:
        schedule.close()
        billing.close()
    assert queued.case.id == published[0].message.case_id  # type: ignore[attr-defined]
