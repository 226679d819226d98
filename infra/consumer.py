"""The consumer: read new entries of every stream the service consumes, apply them, acknowledge.

One ``XREADGROUP`` for all streams, a batch at a time, applied in one store transaction
(:mod:`infra.batches`) and acknowledged with one pipelined ``XACK``. Entries left pending
longer than ``reclaim_idle_ms`` (a consumer that died, or a handler that failed) are reclaimed
and retried; after ``max_deliveries`` an entry goes to ``<stream>.dead`` with its error,
before its acknowledgement.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import anyio
import structlog

from events.codec import DecodeError, plain_fields
from infra.batches import Incoming, Refusal
from infra.logging import describe_error
from infra.runtime_base import RuntimeBase
from infra.topology import (
    DELETE_AFTER_ACK,
    dead_letter_stream,
)

log = structlog.get_logger(__name__)

Entries = list[tuple[bytes, dict[bytes, bytes]]]
ReadResponse = list[tuple[bytes, Entries]]


@dataclass
class Delivery:
    stream: str  # logical name, without the prefix
    entry_id: str
    fields: dict[bytes, bytes] | None  # None: the entry was deleted while pending
    times_delivered: int

    @property
    def key(self) -> str:
        """Unique within a read of several streams: entry ids repeat across streams."""
        return f"{self.stream} {self.entry_id}"


class Consumer(RuntimeBase):
    """The consuming and reclaiming loops of a service's runtime."""

    async def _consume_loop(self) -> None:
        streams = {self._name(s): ">" for s in self.consumes}
        while not self._stopping.is_set():
            response = cast(
                ReadResponse | None,
                await self.redis.xreadgroup(
                    self.group,
                    self.consumer,
                    streams,  # type: ignore[arg-type]
                    count=self.settings.batch_size,
                    block=self.settings.block_ms,
                ),
            )
            self.redis_ok = True
            self.outage.up()
            deliveries = [
                Delivery(self._logical(name), entry_id.decode(), fields, 1)
                for name, entries in response or []
                for entry_id, fields in entries
            ]
            if deliveries:
                await self.handle(deliveries)
            self._round_done("_consume_loop")

    def _logical(self, name: bytes | str) -> str:
        text = name.decode() if isinstance(name, bytes) else name
        return text[len(self.settings.stream_prefix) :]

    async def handle(self, deliveries: list[Delivery]) -> None:
        """Apply, acknowledge and dead-letter one batch of deliveries."""
        started = time.monotonic()
        incoming: list[Incoming] = []
        by_entry: dict[str, Delivery] = {}
        acks: list[Delivery] = []
        dead: list[tuple[Delivery, str]] = []
        for delivery in deliveries:
            if delivery.fields is None:
                acks.append(delivery)
                continue
            try:
                envelope = self.app.decode(delivery.stream, delivery.fields)
            except DecodeError as exc:
                dead.append((delivery, str(exc)))
                continue
            except Exception as exc:  # one entry never fails its batch, whatever it holds
                dead.append((delivery, f"entry could not be read: {describe_error(exc)}"))
                continue
            incoming.append(Incoming(delivery.key, delivery.stream, envelope))
            by_entry[delivery.key] = delivery
        results = await anyio.to_thread.run_sync(self.app.process, self.group, incoming)
        for key, error in results.items():
            delivery = by_entry[key]
            if error is None:
                acks.append(delivery)
                self.counters.errors.pop(key, None)
            elif (
                isinstance(error, Refusal)
                or delivery.times_delivered >= self.settings.max_deliveries
            ):
                dead.append((delivery, error))
            else:
                self.counters.errors[key] = error  # stays pending; reclaimed later
                log.warning(
                    "entry failed, left pending for a retry",
                    stream=delivery.stream,
                    entry_id=delivery.entry_id,
                    attempts=delivery.times_delivered,
                    error=error.split(":", 1)[0],
                )
        await self._dead_letter(dead)
        await self._ack(acks)
        self.counters.processed += len(acks)
        self.metrics.processed.inc(len(acks))
        self.metrics.batch_seconds.observe(time.monotonic() - started)
        self.counters.last_batch_at = time.time()
        if acks:
            self._relay_wakeup.set()

    async def _ack(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for d in deliveries:
                pipe.xack(self._name(d.stream), self.group, d.entry_id)
                if d.stream in DELETE_AFTER_ACK:
                    pipe.xdel(self._name(d.stream), d.entry_id)
            await pipe.execute()

    async def _dead_letter(self, dead: list[tuple[Delivery, str]]) -> None:
        for delivery, error in dead:
            fields = plain_fields(delivery.fields or {})
            fields = await anyio.to_thread.run_sync(
                self.app.redact_dead_letter, delivery.stream, fields, error
            )
            fields.update(
                error=error[:2000],
                attempts=str(delivery.times_delivered),
                failed_at=datetime.now(UTC).isoformat(),
                entry_id=delivery.entry_id,
                group=self.group,
            )
            name = self._name(delivery.stream)
            # The dead letter first, then the acknowledgement, in one round trip but not in a
            # MULTI: Redis 7 drops a MULTI/EXEC when it replays its append-only file as a
            # restricted ``default`` user (redis/redis#14541), and with it both the dead letter
            # and the acknowledgement. An entry is acknowledged only once its dead letter is
            # written; if this process dies in between, the entry is reclaimed and dead-lettered
            # again (the same ``entry_id`` twice on the dead-letter stream, nothing lost).
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.xadd(dead_letter_stream(name), fields)  # type: ignore[arg-type]
                pipe.xack(name, self.group, delivery.entry_id)
                if delivery.stream in DELETE_AFTER_ACK:
                    pipe.xdel(name, delivery.entry_id)
                await pipe.execute()
            self.counters.dead_lettered += 1
            self.metrics.dead_lettered.inc()
            self.counters.errors.pop(delivery.key, None)
            log.warning(
                "dead-lettered",
                stream=delivery.stream,
                entry_id=delivery.entry_id,
                attempts=delivery.times_delivered,
                error=error.split(":", 1)[0],
            )

    async def _reclaim_loop(self) -> None:
        idle = self.settings.reclaim_idle_ms
        while not self._stopping.is_set():
            for stream in self.consumes:
                name = self._name(stream)
                pending = cast(
                    list[dict[str, Any]],
                    await self.redis.xpending_range(
                        name,
                        self.group,
                        min="-",
                        max="+",
                        count=self.settings.batch_size,
                        idle=idle,
                    ),
                )
                if not pending:
                    continue
                times = {p["message_id"].decode(): int(p["times_delivered"]) for p in pending}
                claimed = cast(
                    list[tuple[bytes, dict[bytes, bytes]]],
                    await self.redis.xclaim(
                        name, self.group, self.consumer, min_idle_time=idle, message_ids=list(times)
                    ),
                )
                deliveries = [
                    Delivery(stream, entry_id.decode(), fields, times[entry_id.decode()] + 1)
                    for entry_id, fields in claimed
                ]
                # Entries deleted while pending are no longer returned: forget them.
                gone = set(times) - {d.entry_id for d in deliveries}
                if gone:
                    await self.redis.xack(name, self.group, *gone)
                self.counters.reclaimed += len(deliveries)
                self.metrics.reclaimed.inc(len(deliveries))
                if deliveries:
                    await self.handle(deliveries)
            self._round_done("_reclaim_loop")
            await self._sleep(self.settings.reclaim_interval_ms / 1000)
