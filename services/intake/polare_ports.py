"""What the polare register's commands, reads and walk attestations need of intake, as one
small :class:`Protocol`.

:mod:`services.intake.polare_commands` and :mod:`services.intake.polare_walks` are functions
of :class:`Register`, never of the concrete :class:`~services.intake.application.Intake`, so
neither imports the application and the application may take their registries
(:mod:`services.intake.registry`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from infra.pii import KeyStore, StagedKeys
from infra.unit_of_work import UnitOfWork

T = TypeVar("T")


class Register(Protocol):
    """Intake's clock, its personal-data keys and pseudonyms, and the ways to work on a unit
    of work: a command (``ServiceApplication.transact``), a read under the lock, a save."""

    clock: Callable[[], datetime]
    staged_keys: StagedKeys

    @property
    def store(self) -> KeyStore: ...

    def pseudonym(self, value: bytes) -> UUID: ...

    def transact(
        self,
        change: Callable[[UnitOfWork], T],
        *,
        busy: Callable[[], Exception] | None = None,
        confirm: tuple[type[Exception], ...] = (),
    ) -> T: ...

    def query(self, read: Callable[[UnitOfWork], T]) -> T:
        """Run ``read`` on a fresh unit of work under the application's lock."""
        ...

    def save(self, *objs: Any, **kwargs: Any) -> Any: ...
