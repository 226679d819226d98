"""Billing's runtime against a real Redis: a held meeting in, one SessionLogged out."""

from __future__ import annotations

import json
import uuid
from typing import Any

import redis

from infra.runtime import Runtime
from infra.settings import Settings
from services.billing.app import make_app
from tests.support.flow import eventually

MEETING_ID = "6f1c1a52-4a43-4f4e-9d0e-3b8f3b7c0a01"
# A MeetingHeld exactly as any Redis client would write it: plain fields, data as JSON text.
DATA = json.dumps(
    {
        "meeting_id": MEETING_ID,
        "case_id": "0b5cbd8e-3e0c-4a55-8a4e-0c1b2d3e4f50",
        "programme": "counselling",
        "kind": "counselling",
        "format": "couple",
        "provider": "leanlink",
        "staff": ["staff-anna"],
        "started_at": "2022-05-03T13:00:00+02:00",
        "ended_at": "2022-05-03T14:20:00+02:00",
        "participants": 2,
        "client_visits": 1,
    }
)


def plain(entry_id: str) -> dict[str, str]:
    return {"type": "MeetingHeld", "version": "1", "id": entry_id, "data": DATA}


def published(client: redis.Redis, settings: Settings, kind: str) -> list[dict[str, Any]]:
    entries = client.xrange(settings.stream("billing.events"))
    return [f for _, f in entries if f["type"] == kind]  # type: ignore[union-attr]


async def test_a_held_meeting_on_the_stream_gives_one_session_logged(
    settings: Settings, redis_client: redis.Redis
) -> None:
    stream = settings.stream("scheduling.events")
    first = str(uuid.uuid4())
    redis_client.xadd(stream, plain(first))  # type: ignore[arg-type]
    redis_client.xadd(stream, plain(first))  # type: ignore[arg-type]  # delivered twice
    redis_client.xadd(stream, plain(str(uuid.uuid4())))  # type: ignore[arg-type]  # re-published
    app = make_app(settings)
    runtime = Runtime("billing", app, settings, settings.redis_url)
    await runtime.start()
    try:
        # All three applied (two of them change nothing), and the one session relayed.
        await eventually(lambda: runtime.counters.processed >= 3)
        await eventually(lambda: bool(published(redis_client, settings, "SessionLogged")))
    finally:
        await runtime.stop()
        app.close()

    [logged] = published(redis_client, settings, "SessionLogged")
    assert logged["version"] == "1" and logged["causation_id"] == first
    data = json.loads(logged["data"])
    assert data["meeting_id"] == MEETING_ID and data["settlement_month"] == "2022-05"
    assert (data["minutes"], data["billable_quarters"], data["client_hours"]) == (80, 6, "1.50")
    assert (data["rate"], data["amount_ore"], data["fee_ore"]) == ("605.00", 90_750, 20_000)
    assert logged["correlation_id"] == data["case_id"]
    assert redis_client.xpending(stream, "billing")["pending"] == 0  # type: ignore[index]
