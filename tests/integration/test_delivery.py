"""Delivery over a real Redis: nothing lost, nothing counted twice, poison set aside."""

from __future__ import annotations

import json

import redis

from events.codec import encode
from infra.runtime import Runtime
from infra.settings import Settings
from tests.support.flow import Hop, eventually, expected_ids, meeting, publish
from tests.support.ledger import POISON_PARTICIPANTS, make_ledger


def _ids(settings: Settings, name: str) -> list[str]:
    app = make_ledger(settings, name, "ledger.out")
    try:
        return app.entries()
    finally:
        app.close()


async def test_entries_written_before_any_consumer_started_are_delivered(
    settings: Settings, redis_client: redis.Redis
) -> None:
    messages = [meeting(n) for n in range(50)]
    publish(redis_client, settings.stream("ledger.in"), messages)
    async with Hop(settings, "hop_a", "ledger.in", "ledger.mid") as hop:
        await eventually(lambda: len(hop.app.entries()) == 50)
    assert _ids(settings, "hop_a") == expected_ids(messages)


async def test_the_same_entry_delivered_twice_has_one_effect(
    settings: Settings, redis_client: redis.Redis
) -> None:
    messages = [meeting(n) for n in range(20)]
    async with Hop(settings, "hop_a", "ledger.in", "ledger.mid") as hop:
        sent = publish(redis_client, settings.stream("ledger.in"), messages)
        await eventually(lambda: hop.runtime.counters.processed == 20)
        for fields in sent[:10]:  # the same messages (same ids) again, as a retrying producer would
            redis_client.xadd(settings.stream("ledger.in"), fields)  # type: ignore[arg-type]
        await eventually(lambda: hop.runtime.counters.processed == 30)
    assert _ids(settings, "hop_a") == expected_ids(messages)


async def test_relay_publishes_plain_entries_and_a_republish_after_a_crash_has_one_effect(
    settings: Settings, redis_client: redis.Redis
) -> None:
    messages = [meeting(n) for n in range(40)]
    publish(redis_client, settings.stream("ledger.in"), messages)
    async with (
        Hop(settings, "hop_a", "ledger.in", "ledger.mid") as a,
        Hop(settings, "hop_b", "ledger.mid", "ledger.out") as b,
    ):
        await eventually(lambda: len(b.app.entries()) == 40)
        _, fields = redis_client.xrange(settings.stream("ledger.mid"), count=1)[0]
        assert fields["type"] == "MeetingHeld" and fields["version"] == "1"
        assert json.loads(fields["data"])["participants"] == 2
        # A crash after XADD but before the position was saved: the relay starts over.
        a.app.store.set_relay_position("ledger.mid", 0, a.runtime._epoch)
        a.runtime._relay_position = 0
        a.runtime._relay_wakeup.set()
        await eventually(lambda: redis_client.xlen(settings.stream("ledger.mid")) == 80)
        await eventually(lambda: b.runtime.counters.processed == 80)
    assert _ids(settings, "hop_b") == expected_ids(messages)


async def test_malformed_and_failing_entries_are_dead_lettered_and_the_rest_flow(
    settings: Settings, redis_client: redis.Redis
) -> None:
    stream = settings.stream("ledger.in")
    before = [meeting(n) for n in range(5)]
    after = [meeting(n) for n in range(5, 10)]
    publish(redis_client, stream, before)
    redis_client.xadd(stream, {"type": "MeetingHeld", "version": "1", "id": "x", "data": "{"})
    publish(redis_client, stream, [meeting(99, participants=POISON_PARTICIPANTS)])
    publish(redis_client, stream, after)
    async with Hop(settings, "hop_a", "ledger.in", "ledger.mid") as hop:
        await eventually(lambda: len(hop.app.entries()) == 10)
        await eventually(lambda: redis_client.xlen(f"{stream}.dead") == 2, timeout=30)
        await eventually(lambda: redis_client.xpending(stream, "hop_a")["pending"] == 0)
    assert _ids(settings, "hop_a") == expected_ids(before + after)
    letters = [fields for _, fields in redis_client.xrange(f"{stream}.dead")]
    malformed = next(f for f in letters if f["id"] == "x")
    assert malformed["error"] == "field 'id' is not a UUID"
    assert malformed["attempts"] == "1" and malformed["failed_at"]
    poison = next(f for f in letters if f["id"] != "x")
    assert "always fails" in poison["error"]
    assert poison["attempts"] == str(settings.max_deliveries)
    assert json.loads(poison["data"])["participants"] == POISON_PARTICIPANTS


