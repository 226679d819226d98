"""Billing's record of a case (its programme and meetings) and the worklist of sessions waiting
for a person.

Stored under their first module's topics (``services.billing.domain:CaseAccount...``,
``services.billing.domain:Worklist...``): an explicit ``TOPIC`` on each class and each event
keeps them, and :mod:`services.billing.domain` still imports the classes, so stored events
resolve and new ones are written under the same names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.billing.domain_keys import WORKLIST_ID


class CaseAccount(Aggregate):
    """What billing knows of a case: its programme, and the meetings held in it."""

    TOPIC = "services.billing.domain:CaseAccount"

    class Event(Aggregate.Event):
        TOPIC = "services.billing.domain:CaseAccount.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "services.billing.domain:CaseAccount.Created"

    @staticmethod
    def create_id(case_id: UUID, **_: object) -> UUID:
        return case_id

    @event("Opened", topic="services.billing.domain:CaseAccount.Opened")
    def __init__(self, case_id: UUID, programme: str, causation_id: str | None) -> None:
        self.programme = programme
        self.meetings: list[UUID] = []

    @event("MeetingRecorded", topic="services.billing.domain:CaseAccount.MeetingRecorded")
    def record_meeting(
        self, meeting_id: UUID, started_at: datetime, ended_at: datetime, causation_id: str | None
    ) -> None:
        self.meetings.append(meeting_id)


class Worklist(Aggregate):
    """Sessions waiting for a person: a decision on a group session, or a missing price."""

    TOPIC = "services.billing.domain:Worklist"

    class Event(Aggregate.Event):
        TOPIC = "services.billing.domain:Worklist.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "services.billing.domain:Worklist.Created"

    @staticmethod
    def create_id(**_: object) -> UUID:
        return WORKLIST_ID

    @event("Opened", topic="services.billing.domain:Worklist.Opened")
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    @event("ItemAdded", topic="services.billing.domain:Worklist.ItemAdded")
    def add(
        self,
        session_id: UUID,
        meeting_id: UUID | None,
        case_id: UUID,
        need: str,
        month: str,
        reason: str,
    ) -> None:
        self.items[str(session_id)] = {
            "session_id": str(session_id),
            "meeting_id": None if meeting_id is None else str(meeting_id),
            "case_id": str(case_id),
            "need": need,
            "month": month,
            "reason": reason,
        }

    def clear(self, session_id: UUID) -> None:
        if str(session_id) in self.items:
            self._clear(session_id=session_id)

    @event("ItemCleared", topic="services.billing.domain:Worklist.ItemCleared")
    def _clear(self, session_id: UUID) -> None:
        self.items.pop(str(session_id), None)
