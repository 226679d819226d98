"""What the polare register's commands, reads and walk attestations need of intake, as one
small :class:`Protocol`.

:mod:`services.intake.polare_commands`, :mod:`services.intake.polare_walks`,
:mod:`services.intake.polare_leave` and :mod:`services.intake.polare_erasure` are functions of
:class:`Register`, never of the concrete :class:`~services.intake.application.Intake`, so
none imports the application and the application may take their registries
(:mod:`services.intake.registry`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from infra.pii import StagedKeys
from infra.postgres_recorder import PostgresRecorder
from infra.sqlite_recorder import SQLiteRecorder
from infra.unit_of_work import UnitOfWork

T = TypeVar("T")


class Register(Protocol):
    """Intake's clock, its personal-data keys and pseudonyms, its store and log, and the ways
    to work on a unit of work: a command (``ServiceApplication.transact``), work under the
    lock, a save."""

    clock: Callable[[], datetime]
    staged_keys: StagedKeys

    @property
    def store(self) -> SQLiteRecorder | PostgresRecorder: ...

    def pseudonym(self, value: bytes) -> UUID: ...

    def transact(
        self,
        change: Callable[[UnitOfWork], T],
        *,
        busy: Callable[[], Exception] | None = None,
        confirm: tuple[type[Exception], ...] = (),
    ) -> T: ...

    def locked(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` on a fresh unit of work under the application's lock."""
        ...

    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def mapper(self) -> Mapper[UUID]: ...

    def save(self, *objs: Any, **kwargs: Any) -> Any: ...
