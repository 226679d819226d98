"""Redis Sentinel (infra/sentinel.py): with ``LOTS_REDIS_SENTINELS`` every client follows the
master the sentinels name, through a failover, without being made again; ``lots status`` names
the master and its replicas' lag. Real processes: a
master, a replica and three sentinels on loopback ports of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from infra import sentinel
from infra.redis import async_client, connect, reachable
from infra.redis_server import resolve_redis
from infra.sentinel import replication, replication_lines
from infra.settings import Settings
from tests.support.sentinel import MASTER, SentinelGroup, wait_for


@pytest.fixture
def group(tmp_path: Path) -> Iterator[SentinelGroup]:
    started = SentinelGroup(tmp_path / "redis")
    try:
        started.start()
        yield started
    finally:
        started.stop()


@pytest.fixture
def on_sentinel(settings: Settings, group: SentinelGroup) -> Settings:
    return settings.model_copy(
        update={"redis_sentinels": group.sentinels, "redis_sentinel_master": MASTER}
    )


def test_the_address_names_the_sentinels_and_the_master() -> None:
    settings = Settings(redis_sentinels="10.0.0.1:26379, s2:26380", redis_url="redis://r:1/2")
    address = sentinel.parse(settings.redis_address)
    assert address is not None
    assert address.master == "lots" and address.db == 2
    assert address.sentinels == (("10.0.0.1", 26379), ("s2", 26380))
    assert sentinel.parse("redis://127.0.0.1:6379/0") is None
    with pytest.raises(ValidationError):
        Settings(redis_sentinels="127.0.0.1")


async def test_clients_follow_the_master_through_a_failover(
    on_sentinel: Settings, group: SentinelGroup
) -> None:
    assert resolve_redis(on_sentinel) == (on_sentinel.redis_address, None)
    client = connect(on_sentinel, decode_responses=True)
    aclient = async_client(on_sentinel.redis_address, decode_responses=True)
    epoch_before = await sentinel.failover_epoch(aclient)
    assert epoch_before is not None
    key = on_sentinel.key("sentinel-test")
    client.set(key, "before")
    client.execute_command("WAIT", 1, 2000)  # replicated before the fault
    seen = replication(client, on_sentinel.redis_address)
    assert seen["master"] == f"127.0.0.1:{group.ports['master']}" and seen["sentinel"]
    [replica] = seen["replicas"]
    assert replica["address"] == f"127.0.0.1:{group.ports['replica']}"
    assert replica["state"] == "online" and isinstance(replica["lag_bytes"], int)
    # A user that may not run INFO (the project's operator) sees the replicas the sentinels see.
    client.acl_setuser("looker", enabled=True, passwords=["+pw"], commands=["+ping", "+hello"])
    looker = connect(
        on_sentinel.model_copy(
            update={"redis_username": "looker", "redis_password": SecretStr("pw")}
        )
    )
    [told] = replication(looker, on_sentinel.redis_address)["replicas"]
    assert told["address"] == replica["address"] and told["lag_bytes"] is None
    looker.close()
    old = group.kill_master()

    new = group.wait_for_failover(old)
    assert new != old
    # The same clients, not made again: their next connections go to the new master.
    wait_for(lambda: client.set(key, "after"), timeout=30)
    assert client.get(key) == "after"
    assert sentinel.master_address(client) == ("127.0.0.1", new)
    await aclient.set(key, "async")
    assert await aclient.get(key) == "async"
    epoch_after = await sentinel.failover_epoch(aclient)
    assert epoch_after is not None and epoch_after > epoch_before
    assert reachable(on_sentinel.redis_address)
    lines = replication_lines(replication(client, on_sentinel.redis_address))
    assert lines[0] == f"redis master 127.0.0.1:{new} (named by sentinel)"
    client.close()
    await aclient.aclose()


def test_when_no_sentinel_answers_the_embedded_redis_is_not_started_instead(
    settings: Settings,
) -> None:
    lost = settings.model_copy(update={"redis_sentinels": "127.0.0.1:1", "embedded_redis": "auto"})
    with pytest.raises(Exception, match="does not answer"):
        resolve_redis(lost)
