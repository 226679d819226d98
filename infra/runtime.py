"""The running half of a service: consume, reclaim, dead-letter, relay, recover, trim.

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

The loops live in :mod:`infra.consumer` (consume, reclaim), :mod:`infra.relay` (relay, the
epoch and recovery) and :mod:`infra.trimming`; :class:`Runtime` starts, guards and stops them,
runs the service's periodic jobs and answers readiness.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from infra.application import ServiceApplication
from infra.consumer import Consumer
from infra.relay import Relay
from infra.settings import ServiceName, Settings
from infra.trimming import Trimming

log = structlog.get_logger(__name__)
TRANSIENT = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)


@dataclass(frozen=True)
class Periodic:
    """A synchronous job the runtime runs in a worker thread every ``seconds``."""

    name: str
    seconds: float
    run: Callable[[], object]


class Runtime(Consumer, Relay, Trimming):
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
        super().__init__(
            service, app, settings, redis_url, consumes=consumes, publishes=publishes, group=group
        )
        self._periodic = list(periodic)

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
