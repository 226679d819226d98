"""What the loops of a service's runtime share: its Redis client, application and settings,
its counters, and how a loop sleeps, reports a failed round and names a stream.

The loops themselves: consuming (:mod:`infra.consumer`), relaying the outbox
(:mod:`infra.relay`), trimming (:mod:`infra.trimming`); :mod:`infra.runtime` runs them.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from dataclasses import dataclass, field

import redis.asyncio as aioredis
import structlog
from redis.exceptions import ResponseError

from infra.application import ServiceApplication
from infra.logging import describe_error
from infra.metrics import Metrics
from infra.outage import outage_of
from infra.redis import async_client, auth
from infra.settings import ServiceName, Settings
from infra.topology import (
    PUBLISHES,
    consumed_by,
    ensure_groups,
)

log = structlog.get_logger(__name__)


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


class RuntimeBase:
    """The state one service's loops share; see the module docstring."""

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

    async def _sleep(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
