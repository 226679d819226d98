"""The consumer's side in the application: a batch of incoming messages applied exactly once.

A batch is applied in one unit of work and saved in one transaction together with the ids of
the messages it processed. If anything in the batch fails, the batch is applied again one
message at a time, so one poison message never holds back the others and never leaves half of
an effect behind. The Redis side (reading, acknowledging, dead-lettering) is
:mod:`infra.consumer`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

import structlog
from eventsourcing.persistence import IntegrityError

from events.codec import Envelope
from infra.commands import CONFLICT_BACKOFF
from infra.logging import describe_error
from infra.recording import RecordingApplication
from infra.turns import TurnLost, Turns, turns_for
from infra.unit_of_work import UnitOfWork
from infra.watermarks import entry_ms

log = structlog.get_logger(__name__)

#: A batch is applied again this many times before its messages go one by one.
BATCH_ATTEMPTS = 3


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


Handler = Callable[[UnitOfWork, Envelope[Any]], None]
#: The aggregates the handler of a message will look up, from the message.
Lookup = Callable[[Any], Iterable[UUID]]


class Batches(RecordingApplication):
    """The part of a service's application that applies batches of incoming messages."""

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

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._turns: Turns | None = None
        #: The turns while this instance holds its turn (checked before a batch is saved).
        self._holding: Turns | None = None

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
