"""A service's unit of work, and the cache and lock it reads through.

A command or a batch loads each aggregate it touches once, into a :class:`UnitOfWork`, and
saves them together. The repository hands it the cached aggregate itself
(:class:`CachingRepository`), which is safe because commands and batches run under the
application's lock (:class:`AppLock`) and the cache is kept right when a save fails.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from contextlib import suppress
from copy import deepcopy
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import Aggregate

from infra.postgres_recorder import PostgresRecorder
from infra.sqlite_recorder import SQLiteRecorder

A = TypeVar("A", bound=Aggregate)

#: Aggregates with at most this many events are rebuilt from a batch's read-ahead.
PREFETCH_EVENTS = 20


class AppLock:
    """The application's re-entrant lock, which also tells whether this thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._local = threading.local()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        acquired = self._lock.acquire(blocking, timeout)
        if acquired:
            self._local.depth = self.depth + 1
        return acquired

    def release(self) -> None:
        self._local.depth = self.depth - 1
        self._lock.release()

    @property
    def depth(self) -> int:
        return int(getattr(self._local, "depth", 0))

    @property
    def held(self) -> bool:
        """Whether this thread holds the lock (it is within a command or a batch)."""
        return self.depth > 0

    def __enter__(self) -> AppLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class CachingRepository(Repository[UUID]):
    """eventsourcing's repository, handing a command the cached aggregate itself, not a copy.

    The library deep-copies every aggregate it takes from its cache, so that a command that
    fails half-way cannot leave its changes in the cache; that copy grows with the aggregate (a
    month's settlement holds every session booked on it) and cost billing a quarter of its
    time. Here the application keeps the cache right instead: an aggregate that holds events
    not saved (a command that failed or gave up) is dropped and read again, an aggregate whose
    save failed is dropped (:meth:`infra.recording.RecordingApplication._record`), a batch
    that failed drops what it touched, and a saved aggregate is what the cache holds next (so
    the next read only asks the store for what other instances recorded since).

    Commands and batches run under the application's lock. A read from outside it (a query
    over HTTP) takes the lock while it reads and gets a copy, as before, so that it never sees
    a command's changes before they are saved nor races it.
    """

    lock: AppLock | None = None

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        lock = self.lock
        if lock is None or lock.held:
            return self._get(aggregate_id, version, **kwargs)
        with lock:
            found = self._get(aggregate_id, version, **kwargs)
            return deepcopy(found) if version is None and self.cache is not None else found

    def _get(self, aggregate_id: UUID, version: int | None, **kwargs: Any) -> Any:
        if version is None and self.cache is not None:
            try:
                cached = self.cache.get(aggregate_id)
            except KeyError:
                cached = None
            if cached is not None and getattr(cached, "pending_events", None):
                self.forget([aggregate_id])
        return super().get(aggregate_id, version=version, **kwargs)

    def forget(self, aggregate_ids: Iterable[UUID]) -> None:
        if self.cache is None:
            return
        for aggregate_id in aggregate_ids:
            with suppress(KeyError):
                self.cache.get(aggregate_id, evict=True)

    def remember(self, aggregates: Mapping[UUID, Any]) -> None:
        if self.cache is None:
            return
        for aggregate_id, aggregate in aggregates.items():
            self.cache.put(aggregate_id, aggregate)


class UnitOfWork:
    """The aggregates touched while applying a batch, each loaded once and saved together."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self._aggregates: dict[UUID, Aggregate] = {}
        # Remembered so that reads within one unit of work are repeatable, absent ones too.
        self._absent: set[UUID] = set()

    def get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        if aggregate_id in self._absent:
            return None
        if aggregate_id not in self._aggregates:
            try:
                self._aggregates[aggregate_id] = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self._absent.add(aggregate_id)
                return None
        aggregate = self._aggregates[aggregate_id]
        if not isinstance(aggregate, kind):
            raise TypeError(f"aggregate {aggregate_id} is a {type(aggregate).__name__}")
        return aggregate

    def prefetch(self, aggregate_ids: Iterable[UUID]) -> None:
        """Read these aggregates in one query, instead of one query each: those not stored
        yet (most of what a batch's messages name is still to be made) cost nothing to look up
        afterwards, and short ones are rebuilt from the events read. Long ones (which may have
        a snapshot) and those in the repository's cache are left to the repository."""
        cache = getattr(self.app.repository, "cache", None)
        unknown = {
            i
            for i in aggregate_ids
            if i not in self._aggregates and i not in self._absent and not _cached(cache, i)
        }
        if not unknown:
            return
        store = cast(SQLiteRecorder | PostgresRecorder, self.app.recorder)
        stored = store.events_of(unknown)
        self._absent.update(unknown - stored.keys())
        mapper = self.app.mapper
        for aggregate_id, events in stored.items():
            if len(events) <= PREFETCH_EVENTS:
                # As the repository's projection does (without its per-event isinstance check
                # against a runtime protocol, which cost more than the rest here).
                found: Any = None
                for event in events:
                    found = mapper.to_domain_event(event).mutate(found)  # type: ignore[attr-defined]
                if found is None:  # as the repository sees it: not found
                    self._absent.add(aggregate_id)
                else:
                    self._aggregates[aggregate_id] = found

    def add(self, aggregate: Aggregate) -> None:
        self._absent.discard(aggregate.id)
        self._aggregates[aggregate.id] = aggregate

    @property
    def aggregates(self) -> list[Aggregate]:
        return list(self._aggregates.values())

    def discard(self) -> None:
        """Forget the changes made here: nothing of this unit of work stays in the cache."""
        repository = self.app.repository
        if isinstance(repository, CachingRepository):
            repository.forget(self._aggregates)


def _cached(cache: Any, aggregate_id: UUID) -> bool:
    """Whether the repository's cache holds the aggregate (then it is stored)."""
    return aggregate_id in getattr(cache, "cache", ())
