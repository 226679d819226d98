"""How much history delivery keeps: the outbox's low-water mark and a wipe recovery that
starts from it (issue 18, item 4c), and the retention of processed message ids (4b)."""

from __future__ import annotations

import uuid

import redis

from events.codec import Envelope, encode
from infra.batches import Incoming
from infra.settings import Settings
from infra.sqlite_recorder import SQLiteRecorder
from infra.watermarks import forget_delivered, low_water, now_ms
from tests.integration.test_recovery import private_redis  # noqa: F401  # a fixture
from tests.support.flow import Hop, eventually, expected_ids, meeting, publish
from tests.support.ledger import make_ledger


async def test_a_wiped_redis_gets_the_outbox_again_from_the_low_water_mark_and_loses_nothing(
    store_settings: Settings,
    private_redis: str,  # noqa: F811
) -> None:
    settings = store_settings.model_copy(update={"redis_url": private_redis})
    other = _own_store(settings, "b_")
    client = redis.Redis.from_url(private_redis, decode_responses=True)
    mid = settings.stream("ledger.mid")
    delivered = [meeting(n) for n in range(300)]
    async with Hop(settings, "hop_a", "ledger.in", "ledger.mid") as a:
        async with Hop(other, "hop_b", "ledger.mid", "ledger.out") as b:
            publish(client, settings.stream("ledger.in"), delivered)
            await eventually(lambda: len(b.app.entries()) == 300)
            await eventually(lambda: client.xpending(mid, "hop_b")["pending"] == 0)
        mark, covered = await a.runtime.mark_low_water()
        assert covered is not None and mark == a.runtime.relay_position > 0
        assert low_water(a.app.store, "ledger.mid") == mark  # stored, for after the wipe

        waiting = [meeting(n) for n in range(300, 350)]  # hop_b is away: not consumed yet
        publish(client, settings.stream("ledger.in"), waiting)
        await eventually(lambda: client.xlen(mid) == 350)
        await eventually(lambda: a.runtime.relay_position > mark)
        before = a.runtime.counters.published
        client.flushall()
        await eventually(lambda: a.runtime.counters.recoveries >= 1 or client.xlen(mid) > 0)
        await eventually(lambda: a.runtime.counters.published - before >= 50)
        async with Hop(other, "hop_b", "ledger.mid", "ledger.out") as b:
            await eventually(lambda: len(b.app.entries()) == 350)
            await eventually(lambda: client.xpending(mid, "hop_b")["pending"] == 0)
            assert b.app.entries() == expected_ids(delivered + waiting)  # nothing lost
        # what hop_b had not processed, and only that: 50 entries, not the whole outbox of 350
        assert a.runtime.counters.published - before == 50
        assert client.xlen(mid) == 50
    client.close()


def _own_store(settings: Settings, suffix: str) -> Settings:
    """Settings for a second hop with a store of its own (on PostgreSQL, a schema of its own;
    on SQLite each hop has its own file already)."""
    return settings.model_copy(
        update={"postgres_schema_prefix": settings.postgres_schema_prefix + suffix}
    )


async def test_processed_ids_are_forgotten_once_no_entry_can_carry_them_and_kept_inside_the_window(
    store_settings: Settings, redis_client: redis.Redis
) -> None:
    mid = store_settings.stream("ledger.mid")
    base = now_ms() - 3_600_000  # an hour ago, one entry a second
    messages = [meeting(n) for n in range(20)]
    ids = [uuid.uuid4() for _ in messages]
    for n, message in enumerate(messages):
        fields = encode(message, id=ids[n])
        redis_client.xadd(mid, fields, id=f"{base + n * 1000}-0")  # type: ignore[arg-type]
    redis_client.xgroup_create(mid, "slow", id="0")
    async with Hop(store_settings, "hop_b", "ledger.mid", "ledger.out") as b:
        await eventually(lambda: len(b.app.entries()) == 20)
        await eventually(lambda: redis_client.xpending(mid, "hop_b")["pending"] == 0)
        store = b.app.store
        # another group has read ten and acknowledged six; the producer trimmed the first four
        redis_client.xreadgroup("slow", "reader", {mid: ">"}, count=10)
        redis_client.xack(mid, "slow", *[f"{base + n * 1000}-0" for n in range(6)])
        assert redis_client.xtrim(mid, minid=f"{base + 4000}-0", approximate=False) == 4

        # processed just now: inside any margin that is not zero, nothing is forgotten
        assert await b.runtime.forget_processed(margin_ms=60_000) == 0
        assert store.count_processed("hop_b") == 20
        # without a margin: exactly the four whose entries are gone from Redis
        assert await b.runtime.forget_processed(margin_ms=0) == 4
        sent = [str(i) for i in ids]
        assert store.processed_among("hop_b", sent[:4]) == set()
        assert store.processed_among("hop_b", sent[4:]) == set(sent[4:])
        assert await b.runtime.forget_processed(margin_ms=0) == 0  # the rest can still come

        # an entry inside the window delivered again (a republished copy): still skipped
        redis_client.xadd(mid, encode(messages[5], id=ids[5]))  # type: ignore[arg-type]
        await eventually(lambda: redis_client.xpending(mid, "hop_b")["pending"] == 0)
        await eventually(lambda: b.runtime.counters.processed == 21)
        assert b.app.entries() == expected_ids(messages)


def test_a_store_made_before_the_retention_gets_its_columns_and_keeps_its_old_ids(
    store_settings: Settings,
) -> None:
    app = make_ledger(store_settings, "hop", "ledger.out")
    store = app.store
    table = (
        "processed_messages"
        if isinstance(store, SQLiteRecorder)
        else f'"{store.datastore.schema}".processed_messages'
    )
    with store.datastore.transaction(commit=True) as c:  # the table as it was made before
        c.execute(f"DROP TABLE {table}")
        c.execute(
            f"CREATE TABLE {table} (consumer TEXT NOT NULL, message_id TEXT NOT NULL, "
            "PRIMARY KEY (consumer, message_id))"
        )
        c.execute(f"INSERT INTO {table} (consumer, message_id) VALUES ('hop', 'old')")
    app.close()
    reopened = make_ledger(store_settings, "hop", "ledger.out")
    entry = f"ledger.in {now_ms() - 10_000_000}-0"
    reopened.process("hop", [Incoming(entry, "ledger.in", Envelope(meeting(1), uuid.uuid4()))])
    assert reopened.store.count_processed("hop") == 2
    # neither the old row (no stream) nor the new one (inside the margin) is forgotten yet
    assert forget_delivered(reopened.store, "hop", {"ledger.in": now_ms()}, margin_ms=60_000) == 0
    assert forget_delivered(reopened.store, "hop", {"ledger.in": now_ms()}, 0, now_ms() + 1) == 1
    assert reopened.store.processed_among("hop", ["old"]) == {"old"}
    reopened.close()
