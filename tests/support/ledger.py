"""A ledger service for testing delivery: it appends one entry per ``MeetingHeld`` it applies.

Appending is deliberately *not* idempotent in the domain, so any message applied twice shows up
as a duplicate entry: only the infrastructure stands between a redelivery and a double count.
Each hop republishes what it entered, so hops can be chained to test the relay too. A meeting
with 13 participants is poison: its handler always fails.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from events.codec import Envelope
from events.scheduling import MeetingHeld
from infra.application import ServiceApplication
from infra.batches import Handler
from infra.outbox import Outgoing
from infra.settings import Settings
from infra.store import store_env
from infra.unit_of_work import UnitOfWork

ACCOUNTS = 8
POISON_PARTICIPANTS = 13


class Account(Aggregate):
    @staticmethod
    def create_id(number: int) -> UUID:
        return uuid5(NAMESPACE_URL, f"ledger-account/{number}")

    @event("Opened")
    def __init__(self, number: int) -> None:
        self.entries: list[str] = []

    @event("Entered")
    def enter(self, meeting: dict[str, Any], causation_id: str) -> None:
        self.entries.append(meeting["meeting_id"])


def when_meeting_held_enter(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    held: MeetingHeld = envelope.message
    ledger: Ledger = uow.app  # type: ignore[assignment]
    if held.participants == ledger.poison_participants:
        raise ValueError("13 participants: this handler always fails")
    number = held.meeting_id.int % ACCOUNTS
    account = uow.get(Account.create_id(number), Account)
    if account is None:
        account = Account(number=number)
        uow.add(account)
    account.enter(held.model_dump(mode="json"), str(envelope.id))
    if ledger.handler_delay:
        time.sleep(ledger.handler_delay)


class Ledger(ServiceApplication):
    name = "ledger"
    handlers: ClassVar[Mapping[str, Handler]] = {MeetingHeld.type_name: when_meeting_held_enter}

    def __init__(self, env: Mapping[str, str] | None = None, *, output: str = "ledger.out") -> None:
        self.output = output
        #: The participants that make the handler fail; None: a version with the bug fixed.
        self.poison_participants: int | None = POISON_PARTICIPANTS
        self.handler_delay = float(os.environ.get("LEDGER_HANDLER_DELAY", "0"))
        self.public_events = {Account.Entered: self._republish}  # type: ignore[attr-defined]
        super().__init__(env)

    def _republish(self, entered: Any) -> Outgoing:
        return Outgoing(self.output, MeetingHeld.model_validate(entered.meeting))

    def entries(self) -> list[str]:
        """Every meeting id entered, over all accounts, duplicates included."""
        out: list[str] = []
        for number in range(ACCOUNTS):
            try:
                out.extend(self.repository.get(Account.create_id(number)).entries)
            except Exception:  # never opened
                continue
        return sorted(out)


def make_ledger(settings: Settings, name: str, output: str) -> Ledger:
    env = store_env(settings.model_copy(update={"var_dir": settings.var_dir / name}), "intake")
    env.pop("AGGREGATE_CACHE_MAXSIZE", None)  # tests read stores written by other processes
    return Ledger(env, output=output)
