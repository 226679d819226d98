"""Redis Sentinel failover under load (issue 19): the three services run as ``lots up`` runs them,
on a master, a replica and three sentinels of the test's own (real processes, loopback ports);
referrals and held meetings flow; the master is killed with SIGKILL in the middle of the flow;
afterwards every referral is answered exactly once and every held meeting billed exactly once
(counted in the stores), the month's settlement equals a fault-free run's, every answer and
session is on the new master (what the old one had not replicated is republished from the
outboxes), the services were never restarted: they followed the new master by themselves,
and ``lots status`` names the failover they recorded, from the old master to the new. The held
meetings are written on ``scheduling.events`` by the test, as scheduling's relay would (its own
path is the referral's)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
import redis

from bench.soak import SESSION_KINDS, answers_per_referral, billed_per_meeting, settlements
from events.codec import encode
from events.scheduling import MeetingHeld
from infra.redis import client as redis_client
from infra.settings import SERVICES, Settings
from infra.topology import BILLING_EVENTS, INTAKE_EVENTS, REFERRALS, SCHEDULING_EVENTS
from lots.export import export
from lots.status import collect
from lots.supervisor import Supervisor, running
from tests.conftest import free_port
from tests.support.flow import START, meeting, wait_until
from tests.support.intake import entry, personal_number, referral
from tests.support.sentinel import MASTER, SentinelGroup

REFERRALS_SENT = 300
MEETINGS_HELD = 90
BATCH = 20
KILL_AFTER_BATCH = 6
MONTH = START.strftime("%Y-%m")
#: The running system's test (tests/e2e): about 35 s here; bounded well below the suite's 300 s.
pytestmark = pytest.mark.timeout(150)


@pytest.fixture
def group(tmp_path: Path) -> Iterator[SentinelGroup]:
    started = SentinelGroup(tmp_path / "redis")
    try:
        started.start()
        yield started
    finally:
        started.stop()


@pytest.fixture
def system(settings: Settings, group: SentinelGroup, tmp_path: Path) -> Iterator[Supervisor]:
    ports = {f"{s}_port": free_port() for s in SERVICES}
    on_sentinel = settings.model_copy(
        update={"redis_sentinels": group.sentinels, "redis_sentinel_master": MASTER, **ports}
    )
    with running(on_sentinel, log_file=tmp_path / "services.log") as supervisor:
        supervisor.wait_ready(timeout=120)
        yield supervisor


def fields_of(n: int) -> dict[str, str]:
    """Referral ``n``: persons of its own, so that no referral repeats another's."""
    born = date(2012, 1, 1) + timedelta(days=n)
    body = referral(
        referral_id=f"FO-{n:04d}",
        persons=[
            {"role": "child", "personal_number": personal_number(born),
             "municipality_code": "0580"},
            {"role": "guardian", "personal_number": personal_number(born.replace(year=1980)),
             "municipality_code": "0580"},
        ],
    )  # fmt: skip
    return entry(body, uuid.uuid5(uuid.NAMESPACE_URL, f"failover-test/{n}"))


def held(n: int) -> tuple[MeetingHeld, dict[str, str], str]:
    """Held meeting ``n`` as scheduling would publish it: the message, its entry, its export
    line (for the fault-free run)."""
    message = meeting(n)
    ident = uuid.uuid5(uuid.NAMESPACE_URL, f"failover-test/meeting/{n}")
    line = {"stream": SCHEDULING_EVENTS, "type": message.type_name, "version": message.version,
            "id": str(ident), "data": message.model_dump(mode="json")}  # fmt: skip
    return message, encode(message, id=ident), json.dumps(line, sort_keys=True)


def send(source: redis.Redis, batch: list[tuple[str, dict[str, str]]]) -> None:
    """As a careful source does: the batch, then WAIT for a replica; on an error the same
    entries again (same message ids: a service applies a message once), until Redis takes
    them."""

    def attempt() -> bool:
        try:
            pipe = source.pipeline(transaction=False)
            for stream, fields in batch:
                pipe.xadd(stream, fields)  # type: ignore[arg-type]
            pipe.execute_command("WAIT", 1, 1000)
            replicas = pipe.execute()[-1]
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            return False
        return int(replicas) >= 1 or source.info("replication").get("connected_slaves") == 0

    wait_until(attempt, timeout=60, interval=0.2)


