"""What any command records is published at once: every save wakes the outbox relay, from
whichever thread saved (a sync route runs in a worker thread), not only intake's routes.

The relay here polls once a minute: an entry on Redis within seconds came from the wake."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from fastapi.testclient import TestClient

from infra.auth import Role
from infra.runtime import Runtime
from infra.settings import Settings
from services.scheduling.http import routers
from tests.integration.test_scheduling_support import Clock, deliver, local, referral, scheduling
from tests.support.auth import api, headers

MONDAY = local(2026, 3, 2, 8)
ANNA = {"staff_id": "anna", "provider": "leanlink", "programmes": ["counselling"],
        "competences": [], "weekly_capacity_hours": 20}  # fmt: skip


async def published(client: aioredis.Redis, stream: str, kind: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        entries = await client.xrange(stream)
        if any(fields[b"type"] == kind.encode() for _, fields in entries):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_booking_made_over_http_is_published_without_waiting_for_the_poll(
    settings: Settings,
) -> None:
    slow = settings.model_copy(update={"relay_interval_ms": 60_000})
    app = scheduling(slow, Clock(MONDAY))
    runtime = Runtime("scheduling", app, slow, slow.redis_url)
    await runtime.start()
    client = aioredis.from_url(slow.redis_url)
    try:
        await asyncio.sleep(0.5)  # the relay's first round has run; it now sleeps a minute
        case = referral(MONDAY)
        deliver(app, case)
        http = TestClient(api(slow, routers(app)), headers=headers(slow, Role.STAFF))
        with http:
            assert http.post("/staff", json=ANNA).status_code == 201
            booked = http.post("/bookings/first-contacts", json={"limit": 1}).json()["booked"]
        assert len(booked) == 1
        stream = f"{slow.stream_prefix}scheduling.events"
        assert await published(client, stream, "MeetingScheduled", seconds=20)
    finally:
        await client.aclose()
        await runtime.stop()
        app.close()
