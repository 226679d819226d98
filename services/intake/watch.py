"""Which cases still wait for their acknowledgement: a projection tailing intake's own log.

Stored in intake's store with its position (:mod:`infra.projections`): a start loads it and
reads only what was recorded since; advanced incrementally afterwards, so the periodic deadline
check never loads cases that are not due.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.utils import get_topic

from infra.projections import resume
from services.intake.domain_case import Case

if TYPE_CHECKING:
    from infra.application import ServiceApplication

OPENED = get_topic(Case.Opened)  # type: ignore[attr-defined]
NOTED = get_topic(Case.AcknowledgementOverdue)  # type: ignore[attr-defined]
SETTLED = {
    get_topic(Case.Acknowledged),  # type: ignore[attr-defined]
    get_topic(Case.Closed),  # type: ignore[attr-defined]
}


@dataclass
class AckWatch:
    name: ClassVar[str] = "intake.ack-watch/1"
    #: Taken to advance or read the watch: it is advanced by a periodic job and read by
    #: status queries, each in a thread of its own, without the application's lock.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    position: int = 0
    waiting: dict[UUID, datetime] = field(default_factory=dict)
    #: Cases whose missed deadline is already recorded: still waiting, not to be noted again.
    noted: set[UUID] = field(default_factory=set)

    def dump(self) -> dict[str, Any]:
        return {
            "waiting": [[c.hex, due.isoformat()] for c, due in self.waiting.items()],
            "noted": sorted(c.hex for c in self.noted),
        }

    def load(self, state: dict[str, Any]) -> None:
        self.waiting = {UUID(c): datetime.fromisoformat(due) for c, due in state["waiting"]}
        self.noted = {UUID(c) for c in state["noted"]}

    def advance(self, app: ServiceApplication, page: int = 1000) -> None:
        resume(app, self)
        topics = [OPENED, NOTED, *SETTLED]
        while True:
            notes = app.recorder.select_notifications(
                start=self.position + 1, limit=page, topics=topics
            )
            for note in notes:
                case_id: UUID = note.originator_id  # type: ignore[assignment]
                if note.topic == OPENED:
                    opened = app.mapper.to_domain_event(note)
                    self.waiting[case_id] = opened.ack_due  # type: ignore[attr-defined]
                elif note.topic == NOTED:
                    self.noted.add(case_id)
                else:
                    self.waiting.pop(case_id, None)
                    self.noted.discard(case_id)
                self.position = note.id
            if len(notes) < page:
                return

    def due(self, now: datetime) -> list[UUID]:
        """Cases past their deadline whose miss is not yet recorded."""
        return sorted(c for c, due in self.waiting.items() if due < now and c not in self.noted)

    def past_due(self, now: datetime) -> int:
        """Cases still unacknowledged past their deadline, recorded or not."""
        return sum(1 for due in self.waiting.values() if due < now)
