"""One way to run a command: :meth:`Commands.transact`, with the one jittered backoff.

Lock, fresh unit of work, change, save; a conflict with another writer runs the command again
from a fresh read after a pause outside the lock. The same backoff paces the retries of a
batch's messages (:mod:`infra.batches`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from eventsourcing.persistence import IntegrityError

from infra.recording import RecordingApplication
from infra.unit_of_work import UnitOfWork

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


class Busy(RuntimeError):
    """A command kept colliding with other writers through every retry: send it again."""


class _Again(Exception):
    """An attempt of a command to run again from a fresh read."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


class Commands(RecordingApplication):
    """The part of a service's application that runs commands."""

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
