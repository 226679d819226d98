"""What scheduling's feature modules need of the application, as one small :class:`Protocol`.

The handlers of intake's events (:mod:`services.scheduling.handlers`), field work's commands
(:mod:`services.scheduling.fieldwork`) and the deadline checks
(:mod:`services.scheduling.monitor`) are functions of :class:`Schedule`, never of the concrete
:class:`~services.scheduling.application.Scheduling`: none of them imports the application,
so the application may take their registries (:mod:`services.scheduling.registry`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from infra.unit_of_work import AppLock
from services.scheduling.desk import Desk
from services.scheduling.policy import SchedulingPolicy
from services.scheduling.view import CaseView

T = TypeVar("T")


class Schedule(Protocol):
    """Scheduling's rules, clock and queue view, and the two ways to work at a desk."""

    policy: SchedulingPolicy
    clock: Callable[[], datetime]
    view: CaseView
    lock: AppLock

    def transact(self, command: Callable[[Desk], T]) -> T:
        """Run ``command`` at the desk of a fresh unit of work, saved, retried on conflict."""
        ...

    def query(self, read: Callable[[Desk], T]) -> T:
        """Run ``read`` at the desk of a fresh unit of work under the lock, never saved."""
        ...
