"""The queue as a read model: every case's place and waits, kept from the store's log.

The view follows scheduling's own notification log (the store is the truth), so it is rebuilt
on start and stays right when several instances of the service share one store: each query
first reads what was recorded since the last one. It only answers "which cases, in which
order"; commands load the cases themselves and the aggregates guard every change.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from infra.calendar import local_date
from services.scheduling.domain import WaitingCase, is_acute
from services.scheduling.queue import QueuedCase, ordered

_QUEUED = get_topic(WaitingCase.Queued)  # type: ignore[attr-defined]
_HELD = get_topic(WaitingCase.MeetingHeld)  # type: ignore[attr-defined]
_CLOSED = get_topic(WaitingCase.Closed)  # type: ignore[attr-defined]
_JUDGED = get_topic(WaitingCase.DeadlineJudged)  # type: ignore[attr-defined]


class CaseView:
    """Scheduling's cases in queue order, and which deadlines are still to be judged."""

    def __init__(self, app: Application[UUID], batch: int = 1000) -> None:
        self._app = app
        self._batch = batch
        self._position = 0
        self.cases: dict[UUID, QueuedCase] = {}
        self.unjudged: set[UUID] = set()
        self.overdue: set[UUID] = set()

    def catch_up(self) -> None:
        """Read what was recorded since the last call; the caller holds the app's lock."""
        topics = [_QUEUED, _HELD, _CLOSED, _JUDGED]
        while True:
            notifications = self._app.recorder.select_notifications(
                start=self._position + 1, limit=self._batch, topics=topics
            )
            for notification in notifications:
                self._apply(notification.topic, self._app.mapper.to_domain_event(notification))
                self._position = notification.id
            if len(notifications) < self._batch:
                return

    def _apply(self, topic: str, event: Any) -> None:
        case_id: UUID = event.originator_id
        if topic == _QUEUED:
            self.cases[case_id] = QueuedCase(
                case_id=case_id,
                programme=event.programme,
                priority=event.priority,
                acute=is_acute(getattr(event, "urgency", None), event.priority),
                first_contact_due=event.first_contact_due,
                received_at=event.received_at,
                received_on=local_date(event.received_at),
            )
            self.unjudged.add(case_id)
            return
        case = self.cases[case_id]
        if topic == _HELD and case.held_on is None:
            self.cases[case_id] = replace(case, held_on=local_date(event.started_at))
        elif topic == _CLOSED:
            closed_on = local_date(event.closed_at)
            self.cases[case_id] = replace(case, closed_on=closed_on)
            if closed_on <= case.first_contact_due:  # closed in time: nothing left to judge
                self.unjudged.discard(case_id)
        elif topic == _JUDGED:
            self.unjudged.discard(case_id)
            if not event.met:
                self.overdue.add(case_id)

    def queue(self, programme: str | None = None) -> list[QueuedCase]:
        return ordered(c for c in self.cases.values() if programme in (None, c.programme))

    def of_programme(self, programme: str) -> list[QueuedCase]:
        return [c for c in self.cases.values() if c.programme == programme]
