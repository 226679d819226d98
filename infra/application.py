"""The event-sourced application every service builds on: idempotent batches in, outbox out.

A batch of incoming messages is applied in one unit of work and saved in one transaction
together with the ids of the messages it processed. If anything in the batch fails, the batch is
applied again one message at a time, so one poison message never holds back the others and
never leaves half of an effect behind. The notification log is the outbox: the relay reads it
through :meth:`ServiceApplication.outbox` and publishes the public events it finds.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from copy import deepcopy
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, ClassVar, TypeVar, cast
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoding
from eventsourcing.utils import get_topic

from events.codec import DecodeError, Envelope, decode
from events.types import Message
from infra.access import CaseAccess
from infra.logging import describe_error
from infra.persistence import PostgresRecorder, SQLiteRecorder
from infra.pii import StagedKeys
from infra.turns import TurnLost, Turns, turns_for
from infra.watermarks import entry_ms

log = structlog.get_logger(__name__)

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """How often work is run again from a fresh read when another writer saved one of its
    aggregates first, and the jittered pause before each retry (seconds, doubling from
    ``base`` up to ``cap``): instances that collided spread out instead of colliding again."""

    attempts: int
    base: float = 0.004
    cap: float = 0.25

    def pause(self, attempt: int) -> None:
        """The pause before retry ``attempt`` (taken outside the lock)."""
        time.sleep(random.uniform(0, min(self.cap, self.base * 2**attempt)))


#: The one retry policy of commands (:meth:`ServiceApplication.transact`) and of a message
#: applied alone; a batch is applied again fewer times before its messages go one by one.
CONFLICT_BACKOFF = Backoff(attempts=12)
BATCH_ATTEMPTS = 3
#: Aggregates with at most this many events are rebuilt from a batch's read-ahead.
PREFETCH_EVENTS = 20
OUTBOX_NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/outbox")


class Refusal(str):
    """An entry's error that no retry can change (a message id used again for other content):
    the runtime dead-letters the entry at once instead of after its last delivery."""

    __slots__ = ()


@dataclass(frozen=True)
class Incoming:
    """One delivered entry, decoded."""

    entry_id: str
    stream: str
    envelope: Envelope[Any]


@dataclass(frozen=True)
class Outgoing:
    """One public message for the relay to publish, with an id stable across republishing."""

    stream: str
    message: Message
    correlation_id: str | None = None
    causation_id: str | None = None
    #: Filled in by the application from the event's identity; translators leave it out.
    id: UUID | None = None


class DateAsISO(Transcoding):
    """eventsourcing's JSON transcoder knows datetimes but not dates."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


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
    save failed is dropped (:meth:`ServiceApplication._record`), a batch that failed drops
    what it touched, and a saved aggregate is what the cache holds next (so the next read only
    asks the store for what other instances recorded since).

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


class Busy(RuntimeError):
    """A command kept colliding with other writers through every retry: send it again."""


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


class _Again(Exception):
    """An attempt of a command to run again from a fresh read."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _cached(cache: Any, aggregate_id: UUID) -> bool:
    """Whether the repository's cache holds the aggregate (then it is stored)."""
    return aggregate_id in getattr(cache, "cache", ())


Handler = Callable[[UnitOfWork, Envelope[Any]], None]
#: The aggregates the handler of a message will look up, from the message.
Lookup = Callable[[Any], Iterable[UUID]]
Translator = Callable[[Any], Outgoing | None]


