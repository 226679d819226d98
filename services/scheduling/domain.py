"""Scheduling's aggregates: a case waiting for its first contact."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class WaitingCase(Aggregate):
    """A case in the wait queue, identified by intake's case id."""

    @staticmethod
    def create_id(case_id: UUID, **_: object) -> UUID:
        return case_id

    @event("Queued")
    def __init__(
        self,
        case_id: UUID,
        programme: str,
        priority: int,
        received_at: datetime,
        first_contact_due: date,
        causation_id: str | None,
    ) -> None:
        self.programme = programme
        self.priority = priority
        self.received_at = received_at
        self.first_contact_due = first_contact_due
