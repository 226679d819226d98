"""One booked meeting and what became of it: moving it keeps every earlier time.

Stored under its first module's topics (``services.scheduling.domain:Meeting...``): an explicit
``TOPIC`` on the class and on each event keeps them, and :mod:`services.scheduling.domain` still
imports the class, so stored events resolve and new ones are written under the same names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.scheduling.errors import MeetingClosed


class Meeting(Aggregate):
    """One booked meeting and what became of it; moving it keeps every earlier time."""

    TOPIC = "services.scheduling.domain:Meeting"

    class Event(Aggregate.Event):
        TOPIC = "services.scheduling.domain:Meeting.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "services.scheduling.domain:Meeting.Created"

    @staticmethod
    def create_id(meeting_id: UUID, **_: object) -> UUID:
        return meeting_id

    @event("Booked", topic="services.scheduling.domain:Meeting.Booked")
    def __init__(
        self,
        meeting_id: UUID,
        case_id: UUID,
        programme: str,
        kind: str,
        format: str,
        provider: str,
        staff: list[str],
        starts_at: datetime,
        ends_at: datetime,
        first_contact: bool,
        booked_at: datetime,
    ) -> None:
        self.case_id = case_id
        self.programme = programme
        self.kind = kind
        self.format = format
        self.provider = provider
        self.staff = list(staff)
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.first_contact = first_contact
        self.booked_at = booked_at
        self.status = "booked"
        self.history: list[dict[str, Any]] = []
        self.outcome: dict[str, Any] = {}

    def _facts(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "programme": self.programme,
            "kind": self.kind,
            "format": self.format,
            "provider": self.provider,
        }

    def check_open(self) -> None:
        if self.status != "booked":
            raise MeetingClosed(f"meeting {self.id} is already {self.status.replace('_', '-')}")

    def reschedule(
        self, starts_at: datetime, ends_at: datetime, staff: list[str], by: str, reason: str,
        at: datetime,
    ) -> None:  # fmt: skip
        self.check_open()
        self._rescheduled(
            **self._facts(), staff=staff, starts_at=starts_at, ends_at=ends_at,
            previous_starts_at=self.starts_at, previous_ends_at=self.ends_at,
            previous_staff=self.staff, requested_by=by, reason=reason, rescheduled_at=at,
        )  # fmt: skip

    @event("Rescheduled", topic="services.scheduling.domain:Meeting.Rescheduled")
    def _rescheduled(
        self, case_id: UUID, programme: str, kind: str, format: str, provider: str,
        staff: list[str], starts_at: datetime, ends_at: datetime, previous_starts_at: datetime,
        previous_ends_at: datetime, previous_staff: list[str], requested_by: str, reason: str,
        rescheduled_at: datetime,
    ) -> None:  # fmt: skip
        self.history.append(
            {"starts_at": previous_starts_at, "ends_at": previous_ends_at,
             "staff": previous_staff, "moved_at": rescheduled_at, "moved_by": requested_by,
             "reason": reason}
        )  # fmt: skip
        self.starts_at, self.ends_at, self.staff = starts_at, ends_at, list(staff)

    def hold(
        self, started_at: datetime, ended_at: datetime, participants: int, client_visits: int,
        staff: list[str], at: datetime,
    ) -> None:  # fmt: skip
        self.check_open()
        self._held(
            **self._facts(), staff=staff, started_at=started_at, ended_at=ended_at,
            participants=participants, client_visits=client_visits, recorded_at=at,
        )  # fmt: skip

    @event("Held", topic="services.scheduling.domain:Meeting.Held")
    def _held(
        self, case_id: UUID, programme: str, kind: str, format: str, provider: str,
        staff: list[str], started_at: datetime, ended_at: datetime, participants: int,
        client_visits: int, recorded_at: datetime,
    ) -> None:  # fmt: skip
        self.status = "held"
        self.outcome = {
            "started_at": started_at, "ended_at": ended_at, "participants": participants,
            "client_visits": client_visits, "staff": list(staff), "recorded_at": recorded_at,
        }  # fmt: skip

    def cancel(self, by: str, reason: str, at: datetime, causation_id: str | None = None) -> None:
        self.check_open()
        self._cancelled(self.case_id, by, reason, at, causation_id)

    @event("Cancelled", topic="services.scheduling.domain:Meeting.Cancelled")
    def _cancelled(
        self, case_id: UUID, cancelled_by: str, reason: str, cancelled_at: datetime,
        causation_id: str | None,
    ) -> None:  # fmt: skip
        self.status = "cancelled"
        self.outcome = {"cancelled_by": cancelled_by, "reason": reason, "at": cancelled_at}

    def miss(self, at: datetime) -> None:
        self.check_open()
        self._missed(
            **self._facts(), staff=self.staff, starts_at=self.starts_at, ends_at=self.ends_at,
            recorded_at=at,
        )  # fmt: skip

    @event("NoShowRecorded", topic="services.scheduling.domain:Meeting.NoShowRecorded")
    def _missed(
        self, case_id: UUID, programme: str, kind: str, format: str, provider: str,
        staff: list[str], starts_at: datetime, ends_at: datetime, recorded_at: datetime,
    ) -> None:  # fmt: skip
        self.status = "no_show"
        self.outcome = {"recorded_at": recorded_at}
