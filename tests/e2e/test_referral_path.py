"""The running system: a referral from a plain Redis client flows through all three services."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import redis

from infra.auth import Role
from infra.monitor import drained
from infra.redis_server import redis_server_binary
from infra.settings import Settings
from lots.demo import stored_event_counts
from lots.supervisor import Supervisor, running
from tests.conftest import free_port
from tests.support.flow import wait_until

# The referral of ../shared/examples/README.md, byte for byte.
EXAMPLE_DATA = """{
  "source": "linkoping.elevhalsa", "referral_id": "EH-2026-000123", "programme": "network",
  "basis": "service", "urgency": "normal", "submitted_at": "2026-11-02T09:14:00+01:00",
  "persons": [{"role": "child", "personal_number": "201407142395", "municipality_code": "0580"},
              {"role": "guardian", "personal_number": "198112189876", "municipality_code": "0580"}]}"""  # noqa: E501
PERSONAL_NUMBERS = ("201407142395", "198112189876", "1407142395", "8112189876")
NAMES = ("Alvaro Testsson", "Birgitta Provström")
PRIVATE = (*PERSONAL_NUMBERS, *NAMES)


def redis_cli() -> str:
    found = shutil.which("redis-cli")
    return found or str(Path(redis_server_binary()).with_name("redis-cli"))


@pytest.fixture
def system(settings: Settings, tmp_path: Path) -> Iterator[Supervisor]:
    ports = {f"{s}_port": free_port() for s in ("intake", "scheduling", "billing")}
    settings = settings.model_copy(update=ports)
    with running(settings, log_file=tmp_path / "services.log") as supervisor:
        yield supervisor


def _xadd_with_redis_cli(url: str, stream: str, data: str) -> str:
    parsed = urlparse(url)
    args = [
        redis_cli(),
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 6379),
        "XADD",
        stream,
        "*",
        "type",
        "SubmitReferral",
        "version",
        "1",
        "id",
        str(uuid.uuid4()),
        "data",
        data,
    ]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def test_a_referral_from_redis_cli_is_answered_and_flows_to_scheduling_and_billing(
    system: Supervisor, settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    referrals = settings.stream("intake.referrals")
    entry_id = _xadd_with_redis_cli(system.redis_url, referrals, EXAMPLE_DATA)
    assert entry_id
    events = settings.stream("intake.events")
    wait_until(lambda: redis_client.xlen(events) >= 1)
    _, fields = redis_client.xrange(events)[0]
    assert set(fields) >= {"type", "version", "id", "data", "correlation_id", "causation_id"}
    assert fields["type"] == "ReferralReceived" and fields["version"] == "1"
    data = json.loads(fields["data"])
    assert data["referral_id"] == "EH-2026-000123" and data["programme"] == "network"
    assert data["priority"] == 3 and data["first_contact_due"]
    assert {m["role"] for m in data["household"]} == {"child", "guardian"}
    assert fields["correlation_id"] == data["case_id"]

    # The same referral again (a new message): its first answer again, nothing new created.
    _xadd_with_redis_cli(system.redis_url, referrals, EXAMPLE_DATA)
    named = json.loads(EXAMPLE_DATA)
    named["referral_id"] = "EH-2026-000124"
    for person, name in zip(named["persons"], NAMES, strict=True):
        person["name"] = name
    _xadd_with_redis_cli(system.redis_url, referrals, json.dumps(named))
    wait_until(lambda: redis_client.xlen(referrals) == 0)  # acknowledged and deleted
    for service in ("intake", "scheduling", "billing"):
        response = httpx.get(f"{system.base_url(service)}/health/ready", timeout=5)
        assert response.status_code == 200 and response.json()["ready"] is True
    operator = {s: system.client(s, Role.OPERATOR, timeout=5) for s in ("scheduling", "billing")}
    wait_until(lambda: all(c.get("/counters").json()["processed"] >= 1 for c in operator.values()))
    wait_until(lambda: redis_client.xlen(events) == 3)
    answers = [json.loads(f["data"]) for _, f in redis_client.xrange(events)]
    assert [a["repeat_of"] for a in answers] == [None, fields["id"], None]
    assert answers[1]["case_id"] == data["case_id"]
    system.stop()

    counts = stored_event_counts(settings)
    assert counts["intake"]["Case.Opened"] == 2
    assert counts["intake"]["RepeatedReferral.AnsweredAgain"] == 1
    assert counts["scheduling"]["WaitingCase.Queued"] == 2
    assert counts["billing"]["CaseAccount.Opened"] == 2

    # No personal number on Redis, in scheduling's or billing's store, or in any log line.
    for key in redis_client.scan_iter(match=f"{settings.stream_prefix}*"):
        if redis_client.type(key) == "stream":
            dump = json.dumps(redis_client.xrange(key))
            assert not any(p in dump for p in PRIVATE), key
    for service in ("scheduling", "billing"):
        raw = (settings.var_dir / f"{service}.sqlite").read_bytes()
        assert not any(p.encode() in raw for p in PRIVATE), service
    intake_raw = (settings.var_dir / "intake.sqlite").read_bytes()
    assert not any(p.encode() in intake_raw for p in PRIVATE), "intake encrypts"
    log = (tmp_path / "services.log").read_text()
    assert "service started" in log
    assert not any(p in log for p in PRIVATE)


def test_an_invalid_referral_is_rejected_with_every_reason(
    system: Supervisor, settings: Settings, redis_client: redis.Redis
) -> None:
    body = json.loads(EXAMPLE_DATA)
    body.update(referral_id="EH-bad", programme="coordinated", note="x" * 2001)
    body["persons"][0]["personal_number"] = "201407142396"  # wrong check digit
    _xadd_with_redis_cli(system.redis_url, settings.stream("intake.referrals"), json.dumps(body))
    events = settings.stream("intake.events")
    wait_until(lambda: redis_client.xlen(events) >= 1)
    _, fields = redis_client.xrange(events)[0]
    assert fields["type"] == "ReferralRejected"
    codes = {r["code"] for r in json.loads(fields["data"])["reasons"]}
    assert {
        "invalid_personal_number",
        "missing_consent",
        "no_eligibility_indicator",
        "note_too_long",
    } <= codes


def test_after_redis_loses_everything_the_services_refill_it_and_carry_on(
    settings: Settings, tmp_path: Path
) -> None:
    from infra.redis_server import EmbeddedRedis

    server = EmbeddedRedis(free_port(), tmp_path / "redis")
    server.start()
    ports = {f"{s}_port": free_port() for s in ("intake", "scheduling", "billing")}
    settings = settings.model_copy(update={"redis_url": server.url, **ports})
    client = redis.Redis.from_url(server.url, decode_responses=True)
    referrals, events = settings.stream("intake.referrals"), settings.stream("intake.events")

    def send(referral_id: str) -> None:
        body = json.loads(EXAMPLE_DATA) | {"referral_id": referral_id}
        client.xadd(
            referrals,
            {
                "type": "SubmitReferral",
                "version": "1",
                "id": str(uuid.uuid4()),
                "data": json.dumps(body),
            },
        )

    try:
        with running(settings, log_file=tmp_path / "services.log") as system:
            for n in range(20):
                send(f"before-{n}")
            wait_until(lambda: client.xlen(events) == 20)
            client.flushall()
            # Intake republishes its outbox into the empty Redis from its low-water mark (what
            # every group may not have processed yet); groups come back by themselves.
            for n in range(5):
                send(f"after-{n}")

            def answered() -> set[str]:
                return {json.loads(f["data"])["referral_id"] for _, f in client.xrange(events)}

            wait_until(lambda: {f"after-{n}" for n in range(5)} <= answered(), timeout=30)
            wait_until(lambda: drained(client, settings.stream_prefix))
            assert len(answered()) <= 25
            system.stop()
        counts = stored_event_counts(settings)
        assert counts["intake"]["Case.Opened"] == 25
        assert counts["scheduling"]["WaitingCase.Queued"] == 25
        assert counts["billing"]["CaseAccount.Opened"] == 25
    finally:
        client.close()
        server.stop()
