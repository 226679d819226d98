"""Billing's aggregates: the account of a case, which held meetings are charged to."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class CaseAccount(Aggregate):
    """What billing knows of a case: its programme, and the meetings held in it."""

    @staticmethod
    def create_id(case_id: UUID, **_: object) -> UUID:
        return case_id

    @event("Opened")
    def __init__(self, case_id: UUID, programme: str, causation_id: str | None) -> None:
        self.programme = programme
        self.meetings: list[UUID] = []

    @event("MeetingRecorded")
    def record_meeting(
        self, meeting_id: UUID, started_at: datetime, ended_at: datetime, causation_id: str | None
    ) -> None:
        self.meetings.append(meeting_id)