class ServiceApplication(Application[UUID]):
    """Base of the three services' applications."""

    #: What this service does when a message of a type arrives (by contract type name).
    handlers: ClassVar[Mapping[str, Handler]] = {}
    #: The aggregates each type's handler looks up (by contract type name): a batch asks the
    #: store once which of them exist, instead of once per aggregate.
    lookups: ClassVar[Mapping[str, Lookup]] = {}
    #: Whether the instances of this service apply their batches one at a time. Set where
    #: every batch writes the same aggregates (billing: the month's settlement, the year's cap):
    #: instances applying at once would only collide and retry, and one could starve. On a
    #: SQLite file store they take turns through a file lock beside the store, on PostgreSQL
    #: through an advisory lock (:mod:`infra.turns`).
    exclusive_batches: ClassVar[bool] = False
    #: Domain event class -> its public message, for the relay.
    public_events: ClassVar[Mapping[type[DomainEventProtocol[UUID]], Translator]] = {}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(dict(env) if env is not None else None)
        # eventsourcing is synchronous and its SQLite connection is shared: one batch at a time.
        self.lock = AppLock()
        if isinstance(self.repository, CachingRepository):
            self.repository.lock = self.lock
        self._public_topics = [get_topic(cls) for cls in self.public_events]
        self._turns: Turns | None = None
        #: The turns while this instance holds its turn (checked before a batch is saved).
        self._holding: Turns | None = None
        #: New persons' keys, saved with the events sealed with them (a service holding
        #: personal data sets it: see :class:`infra.pii.StagedKeys`).
        self.keys: StagedKeys | None = None
        #: Called after every save, from whichever thread saved: the runtime wakes its outbox
        #: relay with it, so what any command records (HTTP, CLI in-process, periodic job) is
        #: published at once instead of at the relay's next poll.
        self.after_save: Callable[[], None] | None = None

    def construct_repository(self) -> Repository[UUID]:
        """The repository, without the library's deep copy of cached aggregates (see
        :class:`CachingRepository` for how the cache is kept right instead)."""
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CachingRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=True,
            deepcopy_from_cache=False,
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def store(self) -> SQLiteRecorder | PostgresRecorder:
        return cast(SQLiteRecorder | PostgresRecorder, self.recorder)

    def decode(self, stream: str, fields: Mapping[Any, Any]) -> Envelope[Any]:
        """Turn an entry into an envelope; raise DecodeError for a dead letter."""
        return decode(fields)

    def redact_dead_letter(self, stream: str, fields: dict[str, str], error: str) -> dict[str, str]:
        """The fields a dead letter may carry; a service holding personal data overrides this."""
        return fields

    # --- commands ----------------------------------------------------------------------------

    def transact(
        self,
        change: Callable[[UnitOfWork], T],
        *,
        busy: Callable[[], Exception] | None = None,
        confirm: tuple[type[Exception], ...] = (),
    ) -> T:
        """Run a command: under the lock, ``change`` works on a fresh unit of work, and what it
        touched is saved in one transaction; its result is returned.

        When another writer saved one of the same aggregates first (the store accepts one
        event per aggregate version), the command is run again from a fresh read after a
        jittered pause outside the lock (:data:`CONFLICT_BACKOFF`), so a conflict is never
        decided on stale reads. A refusal of a type in ``confirm`` is confirmed the same way
        when anything was recorded while the command read: aggregates are read one by one,
        and the refusal may rest on a mix of old and new. After the last attempt ``busy()``
        (default :class:`Busy`) is raised. What a failed attempt changed is dropped from the
        cache, with any personal-data keys it staged.
        """
        backoff = CONFLICT_BACKOFF
        failure: Exception | None = None
        for attempt in range(backoff.attempts):
            if attempt:
                backoff.pause(attempt)
            with self.lock:
                try:
                    return self._transact_once(change, confirm)
                except _Again as again:
                    failure = again.cause
        raise (busy() if busy is not None else Busy("kept changing meanwhile; try again")) from (
            failure
        )

    def _transact_once(
        self, change: Callable[[UnitOfWork], T], confirm: tuple[type[Exception], ...]
    ) -> T:
        seen = self.recorder.max_notification_id() if confirm else None
        uow = UnitOfWork(self)
        try:
            try:
                result = change(uow)
            except confirm as refusal:
                if self.recorder.max_notification_id() != seen:
                    raise _Again(refusal) from refusal
                raise
            try:
                self.save(*uow.aggregates)
            except IntegrityError as exc:  # another writer saved one of these first
                raise _Again(exc) from exc
        except BaseException:
            uow.discard()
            if self.keys is not None:
                self.keys.clear()  # nothing staged for a unit of work not saved outlives it
            raise
        return result

    # --- consuming -------------------------------------------------------------------------

    def process(self, group: str, items: list[Incoming]) -> dict[str, str | None]:
        """Apply a batch exactly once; return each entry's error, or None when it is done.

        When another instance of the service saved one of the batch's aggregates first (the
        store refuses a second write of a version), the batch is applied again on fresh reads
        after a short jittered pause taken outside the lock. A batch that keeps colliding, or
        fails otherwise, is applied one message at a time, so that a poison message only fails
        itself and a message colliding with another instance's writes gets its own retries.
        """
        results: dict[str, str | None] = {}
        todo = items
        for attempt in range(BATCH_ATTEMPTS):
            if attempt:
                CONFLICT_BACKOFF.pause(attempt)
            with self.lock:
                todo = self._unprocessed(group, todo, results)
                if not todo:
                    return results
                try:
                    with self._turn():
                        self._apply(group, todo)
                except (IntegrityError, TurnLost):
                    continue  # another instance came first, or the turn was lost: again
                except Exception:
                    break
                results.update(dict.fromkeys((i.entry_id for i in todo), None))
                return results
        for item in todo:
            if item.entry_id not in results:
                results[item.entry_id] = self._apply_alone(group, item)
        return results

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """This instance's turn to apply a batch, if the service's instances take turns
        (:mod:`infra.turns`: a file lock beside a SQLite store, an advisory lock on PostgreSQL)."""
        if not self.exclusive_batches:
            yield
            return
        if self._turns is None:
            self._turns = turns_for(self.env)
        turns = self._turns
        if turns is None:
            yield
            return
        turns.acquire()
        self._holding = turns
        try:
            yield
        finally:
            self._holding = None
            turns.release()

    def close(self) -> None:
        if self._turns is not None:
            self._turns.close()
            self._turns = None
        super().close()

    def _unprocessed(
        self, group: str, items: list[Incoming], results: dict[str, str | None]
    ) -> list[Incoming]:
        """The items whose messages this group has not processed; the others are done, or
        failed when :meth:`already_processed` says so."""
        seen = self.store.processed_among(group, {str(i.envelope.id) for i in items})
        first: dict[str, Incoming] = {}
        todo: list[Incoming] = []
        for item in items:
            message_id = str(item.envelope.id)
            if message_id in seen or message_id in first:
                results[item.entry_id] = self.already_processed(group, item, first.get(message_id))
                continue
            first[message_id] = item
            todo.append(item)
        return todo

    def already_processed(self, group: str, item: Incoming, earlier: Incoming | None) -> str | None:
        """The error of an entry whose message id this group has processed already (``earlier``:
        the entry of the same batch that carries it; None: an earlier batch did). None means the
        same message again, a redelivery or a republished copy: done. A service whose senders
        choose ids can tell an id used again for other content here; its error fails the entry,
        which is dead-lettered with it (at once if it is a :class:`Refusal`)."""
        return None

    def prepare(self, items: Sequence[Incoming]) -> None:
        """Read ahead in bulk what a batch's handlers will need; a service may override it."""

    def _apply(self, group: str, items: Sequence[Incoming]) -> None:
        uow = UnitOfWork(self)
        processed: list[tuple[str, str, str | None, int | None]] = []
        try:
            if self.keys is not None:
                self.keys.clear()  # made or read for a unit of work that was not saved
            self.prepare(items)
            uow.prefetch(
                aggregate_id
                for item in items
                if item.envelope.type in self.lookups
                for aggregate_id in self.lookups[item.envelope.type](item.envelope.message)
            )
            for item in items:
                handler = self.handlers.get(item.envelope.type)
                if handler is not None:
                    handler(uow, item.envelope)
                processed.append(
                    (group, str(item.envelope.id), item.stream, entry_ms(item.entry_id))
                )
            if self._holding is not None:
                self._holding.check()  # an instance that lost its turn saves nothing
            self.save(*uow.aggregates, processed=processed)
        except BaseException:
            uow.discard()
            if self.keys is not None:
                self.keys.clear()  # nothing read ahead outlives the unit of work
            raise

    def _apply_alone(
        self, group: str, item: Incoming, attempts: int = CONFLICT_BACKOFF.attempts
    ) -> str | None:
        error = ""
        for attempt in range(attempts):
            if attempt:
                CONFLICT_BACKOFF.pause(attempt)
            with self.lock:
                if self.store.processed_among(group, [str(item.envelope.id)]):
                    return self.already_processed(group, item, None)
                try:
                    with self._turn():
                        self._apply(group, [item])
                except (IntegrityError, TurnLost) as exc:  # another instance came first
                    error = f"{type(exc).__name__}: {exc}"
                    continue
                except Exception as exc:
                    log.warning(
                        "handler failed",
                        type=item.envelope.type,
                        message_id=str(item.envelope.id),
                        error=type(exc).__name__,
                    )
                    return describe_error(exc)
                return None
        return error

    # --- the case index, for auditors ----------------------------------------------------------

    def case_of(self, event: DomainEventProtocol[UUID]) -> UUID | None:
        """The case an event belongs to, for the case index; None if it belongs to none."""
        if isinstance(event, CaseAccess.Event):
            return None  # looks at a case are listed by `lots audit access`, not as its history
        case_id = getattr(event, "case_id", None)
        return case_id if isinstance(case_id, UUID) else None

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        cases = [self.case_of(e) for e in processing_event.events]
        if any(cases):
            processing_event.saved_kwargs["cases"] = [str(c) if c else None for c in cases]
        staged = self.keys.take() if self.keys is not None else {}
        if staged:
            processing_event.saved_kwargs["subject_keys"] = staged
        repository = self.repository
        try:
            recordings = super()._record(processing_event)
        except BaseException:
            if isinstance(repository, CachingRepository):
                repository.forget(processing_event.aggregates)
            raise
        if isinstance(repository, CachingRepository):
            repository.remember(processing_event.aggregates)
        if self.after_save is not None and recordings:
            self.after_save()
        return recordings

    def case_events(self, case_id: UUID) -> list[DomainEventProtocol[UUID]]:
        """Every event of this store that belongs to the case, in log order."""
        with self.lock:
            stored = self.store.case_stored(str(case_id))
        return [self.mapper.to_domain_event(event) for _, event in stored]

    # --- what operators see ---------------------------------------------------------------

    def service_levels(self) -> dict[str, int]:
        """Service-level figures of this service (breaches, usage); each service adds its own."""
        return {}

    def notices(self) -> list[dict[str, str]]:
        """Dated obligations operators must see (``level``, ``code``, ``message``): a report
        due or overdue, a plan falling short; each service adds its own."""
        return []

    def outbox_backlog(self, position: int, limit: int = 100_000) -> int:
        """Public events recorded after ``position`` (the relay's), counted up to ``limit``."""
        if not self._public_topics:
            return 0
        with self.lock:
            return len(
                self.recorder.select_notifications(
                    start=position + 1, limit=limit, topics=self._public_topics
                )
            )

    # --- the outbox --------------------------------------------------------------------------

    def outbox(self, after: int, limit: int) -> tuple[int, list[Outgoing]]:
        """Public messages of the events recorded after position ``after``, and the new position."""
        if not self._public_topics:
            return after, []
        with self.lock:
            notifications = self.recorder.select_notifications(
                start=after + 1, limit=limit, topics=self._public_topics
            )
        position = after
        out: list[Outgoing] = []
        for notification in notifications:
            position = notification.id
            event = self.mapper.to_domain_event(notification)
            outgoing = self.public_events[type(event)](event)
            if outgoing is not None:
                out.append(replace(outgoing, id=self.message_id(event)))
        return position, out

    def message_id(self, event: DomainEventProtocol[UUID]) -> UUID:
        """The public id of the message made from ``event``: the same every time it is sent."""
        return uuid5(
            OUTBOX_NAMESPACE, f"{self.name}/{event.originator_id}/{event.originator_version}"
        )


__all__ = [
    "CONFLICT_BACKOFF",
    "Backoff",
    "Busy",
    "DecodeError",
    "Handler",
    "Incoming",
    "Lookup",
    "Outgoing",
    "Refusal",
    "ServiceApplication",
    "UnitOfWork",
]
