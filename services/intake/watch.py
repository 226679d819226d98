"""Which cases still wait for their acknowledgement: a projection tailing intake's own log.

Rebuilt by one scan when the process starts and advanced incrementally afterwards, so the
periodic deadline check never loads cases that are not due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.utils import get_topic

from services.intake.domain import Case

if TYPE_CHECKING:
    from infra.application import ServiceApplication

OPENED = get_topic(Case.Opened)  # type: ignore[attr-defined]
SETTLED = {
    get_topic(Case.Acknowledged),  # type: ignore[attr-defined]
    get_topic(Case.AcknowledgementOverdue),  # type: ignore[attr-defined]
    get_topic(Case.Closed),  # type: ignore[attr-defined]
}


@dataclass
class AckWatch:
    position: int = 0
    waiting: dict[UUID, datetime] = field(default_factory=dict)

    def advance(self, app: ServiceApplication, page: int = 1000) -> None:
        topics = [OPENED, *SETTLED]
        while True:
            notes = app.recorder.select_notifications(
                start=self.position + 1, limit=page, topics=topics
            )
            for note in notes:
                if note.topic == OPENED:
                    opened = app.mapper.to_domain_event(note)
                    self.waiting[opened.originator_id] = opened.ack_due  # type: ignore[attr-defined]
                else:
                    self.waiting.pop(note.originator_id, None)  # type: ignore[arg-type]
                self.position = note.id
            if len(notes) < page:
                return

    def due(self, now: datetime) -> list[UUID]:
        return sorted(case for case, due in self.waiting.items() if due < now)
