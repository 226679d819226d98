"""Hostile input over a real Redis and store: a flooding source is refused for a while with
``rate_limited`` while the others flow, every message gets exactly one answer, the refusals are
recorded (a replay agrees), and an oversized entry is dead-lettered without holding others."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from uuid import UUID

import redis

from events.codec import MAX_DATA_BYTES
from infra.settings import Settings
from services.intake.domain import RateLimitedReferral
from services.intake.limits import Rate, SourceLimiter
from services.intake.referral_keys import referral_key
from tests.support.flow import eventually
from tests.support.intake import Clock, entry, make_intake, referral, running_intake

FLOOD, QUIET = "flood.example", "linkoping.elevhalsa"


def _answers(client: redis.Redis, settings: Settings) -> list[dict[str, Any]]:
    return [
        {"type": f["type"], "causation_id": f.get("causation_id"), **json.loads(f["data"])}
        for _, f in client.xrange(settings.stream("intake.events"))
        if f["type"] in ("ReferralReceived", "ReferralRejected")
    ]


def _limited(answer: dict[str, Any]) -> bool:
    return answer["type"] == "ReferralRejected" and [r["code"] for r in answer["reasons"]] == [
        "rate_limited"
    ]


async def test_a_flooding_source_is_refused_while_another_flows_and_each_gets_one_answer(
    settings: Settings, redis_client: redis.Redis
) -> None:
    clock = Clock()
    limits = SourceLimiter(default=Rate(per_minute=600, burst=50), overrides={FLOOD: Rate(60, 3)})
    stream = settings.stream("intake.referrals")
    flood = [referral(source=FLOOD) for _ in range(12)]
    quiet = [referral(source=QUIET) for _ in range(6)]
    bodies = [*flood[:6], *quiet[:3], *flood[6:], *quiet[3:]]  # the sources interleaved
    sent = [entry(body) for body in bodies]
    async with running_intake(settings, clock, limits) as (app, _, _):
        for fields in sent:
            redis_client.xadd(stream, fields)  # type: ignore[arg-type]
        await eventually(lambda: len(_answers(redis_client, settings)) == len(sent))
        first = _answers(redis_client, settings)

        # A minute later the same refused referrals, sent again as new messages, are evaluated.
        refused = [a["referral_id"] for a in first if _limited(a)]
        clock.advance(seconds=60)
        again = [entry(b) for b in flood if b["referral_id"] in refused[:3]]
        for fields in again:
            redis_client.xadd(stream, fields)  # type: ignore[arg-type]
        await eventually(lambda: len(_answers(redis_client, settings)) == len(sent) + len(again))
        # A redelivered copy of an answered message (same id) changes nothing.
        redis_client.xadd(stream, sent[-1])  # type: ignore[arg-type]
        await eventually(lambda: redis_client.xlen(stream) == 0)  # acknowledged and deleted
        processed = app.store.count_processed("intake")
        stored_refusals = app.store.max_notification_id()
    later = _answers(redis_client, settings)[len(sent) :]

    per_message = Counter(a["causation_id"] for a in first)
    assert sorted(per_message) == sorted(f["id"] for f in sent)
    assert set(per_message.values()) == {1}, "exactly one answer per message"
    by_source: dict[str, Counter[str]] = {FLOOD: Counter(), QUIET: Counter()}
    for answer in first:
        kind = "rate_limited" if _limited(answer) else answer["type"]
        by_source[answer["source"]][kind] += 1
    assert by_source[FLOOD] == Counter({"ReferralReceived": 3, "rate_limited": 9})
    assert by_source[QUIET] == Counter({"ReferralReceived": 6})
    limited = next(a for a in first if _limited(a))
    assert limited["reasons"][0]["field"] == "source"
    assert "send this one again in" in limited["reasons"][0]["message"]
    assert [a["type"] for a in later] == ["ReferralReceived"] * 3
    assert {a["referral_id"] for a in later} == set(refused[:3])
    assert processed == len(sent) + 3
    assert stored_refusals == len(sent) + 3, "nothing new for the redelivered copy"

    # The refusals are recorded: a new instance (a fresh limiter) reads the same decisions.
    replayed = make_intake(settings, clock)
    try:
        for body in flood:
            key = referral_key(FLOOD, body["referral_id"])
            answer = replayed.answer(FLOOD, body["referral_id"])
            if body["referral_id"] in refused and body["referral_id"] not in refused[:3]:
                assert answer is None  # refused for now: never answered
                found = replayed.repository.get(RateLimitedReferral.create_id(key))
                assert found.refusals == 1
                history = replayed.case_events(key)  # the refusal is in the referral's history
                assert [type(e).__name__ for e in history] == ["Refused"]
            else:
                assert answer is not None and answer.accepted
    finally:
        replayed.close()


async def test_http_answers_429_with_retry_after_and_shares_the_streams_limit(
    settings: Settings, redis_client: redis.Redis
) -> None:
    clock = Clock()
    limits = SourceLimiter(default=Rate(per_minute=30, burst=2))
    async with running_intake(settings, clock, limits) as (app, _, http):
        redis_client.xadd(settings.stream("intake.referrals"), entry(referral()))  # type: ignore[arg-type]
        await eventually(lambda: app.store.count_processed("intake") == 1)
        body = referral()
        ok = await http.post("/referrals", json=body)
        late = referral()
        refused = await http.post("/referrals", json=late)
        still = await http.post("/referrals", json=late)  # a repeat while refused: refused again
        looked_up = await http.get(f"/referrals/{late['source']}/{late['referral_id']}")
        clock.advance(seconds=1)
        too_early = await http.post("/referrals", json=late)
        clock.advance(seconds=1)  # the wait the first refusal named
        accepted = await http.post("/referrals", json=late)
        repeat = await http.post("/referrals", json=late)
        await eventually(lambda: len(_answers(redis_client, settings)) == 6)
    assert ok.status_code == 202
    assert refused.status_code == still.status_code == too_early.status_code == 429
    assert refused.headers["Retry-After"] == "2" and refused.json()["retry_after_seconds"] == 2
    assert refused.json()["status"] == "rate_limited"
    assert [r["code"] for r in refused.json()["reasons"]] == ["rate_limited"]
    assert looked_up.status_code == 404, "a refusal is not the referral's answer"
    assert accepted.status_code == repeat.status_code == 202
    assert accepted.json()["case_id"] == repeat.json()["case_id"]
    answers = _answers(redis_client, settings)
    assert [_limited(a) for a in answers] == [False, False, True, True, True, False]


async def test_an_oversized_entry_is_dead_lettered_and_the_rest_flow(
    settings: Settings, redis_client: redis.Redis
) -> None:
    stream = settings.stream("intake.referrals")
    huge = entry(referral(source=FLOOD, note="x" * (MAX_DATA_BYTES + 10)))
    after = [entry(referral(source=s)) for s in (FLOOD, QUIET, QUIET)]
    async with running_intake(settings, Clock(), SourceLimiter(default=Rate(600, 50))) as (
        app,
        _,
        _,
    ):
        redis_client.xadd(stream, entry(referral(source=QUIET)))  # type: ignore[arg-type]
        redis_client.xadd(stream, huge)  # type: ignore[arg-type]
        for fields in after:
            redis_client.xadd(stream, fields)  # type: ignore[arg-type]
        await eventually(lambda: len(_answers(redis_client, settings)) == 4)
        await eventually(lambda: redis_client.xlen(f"{stream}.dead") == 1)
        [(_, letter)] = redis_client.xrange(f"{stream}.dead")
        kept = app.repository.get(UUID(letter["dead_letter_ref"]))
    assert [a["type"] for a in _answers(redis_client, settings)] == ["ReferralReceived"] * 4
    assert f"at most {MAX_DATA_BYTES} are read" in letter["error"]
    assert "x" * 100 not in json.dumps(letter), "the content stays in intake's store"
    assert kept.error == letter["error"]


def test_a_referral_resent_while_refused_keeps_one_snapshotted_record(settings: Settings) -> None:
    clock = Clock()
    app = make_intake(settings, clock, SourceLimiter(default=Rate(per_minute=1, burst=1)))
    try:
        assert app.submit(json.dumps(referral()).encode()).accepted
        body = json.dumps(referral()).encode()
        answers = [app.submit(body) for _ in range(60)]
    finally:
        app.close()
    assert all(a.retry_after is not None and not a.accepted for a in answers)
    key = referral_key(QUIET, json.loads(body)["referral_id"])
    again = make_intake(settings, clock)
    try:
        found = again.repository.get(RateLimitedReferral.create_id(key))
        snapshots = list(again.snapshots.get(RateLimitedReferral.create_id(key)))  # type: ignore[union-attr]
    finally:
        again.close()
    assert found.refusals == 60
    assert [s.originator_version for s in snapshots] == [50]