def test_every_referral_answered_and_meeting_billed_once_through_a_sigkill_of_the_master(
    system: Supervisor, group: SentinelGroup, settings: Settings, tmp_path: Path
) -> None:
    assert system.redis_url.startswith("redis+sentinel://")
    pids = {service: child.pid for service, child in system.children.items()}
    source = redis_client(system.redis_url, socket_timeout=5)
    referrals = [(settings.stream(REFERRALS), fields_of(n)) for n in range(REFERRALS_SENT)]
    meetings = [held(n) for n in range(MEETINGS_HELD)]
    per_batch = MEETINGS_HELD * BATCH // REFERRALS_SENT
    old = 0
    for k, start in enumerate(range(0, REFERRALS_SENT, BATCH)):
        batch = referrals[start : start + BATCH] + [
            (settings.stream(SCHEDULING_EVENTS), entry)
            for _, entry, _ in meetings[k * per_batch : (k + 1) * per_batch]
        ]
        send(source, batch)
        if k == KILL_AFTER_BATCH:  # the services are busy with the batches so far
            old = group.kill_master()
    new = group.wait_for_failover(old)
    assert new != old

    answers = redis.Redis(port=new, decode_responses=True)
    events = settings.stream(INTAKE_EVENTS)

    def answered_on_the_new_master() -> set[str]:
        found = set()
        for _, fields in answers.xrange(events):
            if fields.get("type") in ("ReferralReceived", "ReferralRejected"):
                found.add(json.loads(fields["data"])["referral_id"])
        return found

    def sessions_on_the_new_master() -> set[str]:
        return {
            json.loads(fields["data"]).get("meeting_id")
            for _, fields in answers.xrange(settings.stream(BILLING_EVENTS))
            if fields.get("type") in SESSION_KINDS
        }

    wanted = {f"FO-{n:04d}" for n in range(REFERRALS_SENT)}
    wait_until(lambda: wanted <= answered_on_the_new_master(), timeout=90)
    billed = {str(m.meeting_id) for m, _, _ in meetings}
    wait_until(lambda: billed <= sessions_on_the_new_master(), timeout=90)
    log = tmp_path / "services.log"
    # Every service saw the failover as a new epoch and refilled Redis from its outbox.
    wait_until(lambda: log.read_text().count("republishing the outbox") >= len(SERVICES))
    assert {s: c.pid for s, c in system.children.items()} == pids  # none was restarted
    # lots status names the new master and the failover the services recorded, old to new.
    found = collect(system.settings)["redis_replication"]
    assert found["master"] == f"127.0.0.1:{new}" and found["sentinel"]
    last = found["last_failover"]
    assert (last["from"], last["to"]) == (f"127.0.0.1:{old}", f"127.0.0.1:{new}"), found
    assert last["epoch"] == found["failover_epoch"]
    source.close()

    system.stop()
    buffer = StringIO()
    export(system.settings, buffer)
    raw = buffer.getvalue().splitlines()
    lines = [json.loads(line) for line in raw]
    counted, refused = answers_per_referral(lines)
    ours = {key: n for key, n in counted.items() if key[1] in wanted}
    assert len(ours) == REFERRALS_SENT and set(ours.values()) == {1}, ours
    assert not refused
    _, sessions = billed_per_meeting(lines)
    assert {m: sessions[m] for m in billed} == dict.fromkeys(billed, 1)  # each billed once
    # The month's settlement equals a fault-free run's over the same meetings, and billing's
    # log computed offline.
    digests = settlements(
        system.settings, MONTH, [*raw, *(line for _, _, line in meetings)], tmp_path / "rerun"
    )
    assert len(set(digests.values())) == 1, digests
