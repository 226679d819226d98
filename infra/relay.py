"""The relay: tail the store's notification log and publish its public events to Redis.

One instance of a service holds the relay's lease at a time and publishes with pipelined
``XADD``, remembering its position in the store. Redis is transport, the store is the truth:
every service keeps an *epoch* token in Redis; when it disappears or changes (a restart
without persistence, ``FLUSHALL``, a Sentinel failover) or a group is missing, the service
re-creates the groups and republishes its outbox from the low-water mark (every event up to it
was delivered and acknowledged by every group: :mod:`infra.watermarks`), and consumers skip
what they had already processed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import suppress
from typing import Any

import anyio
import structlog
from redis.exceptions import NoPermissionError

from events.codec import encode
from infra.runtime_base import RuntimeBase
from infra.sentinel import failover_state, record_failover
from infra.watermarks import (
    new_epoch,
    record_published,
)

log = structlog.get_logger(__name__)

# Renew the relay lease if we hold it, take it if nobody does. 2 = newly taken, 1 = renewed.
LEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2]) return 1
elseif redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 2
else return 0 end
"""


class Relay(RuntimeBase):
    """The relaying loop of a service's runtime, and its recovery from a Redis that lost its
    data."""

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

    # --- relaying the outbox -----------------------------------------------------------------

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


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
