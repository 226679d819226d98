"""Scheduling under its runtime over a real Redis: intake's events in, plain contract entries out
on ``scheduling.events``, and the periodic deadline check publishing what it finds."""

from __future__ import annotations

import json
from datetime import timedelta

import anyio
import redis

from events.codec import encode
from infra.runtime import Periodic, Runtime
from infra.settings import Settings
from tests.integration.test_scheduling_support import Clock, local, referral, scheduling, staff
from tests.support.flow import eventually

MONDAY = local(2026, 3, 2, 9)


async def test_intake_events_in_contract_entries_out(
    settings: Settings, redis_client: redis.Redis
) -> None:
    clock = Clock(MONDAY)
    app = scheduling(settings, clock)
    app.register_staff(staff("anna"))
    job = Periodic("scheduling-deadlines", 0.05, app.check_deadlines)
    runtime = Runtime("scheduling", app, settings, settings.redis_url, periodic=[job])
    out = settings.stream("scheduling.events")
    await runtime.start()
    try:
        served, unserved = referral(MONDAY), referral(MONDAY, "coordinated")  # no SIP staff
        for message in (served, unserved):
            fields = encode(message, correlation_id=str(message.case_id))
            redis_client.xadd(settings.stream("intake.events"), fields)  # type: ignore[arg-type]
        await eventually(lambda: len(app.queue()) == 2)
        (meeting,) = (await anyio.to_thread.run_sync(app.book_first_contacts)).booked
        clock.now = meeting.ends_at + timedelta(minutes=30)
        await anyio.to_thread.run_sync(
            lambda: app.record_held(
                meeting.id, started_at=meeting.starts_at, ended_at=meeting.ends_at, participants=2
            )
        )
        clock.now = local(2026, 3, 17, 0, 1)  # the periodic job finds the unserved case overdue
        types = ["MeetingScheduled", "MeetingHeld", "FirstContactOverdue"]
        await eventually(lambda: [f["type"] for _, f in redis_client.xrange(out)] == types)
        assert app.store.count_processed("scheduling") == 2  # both entries, once each
    finally:
        await runtime.stop()
        app.close()
    entries = [f for _, f in redis_client.xrange(out)]
    held = entries[1]
    assert set(held) == {"type", "version", "id", "data", "correlation_id"}
    assert held["version"] == "1" and held["correlation_id"] == str(served.case_id)
    data = json.loads(held["data"])
    assert data["meeting_id"] == str(meeting.id) and data["staff"] == ["anna"]
    assert data["started_at"] == meeting.starts_at.isoformat() and data["client_visits"] == 1
    overdue = json.loads(entries[2]["data"])
    assert overdue["case_id"] == str(unserved.case_id)
    assert overdue["first_contact_due"] == "2026-03-16"
