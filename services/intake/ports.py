"""What intake's handlers and commands need of the application, as small :class:`Protocol` s.

The handlers (:mod:`services.intake.handlers`) and what they call to open a case or record a
rejection (:mod:`services.intake.records`, :mod:`services.intake.reevaluation`,
:mod:`services.intake.eligibility`) type against :class:`Answering`; those modules' commands
and readers against :class:`Recording`; not the concrete
:class:`~services.intake.application.Intake`, so that none of them imports the application.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import Repository
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import EventStore

from events.referrals import SubmitReferral
from infra.pii import KeyStore, StagedKeys
from infra.unit_of_work import UnitOfWork
from services.intake.household import Member
from services.intake.inbound import UnreadableReferral
from services.intake.limits import SourceLimiter
from services.intake.policy import IntakePolicy

T = TypeVar("T")


class Answering(Protocol):
    """Intake as a referral's answer sees it: its settings, its clock, its rate limit, and its
    personal-data keys (:mod:`services.intake.personal`)."""

    policy: IntakePolicy
    clock: Callable[[], datetime]
    limiter: SourceLimiter
    staged_keys: StagedKeys

    def fingerprint(self, referral: SubmitReferral | UnreadableReferral) -> str: ...

    def member(self, member: Member, name: str | None) -> dict[str, Any]: ...

    def person_ref(self, personal_number: str) -> UUID: ...


class Recording(Answering, Protocol):
    """Intake as its commands and readers over referrals and cases see it: also its store, its
    log, and the one way to run a command (``ServiceApplication.transact``)."""

    @property
    def store(self) -> KeyStore: ...

    @property
    def repository(self) -> Repository[UUID]: ...

    @property
    def events(self) -> EventStore[UUID]: ...

    def transact(
        self,
        change: Callable[[UnitOfWork], T],
        *,
        busy: Callable[[], Exception] | None = None,
        confirm: tuple[type[Exception], ...] = (),
    ) -> T: ...

    def message_id(self, event: DomainEventProtocol[UUID]) -> UUID: ...

    def reveal(self, member: Mapping[str, Any]) -> dict[str, Any]: ...

    def reveal_texts(self, data: dict[str, Any], case_id: UUID) -> dict[str, Any]: ...
