"""The references the pipeline is measured against, over three hops with the same messages.

* ``naive``: a FastStream relay as most tutorials write it: one handler per message that
  republishes to the next stream, no persistence.
* ``batched``: what a skilled engineer writes without exactly-once: FastStream ``batch=True``,
  one eventsourcing SQLite save per batch (one event holding the batch's messages, so that what
  was relayed is durable), one pipelined ``XADD`` per batch.
* ``raw``: redis-py alone, pipelined ``XADD``/``XREADGROUP``/``XACK``: the limit of this Redis.

Each reference moves ``count`` entries from ``<prefix>hop0`` through ``hop1`` and ``hop2`` to
``hop3`` and returns the entries per second end to end.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any, cast

import redis.asyncio as aioredis
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from faststream.redis import RedisBroker, StreamSub

HOPS = 3


def payload(n: int) -> dict[str, str]:
    """A referral-sized entry in the plain format."""
    data = json.dumps(
        {
            "source": "linkoping.elevhalsa",
            "referral_id": f"EH-{n:08d}",
            "programme": "network",
            "basis": "service",
            "urgency": "normal",
            "submitted_at": "2026-11-02T09:14:00+01:00",
            "persons": [{"role": "child", "personal_number": "201407142395"}],
        }
    )
    return {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()), "data": data}


async def _prepare(client: aioredis.Redis, prefix: str) -> None:
    for hop in range(HOPS):
        await client.xgroup_create(f"{prefix}hop{hop}", f"g{hop}", id="0", mkstream=True)


async def _feed(client: aioredis.Redis, prefix: str, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for n in range(count):
        pipe.xadd(f"{prefix}hop0", payload(n))  # type: ignore[arg-type]
        if n % 1000 == 999:
            await pipe.execute()
    await pipe.execute()


async def _wait_for(client: aioredis.Redis, stream: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while await client.xlen(stream) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{stream} has {await client.xlen(stream)} of {count}")
        await asyncio.sleep(0.01)


async def _cleanup(client: aioredis.Redis, prefix: str) -> None:
    for hop in range(HOPS + 1):
        await client.delete(f"{prefix}hop{hop}")


async def naive(url: str, count: int, timeout: float = 600) -> float:
    prefix = f"bench-naive-{uuid.uuid4().hex[:6]}:"
    client = aioredis.from_url(url)
    await _prepare(client, prefix)
    broker = RedisBroker(url, logger=None)  # type: ignore[arg-type]  # None: no logging
    for hop in range(HOPS):

        def relay(hop: int = hop) -> Any:
            async def handle(body: dict[str, Any]) -> None:
                await broker.publish(body, stream=f"{prefix}hop{hop + 1}")

            return handle

        broker.subscriber(
            stream=StreamSub(f"{prefix}hop{hop}", group=f"g{hop}", consumer="c", last_id=">")
        )(relay())
    await broker.start()
    started = time.monotonic()
    await _feed(client, prefix, count)
    await _wait_for(client, f"{prefix}hop{HOPS}", count, timeout)
    elapsed = time.monotonic() - started
    await broker.stop()
    await _cleanup(client, prefix)
    await client.aclose()
    return count / elapsed


class Relayed(Aggregate):
    """A batch of relayed messages, kept: one event per batch holds every message of it."""

    @event("Batch")
    def keep(self, messages: list[Any]) -> None:
        pass


async def batched(url: str, count: int, var: Path, timeout: float = 600) -> float:
    prefix = f"bench-batched-{uuid.uuid4().hex[:6]}:"
    client = aioredis.from_url(url)
    await _prepare(client, prefix)
    broker = RedisBroker(url, logger=None)  # type: ignore[arg-type]  # None: no logging
    stores = []
    for hop in range(HOPS):
        db = var / f"batched-{prefix.strip(':')}-{hop}.sqlite"
        store: Application[Any] = Application(
            env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db)}
        )
        stores.append(store)

        def relay(hop: int = hop, store: Application[Any] = store) -> Any:
            async def handle(bodies: list[Any]) -> None:
                relayed = Relayed()
                relayed.keep(bodies)
                await asyncio.to_thread(store.save, relayed)
                pipe = client.pipeline(transaction=False)
                for body in bodies:
                    fields = body if isinstance(body, dict) else {"data": body}
                    pipe.xadd(f"{prefix}hop{hop + 1}", fields)
                await pipe.execute()

            return handle

        broker.subscriber(
            stream=StreamSub(
                f"{prefix}hop{hop}",
                group=f"g{hop}",
                consumer="c",
                batch=True,
                max_records=100,
                last_id=">",
            )
        )(relay())
    await broker.start()
    started = time.monotonic()
    await _feed(client, prefix, count)
    await _wait_for(client, f"{prefix}hop{HOPS}", count, timeout)
    elapsed = time.monotonic() - started
    await broker.stop()
    for store in stores:
        store.close()
    await _cleanup(client, prefix)
    await client.aclose()
    return count / elapsed


async def raw(url: str, count: int, timeout: float = 600) -> float:
    prefix = f"bench-raw-{uuid.uuid4().hex[:6]}:"
    client = aioredis.from_url(url)
    await _prepare(client, prefix)
    stop = asyncio.Event()

    async def hop_loop(hop: int) -> None:
        worker = aioredis.from_url(url)
        source, target = f"{prefix}hop{hop}", f"{prefix}hop{hop + 1}"
        while not stop.is_set():
            response = cast(
                list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] | None,
                await worker.xreadgroup(f"g{hop}", "c", {source: ">"}, count=500, block=50),
            )
            for _, entries in response or []:
                pipe = worker.pipeline(transaction=False)
                for entry_id, fields in entries:
                    pipe.xadd(target, fields)  # type: ignore[arg-type]
                    pipe.xack(source, f"g{hop}", entry_id)
                await pipe.execute()
        await worker.aclose()

    tasks = [asyncio.create_task(hop_loop(hop)) for hop in range(HOPS)]
    started = time.monotonic()
    await _feed(client, prefix, count)
    await _wait_for(client, f"{prefix}hop{HOPS}", count, timeout)
    elapsed = time.monotonic() - started
    stop.set()
    await asyncio.gather(*tasks)
    await _cleanup(client, prefix)
    await client.aclose()
    return count / elapsed
