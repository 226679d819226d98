"""Prometheus metrics of one service, served at ``/metrics``.

Counters of what the runtime moved, a histogram of batch times, and gauges read when scraped:
the outbox's backlog, each consumed stream's length, its group's lag, pending entries and the
age of the oldest, dead letters, and the service's own service-level figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import anyio
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from infra.topology import dead_letter_stream

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from infra.application import ServiceApplication
    from infra.outage import Outage
    from infra.settings import Settings


class Observed(Protocol):
    """What a scrape reads of a service's runtime (:class:`infra.runtime.Runtime`), which
    counts into these metrics: named here, not imported, so the two do not import each other."""

    @property
    def app(self) -> ServiceApplication: ...
    @property
    def relay_position(self) -> int: ...
    @property
    def outage(self) -> Outage: ...
    @property
    def redis(self) -> aioredis.Redis: ...
    @property
    def consumes(self) -> tuple[str, ...]: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def group(self) -> str: ...


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"service": service}
        r = self.registry
        self.processed = Counter(
            "lots_entries_processed", "entries applied and acknowledged", ["service"], registry=r
        ).labels(**labels)
        self.dead_lettered = Counter(
            "lots_entries_dead_lettered", "entries moved to .dead", ["service"], registry=r
        ).labels(**labels)
        self.published = Counter(
            "lots_events_published", "public events relayed to Redis", ["service"], registry=r
        ).labels(**labels)
        self.reclaimed = Counter(
            "lots_entries_reclaimed", "pending entries taken over", ["service"], registry=r
        ).labels(**labels)
        self.recoveries = Counter(
            "lots_redis_recoveries", "times Redis had lost its data", ["service"], registry=r
        ).labels(**labels)
        self.batch_seconds = Histogram(
            "lots_batch_seconds",
            "time to apply and acknowledge one batch",
            ["service"],
            registry=r,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        ).labels(**labels)
        self.outbox_backlog = Gauge(
            "lots_outbox_backlog", "public events not yet relayed", ["service"], registry=r
        ).labels(**labels)
        self.stream_length = Gauge(
            "lots_stream_length", "entries in a stream", ["stream"], registry=r
        )
        self.group_lag = Gauge(
            "lots_group_lag", "entries not yet read by the group", ["stream", "group"], registry=r
        )
        self.group_pending = Gauge(
            "lots_group_pending",
            "entries read but not acknowledged",
            ["stream", "group"],
            registry=r,
        )
        self.oldest_pending = Gauge(
            "lots_group_oldest_pending_seconds",
            "idle time of the oldest pending entry",
            ["stream", "group"],
            registry=r,
        )
        self.dead_letters = Gauge(
            "lots_dead_letters", "entries waiting in <stream>.dead", ["stream"], registry=r
        )
        self.service_level = Gauge(
            "lots_service_level", "service-level figures", ["service", "figure"], registry=r
        )
        self.service = service

    async def render(self, runtime: Observed) -> bytes:
        """Read the gauges now and return the exposition text."""
        app = runtime.app
        position = runtime.relay_position
        self.outbox_backlog.set(await anyio.to_thread.run_sync(app.outbox_backlog, position))
        for figure, value in (await anyio.to_thread.run_sync(app.service_levels)).items():
            self.service_level.labels(self.service, figure).set(value)
        try:
            await self._read_streams(runtime)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            runtime.outage.down(exc)  # said once; the store's figures are still given
            for gauge in (
                self.stream_length,
                self.dead_letters,
                self.group_pending,
                self.group_lag,
                self.oldest_pending,
            ):
                gauge.clear()  # not known while Redis is away: absent, rather than stale
        return generate_latest(self.registry)

    async def _read_streams(self, runtime: Observed) -> None:
        client = runtime.redis
        for stream in runtime.consumes:
            name = runtime.settings.stream(stream)
            try:
                info = await client.xinfo_stream(name)
                groups = await client.xinfo_groups(name)
            except ResponseError:
                continue
            self.stream_length.labels(stream).set(int(info["length"]))
            self.dead_letters.labels(stream).set(int(await client.xlen(dead_letter_stream(name))))
            for group in groups:
                if _text(group["name"]) != runtime.group:
                    continue
                self.group_pending.labels(stream, runtime.group).set(int(group["pending"]))
                if group.get("lag") is not None:
                    self.group_lag.labels(stream, runtime.group).set(int(group["lag"]))
                oldest = await client.xpending_range(name, runtime.group, "-", "+", 1)
                idle = int(oldest[0]["time_since_delivered"]) / 1000 if oldest else 0.0
                self.oldest_pending.labels(stream, runtime.group).set(idle)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
