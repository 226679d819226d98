"""A Redis outage in the log once per change, not once per retry.

Every loop of a service that finds Redis away retries about once a second, each on its own;
logging each failure made nine lines a second of the same news. Whoever talks to Redis tells
the one :class:`Outage` of that Redis in this process (:func:`outage_of`) what happened:
:meth:`Outage.down` logs ``Redis unreachable at <url> since <time>`` when Redis was reachable
until then, :meth:`Outage.up` logs ``Redis reachable again after N s`` when it was not, and
every other call says nothing.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import structlog

from infra.calendar import STOCKHOLM
from infra.redis import where

log = structlog.get_logger(__name__)


class Outage:
    """Whether one Redis is reachable, as this process last found it."""

    def __init__(self, url: str) -> None:
        self.url = where(url)  # never a password in the log
        self._lock = threading.Lock()
        self._since: datetime | None = None
        self._down_at = 0.0

    @property
    def unreachable(self) -> bool:
        return self._since is not None

    def down(self, error: BaseException | str) -> None:
        """Redis did not answer (``error``: what was raised, named by its type only)."""
        with self._lock:
            if self._since is not None:
                return
            self._since = datetime.now(UTC)
            self._down_at = time.monotonic()
            since = self._since.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S %Z")
        name = error if isinstance(error, str) else type(error).__name__
        log.warning(f"Redis unreachable at {self.url} since {since}", error=name)

    def up(self) -> None:
        """Redis answered."""
        if self._since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            if self._since is None:
                return
            self._since = None
            seconds = time.monotonic() - self._down_at
        log.warning(f"Redis reachable again at {self.url} after {seconds:.0f} s")


_outages: dict[str, Outage] = {}
_registry = threading.Lock()


def outage_of(url: str) -> Outage:
    """The one :class:`Outage` of the Redis at ``url`` in this process, shared by its loops."""
    key = where(url)
    with _registry:
        return _outages.setdefault(key, Outage(url))
