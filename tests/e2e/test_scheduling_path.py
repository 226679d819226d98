"""The running system, over real Redis: a couple's referral into intake is queued by scheduling,
booked and held over HTTP, and the MeetingHeld on ``scheduling.events`` is consumed by billing.

A first contact is booked at least a day ahead, so the test holds it "later" by restarting the
scheduling service on the project's development clock set past the meeting
(``LOTS_SIMULATED_START``, refused in production); the restart also shows that scheduling picks
up where it left off.
"""

from __future__ import annotations

import json
import signal
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from infra.auth import Role
from infra.monitor import drained, stream_report
from infra.settings import Settings
from lots.supervisor import Supervisor, running
from tests.conftest import free_port
from tests.support.flow import wait_until

COUPLE = {
    "source": "linkoping.familjeradgivning",
    "referral_id": "FR-2026-000042",
    "programme": "counselling",
    "basis": "service",
    "urgency": "normal",
    "persons": [
        {"role": "partner", "personal_number": "198112189876", "municipality_code": "0580"},
        {"role": "partner", "personal_number": "198503121231", "municipality_code": "0580"},
    ],
}
COUNSELLOR = {
    "staff_id": "staff-anna",
    "provider": "leanlink",
    "programmes": ["counselling"],
    "competences": ["violence_in_close_relationships", "childrens_needs"],
    "weekly_capacity_hours": 30,
    "evenings": True,
    "weekends": True,
}


@pytest.fixture
def system(settings: Settings, tmp_path: Path) -> Iterator[Supervisor]:
    ports = {f"{s}_port": free_port() for s in ("intake", "scheduling", "billing")}
    settings = settings.model_copy(update=ports)
    with running(settings, log_file=tmp_path / "services.log") as supervisor:
        yield supervisor


def restart_scheduling_at(system: Supervisor, moment: datetime) -> None:
    """Stop scheduling and start it again with its clock running from ``moment``."""
    child = system.children["scheduling"]
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=20)
    system.env = {**system.env, "LOTS_SIMULATED_START": moment.isoformat()}
    system.spawn("scheduling")
    system.wait_ready()


def test_a_referral_is_queued_booked_held_and_its_meeting_consumed_by_billing(
    system: Supervisor, settings: Settings, redis_client: redis.Redis
) -> None:
    fields = {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4())}
    fields["data"] = json.dumps(COUPLE | {"submitted_at": datetime.now(UTC).isoformat()})
    redis_client.xadd(settings.stream("intake.referrals"), fields)  # type: ignore[arg-type]
    intake_events = settings.stream("intake.events")
    wait_until(lambda: redis_client.xlen(intake_events) >= 1)
    (_, received), *_ = redis_client.xrange(intake_events)
    assert received["type"] == "ReferralReceived", received
    case_id = json.loads(received["data"])["case_id"]

    api = system.client("scheduling", Role.STAFF, timeout=10)
    assert api.post("/staff", json=COUNSELLOR).status_code == 201
    wait_until(lambda: api.get(f"/queue/{case_id}").status_code == 200)
    assert api.get(f"/queue/{case_id}").json()["place"] == 1
    booked = api.post("/bookings/first-contacts", json={"programme": "counselling"}).json()
    (meeting,) = booked["booked"]
    assert meeting["case_id"] == case_id and meeting["format"] == "couple"
    assert meeting["staff"] == ["staff-anna"] and meeting["provider"] == "leanlink"

    restart_scheduling_at(system, datetime.fromisoformat(meeting["ends_at"]) + timedelta(hours=1))
    api = system.client("scheduling", Role.STAFF, timeout=10)
    held = api.post(
        f"/meetings/{meeting['meeting_id']}/held",
        json={
            "started_at": meeting["starts_at"],
            "ended_at": meeting["ends_at"],
            "participants": 2,
        },
    )
    assert held.status_code == 200, held.text
    assert api.get(f"/queue/{case_id}").json()["in_queue"] is False

    out = settings.stream("scheduling.events")
    wait_until(lambda: "MeetingHeld" in [f["type"] for _, f in redis_client.xrange(out)])
    entries = [f for _, f in redis_client.xrange(out)]
    assert [f["type"] for f in entries] == ["MeetingScheduled", "MeetingHeld"]
    entry = entries[1]
    assert set(entry) == {"type", "version", "id", "data", "correlation_id"}
    assert entry["version"] == "1" and entry["correlation_id"] == case_id
    uuid.UUID(entry["id"])
    data = json.loads(entry["data"])
    assert data == {
        "meeting_id": meeting["meeting_id"],
        "case_id": case_id,
        "programme": "counselling",
        "kind": "counselling",
        "format": "couple",
        "provider": "leanlink",
        "staff": ["staff-anna"],
        "started_at": data["started_at"],
        "ended_at": data["ended_at"],
        "participants": 2,
        "client_visits": 1,
    }
    assert datetime.fromisoformat(data["started_at"]) == datetime.fromisoformat(
        meeting["starts_at"]
    )

    # Billing (and intake) read scheduling.events: nothing left unread or unacknowledged.
    wait_until(lambda: drained(redis_client, settings.stream_prefix))
    (billing,) = [
        row
        for row in stream_report(redis_client, settings.stream_prefix)
        if (row["stream"], row["group"]) == ("scheduling.events", "billing")
    ]
    assert (billing["length"], billing["lag"], billing["pending"], billing["dead_letters"]) == (
        2,
        0,
        0,
        0,
    )
