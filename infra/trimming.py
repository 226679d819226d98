"""Trimming what every group has acknowledged, and forgetting processed ids no entry can carry.

A service's stream is trimmed below what every group has acknowledged, below the retention
window and below the outbox's low-water mark; a group's processed message ids are forgotten
once no entry can carry them again (:mod:`infra.watermarks`).
"""

from __future__ import annotations

import time

import anyio
import structlog

from infra.runtime_base import RuntimeBase
from infra.topology import (
    DELETE_AFTER_ACK,
)
from infra.watermarks import (
    advance_low_water,
    deliverable_from,
    forget_delivered,
    low_water,
    undelivered,
)

log = structlog.get_logger(__name__)

#: How often a group forgets the processed ids no entry can carry again (at most).
FORGET_EVERY_S = 3600.0


class Trimming(RuntimeBase):
    """The trimming loop of a service's runtime."""

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


def _ms_seq(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