async def test_two_instances_in_one_group_reach_the_state_of_one(
    settings: Settings, redis_client: redis.Redis
) -> None:
    messages = [meeting(n) for n in range(300)]
    other = settings.model_copy(update={"consumer_name": "second", "batch_size": 7})
    first = settings.model_copy(update={"batch_size": 5})
    async with (
        Hop(first, "hop_a", "ledger.in", "ledger.mid") as a1,
        Hop(other, "hop_a", "ledger.in", "ledger.mid") as a2,
        Hop(settings, "hop_b", "ledger.mid", "ledger.out") as b,
    ):
        publish(redis_client, settings.stream("ledger.in"), messages)
        await eventually(lambda: len(b.app.entries()) >= 300, timeout=60)
        await eventually(
            lambda: redis_client.xpending(settings.stream("ledger.in"), "hop_a")["pending"] == 0
        )
        shares = (a1.runtime.counters.processed, a2.runtime.counters.processed)
    assert _ids(settings, "hop_a") == expected_ids(messages)
    assert _ids(settings, "hop_b") == expected_ids(messages)
    assert all(share > 0 for share in shares), f"both instances should take work: {shares}"


async def test_an_entry_left_pending_by_a_dead_consumer_is_reclaimed(
    settings: Settings, redis_client: redis.Redis
) -> None:
    stream = settings.stream("ledger.in")
    publish(redis_client, stream, [meeting(n) for n in range(3)])
    redis_client.xgroup_create(stream, "hop_a", id="0", mkstream=True)
    # A consumer that read the entries and died before acknowledging them.
    redis_client.xreadgroup("hop_a", "dead-consumer", {stream: ">"}, count=10)
    assert redis_client.xpending(stream, "hop_a")["pending"] == 3
    async with Hop(settings, "hop_a", "ledger.in", "ledger.mid") as hop:
        await eventually(lambda: len(hop.app.entries()) == 3)
        await eventually(lambda: redis_client.xpending(stream, "hop_a")["pending"] == 0)
        assert hop.runtime.counters.reclaimed == 3


async def test_trimming_removes_only_what_every_group_acknowledged(
    settings: Settings, redis_client: redis.Redis
) -> None:
    # Trimming stops at the outbox's low-water mark, which moves a relay batch at a time:
    # batches of one entry, so that the mark follows every acknowledgement here.
    settings = settings.model_copy(update={"relay_batch_size": 1})
    messages = [meeting(n) for n in range(30)]
    publish(redis_client, settings.stream("ledger.in"), messages)
    mid = settings.stream("ledger.mid")
    async with Hop(settings, "hop_a", "ledger.in", "ledger.mid") as a:
        await eventually(lambda: redis_client.xlen(mid) == 30)
        # A reader that took ten entries and died, and a group that has read nothing beyond.
        redis_client.xgroup_create(mid, "slow", id="0")
        redis_client.xreadgroup("slow", "dead-reader", {mid: ">"}, count=10)
        assert await a.runtime.trim(0, approximate=False) == 0  # all still unacknowledged
        redis_client.xack(mid, "slow", *[e for e, _ in redis_client.xrange(mid, count=4)])
        removed = await a.runtime.trim(0, approximate=False)
        assert removed == 4
        assert redis_client.xlen(mid) == 26
        assert redis_client.xpending(mid, "slow")["pending"] == 6
        assert await a.runtime.trim(3_600_000, approximate=False) == 0  # within retention


async def test_entries_with_the_same_id_on_two_streams_are_each_applied_and_acknowledged(
    settings: Settings, redis_client: redis.Redis
) -> None:
    # Redis ids are per stream: two streams written in the same millisecond share ids.
    first, second = settings.stream("ledger.a"), settings.stream("ledger.b")
    for n, stream in enumerate((first, second)):
        for seq in range(3):
            fields = encode(meeting(10 * n + seq))
            redis_client.xadd(stream, fields, id=f"1700000000000-{seq}")  # type: ignore[arg-type]
    app = make_ledger(settings, "hop", "ledger.out")
    runtime = Runtime(
        "billing", app, settings, settings.redis_url,
        consumes=("ledger.a", "ledger.b"), publishes="ledger.out", group="hop",
    )  # fmt: skip
    await runtime.start()
    try:
        await eventually(lambda: len(app.entries()) == 6)
        await eventually(
            lambda: (
                redis_client.xpending(first, "hop")["pending"]
                + redis_client.xpending(second, "hop")["pending"]
                == 0
            ),
            timeout=5,
        )
    finally:
        await runtime.stop()
        app.close()
    assert runtime.counters.reclaimed == 0, "nothing was left for the reclaimer"


async def test_a_relay_whose_lease_lapsed_while_it_read_a_batch_publishes_nothing(
    settings: Settings, redis_client: redis.Redis
) -> None:
    messages = [meeting(n) for n in range(10)]
    mid = settings.stream("ledger.mid")
    async with Hop(settings, "hop_a", "ledger.in", "ledger.mid") as hop:
        # Another instance holds the relay's lease: this one applies, but must not publish.
        redis_client.set(hop.runtime._lease, "another-instance", px=60_000)
        publish(redis_client, settings.stream("ledger.in"), messages)
        await eventually(lambda: len(hop.app.entries()) == 10)
        assert await hop.runtime.relay_once(lease_ttl=5_000) == 0
        assert hop.runtime.counters.lease_lapses == 1
        assert redis_client.xlen(mid) == 0
        redis_client.delete(hop.runtime._lease)  # the other instance is gone
        hop.runtime._relay_wakeup.set()
        await eventually(lambda: redis_client.xlen(mid) == 10)
    assert redis_client.xlen(mid) == 10
