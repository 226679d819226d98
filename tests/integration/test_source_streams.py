"""Referral streams of their own: each source's writer speaks for that source only.

Intake runs logged in as its ACL user on a redis-server 7 whose ACL has a user and a stream
per source (``LOTS_INTAKE_SOURCES``); writers are those users, ``default`` on the shared stream,
and ``admin`` for what the ACL would refuse a writer.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from pydantic import SecretStr

from events.codec import encode
from events.scheduling import MeetingHeld
from infra.monitor import stream_report
from infra.settings import Settings
from services.intake.referral_keys import referral_key
from tests.support.acl import acl_server, as_user, denials, password
from tests.support.flow import eventually
from tests.support.intake import Clock, entry, referral, running_intake

ELEVHALSA, BUP, SOCIAL = "linkoping.elevhalsa", "region.ostergotland.bup", "linkoping.socialtjanst"
OWN = frozenset({ELEVHALSA, BUP})


def answers(client: redis.Redis, stream: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(source, referral_id) to the type and data of each answer intake published."""
    found = {}
    for _, fields in client.xrange(stream):
        data = json.loads(fields["data"])
        if "referral_id" in data:
            found[(data["source"], data["referral_id"])] = {"type": fields["type"], **data}
    return found


def held(case_id: uuid.UUID) -> MeetingHeld:
    start = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    return MeetingHeld(
        meeting_id=uuid.uuid4(),
        case_id=case_id,
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


def dead(client: redis.Redis, stream: str) -> list[dict[str, str]]:
    return [fields for _, fields in client.xrange(f"{stream}.dead")]


async def test_each_source_is_answered_on_its_own_stream_and_cannot_speak_for_another(
    tmp_path: Path, settings: Settings, prefix: str
) -> None:
    with acl_server(tmp_path / "redis", prefix, OWN) as server:
        settings = settings.model_copy(
            update={
                "redis_url": server.url,
                "redis_username": "intake",
                "redis_password": SecretStr(password("intake")),
                "intake_sources": OWN,
            }
        )
        admin = as_user(server.url, "admin", decode_responses=True)
        elevhalsa = as_user(server.url, f"source.{ELEVHALSA}")
        bup = as_user(server.url, f"source.{BUP}")
        anyone = redis.Redis.from_url(server.url)  # default: the shared stream
        shared = settings.stream("intake.referrals")
        own, bups = f"{shared}.{ELEVHALSA}", f"{shared}.{BUP}"
        events = settings.stream("intake.events")
        first, unmigrated = referral(source=ELEVHALSA), referral(source=SOCIAL)
        # bup's writer claims elevhalsa's ids, readable and not; on the shared stream someone
        # claims another of elevhalsa's
        taken, malformed, after = (f"EH-{uuid.uuid4().hex[:8]}" for _ in range(3))
        claimed = referral(source=ELEVHALSA, referral_id=taken, note="not elevhalsa's")
        bup.xadd(bups, entry(claimed))  # type: ignore[arg-type]
        bup.xadd(bups, entry({"source": ELEVHALSA, "referral_id": malformed}))  # type: ignore[arg-type]
        anyone.xadd(shared, entry(referral(source=ELEVHALSA, referral_id=after)))  # type: ignore[arg-type]
        elevhalsa.xadd(own, entry(first))  # type: ignore[arg-type]
        anyone.xadd(shared, entry(unmigrated))  # type: ignore[arg-type]

        async with running_intake(settings, Clock()) as (app, runtime, _http):
            assert {"intake.referrals", own.removeprefix(prefix)} <= set(runtime.consumes)
            await eventually(lambda: len(answers(admin, events)) == 2, timeout=30)
            case_id = referral_key(ELEVHALSA, first["referral_id"])
            bup.xadd(bups, encode(held(case_id)))  # type: ignore[arg-type]  # not a referral
            await eventually(lambda: len(dead(admin, bups)) == 3 and len(dead(admin, shared)) == 1)
            assert app.case(case_id).minutes_used == 0  # the forged meeting was not counted
            for referral_id in (taken, malformed, after):  # nothing recorded under the claims
                assert app.answer(ELEVHALSA, referral_id) is None
            # elevhalsa's own referrals under those ids are its own: not pre-empted
            for referral_id in (taken, malformed, after):
                elevhalsa.xadd(own, entry(referral(source=ELEVHALSA, referral_id=referral_id)))  # type: ignore[arg-type]
            await eventually(lambda: len(answers(admin, events)) == 5, timeout=30)
            await eventually(lambda: admin.xlen(bups) + admin.xlen(own) + admin.xlen(shared) == 0)
        operator = as_user(server.url, "operator")
        rows = {r["stream"]: r for r in stream_report(operator, prefix, sources=OWN)}

        got = answers(admin, events)
        expected = [(ELEVHALSA, first["referral_id"]), (SOCIAL, unmigrated["referral_id"])]
        for key in [*expected, *((ELEVHALSA, i) for i in (taken, malformed, after))]:
            assert got[key]["type"] == "ReferralReceived", key
        errors = [d["error"] for d in dead(admin, bups)]
        assert [e.split(":")[0] for e in errors] == [
            "source_mismatch",
            "source_mismatch",
            "not_a_referral",
        ]
        assert f"intake.referrals.{BUP} carries the referrals of source {BUP} only" in errors[0]
        [moved] = dead(admin, shared)
        assert moved["error"].startswith(
            f"source_has_own_stream: this source sends on intake.referrals.{ELEVHALSA}"
        )
        for letter in [*dead(admin, bups), moved]:  # the referral stays in intake's store only
            assert set(letter) == {"type", "dead_letter_ref", "error", "attempts", "failed_at",
                                   "entry_id", "group"}  # fmt: skip
        assert rows[f"intake.referrals.{BUP}"]["dead_letters"] == 3
        assert rows[f"intake.referrals.{ELEVHALSA}"]["pending"] == 0
        assert denials(server.url) == []  # intake did all of it as itself
        for client in (admin, elevhalsa, bup, anyone, operator):
            client.close()


async def test_a_closed_shared_stream_refuses_what_is_left_on_it(
    settings: Settings, redis_client: redis.Redis
) -> None:
    settings = settings.model_copy(
        update={"intake_sources": frozenset({BUP}), "intake_shared_stream": False}
    )
    shared = settings.stream("intake.referrals")
    left, own = referral(source=SOCIAL), referral(source=BUP)
    redis_client.xadd(shared, entry(left))  # type: ignore[arg-type]
    redis_client.xadd(f"{shared}.{BUP}", entry(own))  # type: ignore[arg-type]
    async with running_intake(settings, Clock()) as (app, _, http):
        await eventually(lambda: len(dead(redis_client, shared)) == 1)
        await eventually(lambda: app.answer(BUP, own["referral_id"]) is not None)
        over_http = await http.post("/referrals", json=referral(source=SOCIAL))
        assert app.answer(SOCIAL, left["referral_id"]) is None
    [letter] = dead(redis_client, shared)
    assert letter["error"].startswith("shared_stream_closed: intake.referrals takes no referrals")
    assert redis_client.xlen(shared) == 0  # its personal data is off Redis
    assert over_http.status_code == 202  # HTTP binds a source by its token, not by a stream
