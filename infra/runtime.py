"""The running half of a service: consume, reclaim, dead-letter, relay, recover.

Three loops share one Redis client and the service's application:

* **consume** reads new entries of every stream the service consumes (one ``XREADGROUP`` for
  all of them, a batch at a time), applies them in one store transaction and acknowledges them
  with one pipelined ``XACK``;
* **reclaim** takes over entries left pending longer than ``reclaim_idle_ms`` (a consumer that
  died, or a handler that failed) and retries them; after ``max_deliveries`` an entry goes to
  ``<stream>.dead`` with its error, atomically with its acknowledgement;
* **relay** tails the store's notification log and publishes public events with pipelined
  ``XADD``, remembering its position in the store.

Redis is transport, the store is the truth. Every service keeps an *epoch* token in Redis; when
it disappears or changes (a restart without persistence, ``FLUSHALL``) or a group is missing,
the service re-creates the groups and republishes its outbox from the low-water mark (every
event up to it was delivered and acknowledged by every group: :mod:`infra.watermarks`), and
consumers skip what they had already processed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import anyio
import redis.asyncio as aioredis
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoPermissionError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from events.codec import DecodeError, encode, plain_fields
from infra.application import ServiceApplication
from infra.batches import Incoming, Refusal
from infra.logging import describe_error
from infra.metrics import Metrics
from infra.outage import outage_of
from infra.redis import async_client, auth
from infra.sentinel import failover_state, record_failover
from infra.settings import ServiceName, Settings
from infra.topology import (
    DELETE_AFTER_ACK,
    PUBLISHES,
    consumed_by,
    dead_letter_stream,
    ensure_groups,
)
from infra.watermarks import (
    advance_low_water,
    deliverable_from,
    forget_delivered,
    low_water,
    new_epoch,
    record_published,
    undelivered,
)

log = structlog.get_logger(__name__)
TRANSIENT = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)

# Renew the relay lease if we hold it, take it if nobody does. 2 = newly taken, 1 = renewed.
LEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2]) return 1
elseif redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 2
else return 0 end
"""


#: How often a group forgets the processed ids no entry can carry again (at most).
FORGET_EVERY_S = 3600.0

Entries = list[tuple[bytes, dict[bytes, bytes]]]
ReadResponse = list[tuple[bytes, Entries]]


@dataclass(frozen=True)
class Periodic:
    """A synchronous job the runtime runs in a worker thread every ``seconds``."""

    name: str
    seconds: float
    run: Callable[[], object]


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


@dataclass
class Counters:
    processed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    published: int = 0
    reclaimed: int = 0
    recoveries: int = 0
    #: Relay batches read but not published because the lease lapsed meanwhile.
    lease_lapses: int = 0
    last_error: str | None = None
    #: Times a loop failed with an error that was not Redis being away.
    loop_failures: int = 0
    last_batch_at: float | None = None
    errors: dict[str, str] = field(default_factory=dict)


class Runtime:
    """Moves one service's messages in and out; see the module docstring."""

    def __init__(
        self,
        service: ServiceName,
        app: ServiceApplication,
        settings: Settings,
        redis_url: str,
        *,
        consumes: tuple[str, ...] | None = None,
        publishes: str | None = None,
        group: str | None = None,
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.service = service
        self.app = app
        self.settings = settings
        self.redis: aioredis.Redis = async_client(
            redis_url, health_check_interval=10, **auth(settings)
        )
        self.group = group or service
        self.consumer = settings.consumer_name
        self.consumes = (
            consumes if consumes is not None else consumed_by(service, settings.intake_sources)
        )
        self.publishes = publishes if publishes is not None else PUBLISHES[service]
        self.counters = Counters()
        self.metrics = Metrics(self.group)
        self.redis_ok = False
        #: Said once when Redis goes away and once when it is back, whichever loop notices.
        self.outage = outage_of(redis_url)
        self._epoch: str | None = None
        #: The highest failover epoch the sentinels named (None: not on Sentinel), and when
        #: they were last asked (0: ask at the next epoch check, as after a connection error).
        self._failover: int | None = None
        self._failover_asked = 0.0
        self._master: str | None = None  # the master the sentinels named at that epoch
        self._relay_position = 0
        self._relay_wakeup = asyncio.Event()
        #: The loop the runtime runs on (set at start): wakes from other threads go through it.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._recover_lock = asyncio.Lock()
        #: Taken to adopt a new epoch and to publish a batch: a wipe noticed by the consuming
        #: loop and by the relay at once must reset the outbox once, and never in the middle of
        #: a batch being published (its end position would overwrite the reset).
        self._epoch_lock = asyncio.Lock()
        self._lease = settings.key(f"relay:{self.group}")
        self._forget_after = 0.0
        self._periodic = list(periodic)
        #: Loops whose last round failed: name -> (since when, the error in safe words).
        self.failing_loops: dict[str, tuple[float, str]] = {}

    async def _ensure_groups(self) -> None:
        await ensure_groups(self.redis, self.settings.stream_prefix)
        for stream in self.consumes:  # a deployment-specific stream outside the topology
            try:
                await self.redis.xgroup_create(
                    self._name(stream), self.group, id="0", mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def _name(self, stream: str) -> str:
        return self.settings.stream(stream)

    # --- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.app.after_save = self.wake_relay  # every save, whoever made it, wakes the relay
        await self._ensure_groups()
        await self._sync_epoch()
        self.redis_ok = True
        for loop in (self._consume_loop, self._reclaim_loop, self._relay_loop, self._trim_loop):
            self._tasks.append(asyncio.create_task(self._guard(loop), name=loop.__name__))
        for job in self._periodic:
            self._tasks.append(asyncio.create_task(self._every(job), name=job.name))
        log.info("service started", service=self.service, consumer=self.consumer)

    async def stop(self) -> None:
        self.app.after_save = None
        self._stopping.set()
        self._relay_wakeup.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.redis.aclose()
        log.info("service stopped", service=self.service)

    @property
    def running(self) -> bool:
        return bool(self._tasks) and all(not t.done() for t in self._tasks)

    async def _guard(self, loop: Callable[[], Awaitable[None]]) -> None:
        """Keep a loop alive through Redis outages; the loops themselves never give up."""
        while not self._stopping.is_set():
            try:
                await loop()
            except TRANSIENT as exc:
                self.redis_ok = False
                self._failover_asked = 0.0  # a failover shows as a lost connection first
                self.counters.last_error = f"{type(exc).__name__}: {exc}"
                self.outage.down(exc)
                await self._sleep(1.0)
            except ResponseError as exc:
                text = str(exc)
                if "NOGROUP" in text or "UNBLOCKED" in text or "no such key" in text.lower():
                    await self.recover(f"{loop.__name__}: {exc}")
                else:
                    self._failing(loop.__name__, exc)
                    log.exception("redis error", loop=loop.__name__)
                    await self._sleep(1.0)
            except Exception as exc:
                self._failing(loop.__name__, exc)
                log.exception("loop failed", loop=loop.__name__)
                await self._sleep(1.0)

    def _failing(self, loop: str, exc: BaseException) -> None:
        """Remember that ``loop`` failed: readiness says so until it completes a round."""
        error = describe_error(exc)
        self.counters.last_error = error
        self.counters.loop_failures += 1
        self.failing_loops.setdefault(loop, (time.time(), error))

    def _round_done(self, loop: str) -> None:
        self.outage.up()
        if self.failing_loops:
            self.failing_loops.pop(loop, None)

    async def _every(self, job: Periodic) -> None:
        """Run a job of the application's (a deadline check, say) every ``job.seconds``."""
        while not self._stopping.is_set():
            try:
                await anyio.to_thread.run_sync(job.run)
            except Exception:
                log.exception("periodic job failed", job=job.name)
            else:
                self._relay_wakeup.set()
            await self._sleep(job.seconds)

    async def _sleep(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    # --- recovering from a Redis that lost its data ----------------------------------------

    async def recover(self, why: str) -> None:
        async with self._recover_lock:
            self.counters.recoveries += 1
            self.metrics.recoveries.inc()
            log.warning("redis lost streams or groups, recovering", service=self.service, why=why)
            await self._ensure_groups()
            await self._sync_epoch()

    async def _sync_epoch(self) -> None:
        """Adopt Redis's epoch; if it is not the one we published into, republish everything."""
        async with self._epoch_lock:
            await self._adopt_epoch()

    async def _adopt_epoch(self) -> None:
        key = self.settings.key("epoch")
        current = await self.redis.get(key)
        if current is None:
            await self.redis.set(key, uuid.uuid4().hex, nx=True)
            current = await self.redis.get(key)
        token = await self._with_failover(
            current.decode() if isinstance(current, bytes) else str(current or "")
        )
        if token == self._epoch:
            return
        stored_epoch, stored_position = await anyio.to_thread.run_sync(self._stored_relay_state)
        if stored_epoch != token and (stored_epoch is not None or stored_position > 0):
            mark = await anyio.to_thread.run_sync(new_epoch, self.app.store, self.publishes)
            log.warning(
                "republishing the outbox into a new Redis",
                service=self.service,
                from_position=mark,
                relay_position=stored_position,
            )
            await self._ensure_groups()
            stored_position = mark
        await anyio.to_thread.run_sync(
            self.app.store.set_relay_position, self.publishes, stored_position, token
        )
        self._relay_position = stored_position
        self._epoch = token
        self._relay_wakeup.set()

    async def _with_failover(self, token: str) -> str:
        """The epoch token and, on Sentinel, the failover epoch (asked at most once a second):
        a failover may have lost what the old master had not replicated, so it is a new epoch
        (infra/sentinel.py)."""
        now = time.monotonic()
        if now - self._failover_asked >= 1.0:
            self._failover_asked = now
            seen = await failover_state(self.redis)
            if seen is not None:
                await self._note_failover(*seen)
        return token if self._failover is None else f"{token}/failover-{self._failover}"

    async def _note_failover(self, epoch: int, master: str) -> None:
        """Adopt a higher failover epoch; when it rose while this service ran, record that
        the master moved (``lots status`` names the last failover: infra/sentinel.py)."""
        before = self._master
        if self._failover is not None and epoch > self._failover and before is not None:
            try:
                if await record_failover(
                    self.redis, self.settings.key("failover"), epoch, before, master
                ):
                    log.warning("redis failover", service=self.service, epoch=epoch,
                                before=before, after=master)  # fmt: skip
            except NoPermissionError:  # an older ACL: the new epoch is adopted all the same
                log.warning("the failover cannot be recorded: docs/redis-acl.md", epoch=epoch)
        self._master = master
        self._failover = max(epoch, self._failover or 0)

    def _stored_relay_state(self) -> tuple[str | None, int]:
        store = self.app.store
        return store.relay_epoch(self.publishes), store.relay_position(self.publishes)

    # --- consuming ----------------------------------------------------------------------------

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

    @property
    def relay_position(self) -> int:
        return self._relay_position

    def wake_relay(self) -> None:
        """Publish now what a command has just recorded, instead of at the next poll. Safe
        from any thread: a command run in a worker thread (a sync route) hands it to the loop."""
        loop = self._loop
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if loop is None or here is loop:
            self._relay_wakeup.set()
            return
        with suppress(RuntimeError):  # the loop has closed: the service has stopped
            loop.call_soon_threadsafe(self._relay_wakeup.set)

    # --- trimming what every group has acknowledged ----------------------------------------

    async def trim(self, retention_ms: int, *, approximate: bool = True) -> int:
        """Trim this service's stream below what every group has acknowledged, below the
        retention window and below the outbox's low-water mark (so that an entry gone from
        Redis is one a wipe would not publish again); never an entry still pending or unread.
        Return entries removed."""
        name = self._name(self.publishes)
        unread = await self._undelivered(name)
        if unread is None:
            return 0  # nobody has read it: nothing is known to be safe to drop
        _, covered = await anyio.to_thread.run_sync(
            advance_low_water, self.app.store, self.publishes, f"{unread[0]}-{unread[1]}"
        )
        if covered is None:
            return 0
        mark = _ms_seq(covered)
        bounds = [_ms_seq(f"{int(time.time() * 1000) - retention_ms}-0"), (mark[0], mark[1] + 1)]
        ms, seq = min(bounds)
        removed = await self.redis.xtrim(name, minid=f"{ms}-{seq}", approximate=approximate)
        return int(removed)

    async def _undelivered(self, name: str) -> tuple[int, int] | None:
        return await undelivered(self.redis, name)

    async def forget_processed(self, margin_ms: int) -> int:
        """Forget the processed ids of this group that no entry can carry again (see
        :mod:`infra.watermarks`); ids from referral streams are kept. Return how many."""
        bounds: dict[str, int] = {}
        for stream in self.consumes:
            if stream in DELETE_AFTER_ACK:
                continue  # the senders' ids: intake's record of what it answered
            start = await deliverable_from(self.redis, self._name(stream))
            if start is not None:
                bounds[stream] = start
        if not bounds:
            return 0
        return await anyio.to_thread.run_sync(
            forget_delivered, self.app.store, self.group, bounds, margin_ms
        )

    async def _trim_loop(self) -> None:
        retention = self.settings.stream_retention_hours
        while not self._stopping.is_set():
            await self._sleep(self.settings.trim_interval_ms / 1000)
            if self._stopping.is_set():
                return
            if retention > 0:
                await self.trim(int(retention * 3_600_000))
            else:  # the mark is kept all the same, for recovery
                await self.mark_low_water()
            margin = self.settings.processed_retention_hours
            if margin > 0 and time.monotonic() >= self._forget_after:
                self._forget_after = time.monotonic() + FORGET_EVERY_S
                forgotten = await self.forget_processed(int(margin * 3_600_000))
                if forgotten:
                    log.info("processed message ids forgotten", count=forgotten)

    async def mark_low_water(self) -> tuple[int, str | None]:
        """Raise the outbox's low-water mark to what every group has acknowledged."""
        unread = await self._undelivered(self._name(self.publishes))
        if unread is None:
            mark = await anyio.to_thread.run_sync(low_water, self.app.store, self.publishes)
            return mark, None
        return await anyio.to_thread.run_sync(
            advance_low_water, self.app.store, self.publishes, f"{unread[0]}-{unread[1]}"
        )

    # --- relaying the outbox -----------------------------------------------------------------

    async def _relay_loop(self) -> None:
        ttl = max(5000, self.settings.relay_interval_ms * 20)
        while not self._stopping.is_set():
            await self._sync_epoch()
            held = await self.redis.eval(LEASE_SCRIPT, 1, self._lease, self.consumer, ttl)
            # 2: another instance may have relayed meanwhile: go on from its position.
            published = await self.relay_once(reread=held == 2, lease_ttl=ttl) if held else 0
            self._round_done("_relay_loop")
            if published == 0:
                self._relay_wakeup.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._relay_wakeup.wait(), timeout=self.settings.relay_interval_ms / 1000
                    )
        await self.redis.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end",
            1,
            self._lease,
            self.consumer,
        )

    async def relay_once(self, *, reread: bool = False, lease_ttl: int | None = None) -> int:
        """Publish the next batch of the outbox; return how many notifications it covered.
        ``reread``: start from the position stored (another instance may have relayed).
        ``lease_ttl``: the relay's lease is renewed once the batch is read, and nothing is
        published if it lapsed meanwhile (another instance may be publishing the same batch)."""
        async with self._epoch_lock:
            if reread:
                self._relay_position = await self._stored_position()
            return await self._publish_next(lease_ttl)

    async def _stored_position(self) -> int:
        return await anyio.to_thread.run_sync(self.app.store.relay_position, self.publishes)

    async def _publish_next(self, lease_ttl: int | None) -> int:
        start = self._relay_position
        position, outgoing = await anyio.to_thread.run_sync(
            self.app.outbox, start, self.settings.relay_batch_size
        )
        if position == start:
            return 0
        if lease_ttl is not None:
            # Reading a batch can outlast the lease on a busy machine (a batch being applied
            # holds the application's lock); publishing it then would double what the instance
            # that took the lease over publishes. It cannot close the window, only shrink it to
            # the XADDs themselves: consumers still deduplicate by message id.
            held = await self.redis.eval(LEASE_SCRIPT, 1, self._lease, self.consumer, lease_ttl)
            if held != 1:
                self.counters.lease_lapses += 1
                self._relay_position = await self._stored_position()
                return 0
        ids: list[Any] = []
        if outgoing:
            async with self.redis.pipeline(transaction=False) as pipe:
                for out in outgoing:
                    pipe.xadd(
                        self._name(out.stream),
                        encode(  # type: ignore[arg-type]
                            out.message,
                            id=out.id,
                            correlation_id=out.correlation_id,
                            causation_id=out.causation_id,
                        ),
                    )
                ids = await pipe.execute()
        last = _text(ids[-1]) if ids else None
        await anyio.to_thread.run_sync(
            record_published, self.app.store, self.publishes, position, self._epoch, last
        )
        self._relay_position = position
        self.counters.published += len(outgoing)
        self.metrics.published.inc(len(outgoing))
        return position - start

    # --- health ---------------------------------------------------------------------------------

    async def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {"subscribers": self.running}
        try:
            checks["redis"] = bool(await self.redis.ping())
        except Exception as exc:
            checks["redis"] = False
            checks["redis_error"] = type(exc).__name__
        try:
            await anyio.to_thread.run_sync(self.app.recorder.max_notification_id)
            checks["store"] = True
        except Exception as exc:
            checks["store"] = False
            checks["store_error"] = type(exc).__name__
        checks["loops"] = not self.failing_loops
        if self.failing_loops:
            checks["failing"] = {
                name.strip("_").removesuffix("_loop"): {"since": since, "error": error}
                for name, (since, error) in self.failing_loops.items()
            }
        checks["ready"] = bool(
            checks["subscribers"] and checks["redis"] and checks["store"] and checks["loops"]
        )
        return checks


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _ms_seq(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
