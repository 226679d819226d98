"""The fair peer's aggregates (:mod:`bench.fair_peer`): the events the pipeline's services
store per referral, with payloads of the same content, as a user of eventsourcing 9.5 declares
them (``@event`` methods, ids derived from the message that creates each aggregate)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


def aid(*parts: object) -> UUID:
    """A deterministic aggregate id: redelivered messages create nothing twice."""
    return uuid5(NAMESPACE_URL, "peer:" + ":".join(str(p) for p in parts))


class Case(Aggregate):  # intake
    @event("Opened")
    def __init__(self, case_id: UUID, referral: dict[str, Any], received: dict[str, Any]) -> None:
        self.received = received
        self.meetings: list[str] = []
        self.acknowledged = False

    @staticmethod
    def create_id(case_id: UUID) -> UUID:
        return case_id

    @event("Acknowledged")
    def acknowledge(self, by: str, at: datetime) -> None:
        self.acknowledged = True

    @event("MeetingRecorded")
    def record_meeting(
        self, meeting_id: str, kind: str, started_at: str, ended_at: str, visits: int, cause: str
    ) -> None:
        self.meetings.append(meeting_id)


class WaitingCase(Aggregate):  # scheduling
    @event("Queued")
    def __init__(self, case_id: UUID, received: dict[str, Any]) -> None:
        self.meetings: list[str] = []

    @staticmethod
    def create_id(case_id: UUID) -> UUID:
        return aid("waiting", case_id)

    @event("MeetingBooked")
    def book(self, meeting_id: str, starts_at: datetime) -> None:
        self.meetings.append(meeting_id)

    @event("MeetingHeld")
    def held(self, meeting_id: str, started_at: datetime, ended_at: datetime) -> None:
        pass

    @event("DeadlineJudged")
    def judge(self, due: str, met: bool, first_contact_at: datetime) -> None:
        pass


class Meeting(Aggregate):  # scheduling
    @event("Booked")
    def __init__(self, meeting_id: UUID, booked: dict[str, Any]) -> None:
        self.booked = booked

    @staticmethod
    def create_id(meeting_id: UUID) -> UUID:
        return meeting_id

    @event("Held")
    def hold(self, held: dict[str, Any]) -> None:
        pass


class StaffWeek(Aggregate):  # scheduling
    @event("Opened")
    def __init__(self, staff: str, week: str) -> None:
        self.minutes = 0

    @staticmethod
    def create_id(staff: str, week: str) -> UUID:
        return aid("week", staff, week)

    @event("Reserved")
    def reserve(self, meeting_id: str, starts_at: datetime, minutes: int) -> None:
        self.minutes += minutes

    @event("HeldNoted")
    def note_held(self, meeting_id: str, started_at: datetime, minutes: int) -> None:
        pass


class CaseAccount(Aggregate):  # billing
    @event("Opened")
    def __init__(self, case_id: UUID, received: dict[str, Any]) -> None:
        pass

    @staticmethod
    def create_id(case_id: UUID) -> UUID:
        return aid("account", case_id)

    @event("MeetingRecorded")
    def record_meeting(self, meeting_id: str, performed_on: str, minutes: int) -> None:
        pass


class Session(Aggregate):  # billing
    @event("Opened")
    def __init__(self, session_id: UUID, meeting: dict[str, Any]) -> None:
        self.message: dict[str, Any] = {}

    @staticmethod
    def create_id(session_id: UUID) -> UUID:
        return session_id

    @event("Logged")
    def log(self, message: dict[str, Any]) -> None:
        self.message = message

    @event("ReportedApart")
    def report_apart(self, message: dict[str, Any]) -> None:
        self.message = message


class Settlement(Aggregate):  # billing: a month's lines, kept as totals in memory
    @event("Opened")
    def __init__(self, month: str) -> None:
        self.total_ore = 0
        self.apart_minutes = 0

    @staticmethod
    def create_id(month: str) -> UUID:
        return aid("settlement", month)

    @event("SessionBooked")
    def book(self, line: dict[str, Any]) -> None:
        self.total_ore += line["amount_ore"]

    @event("TimeReportedApart")
    def report_apart(self, line: dict[str, Any]) -> None:
        self.apart_minutes += line["minutes"]


class CapAccount(Aggregate):  # billing: a year's hours against the yearly cap
    @event("Opened")
    def __init__(self, year: int) -> None:
        self.hours = Decimal(0)

    @staticmethod
    def create_id(year: int) -> UUID:
        return aid("cap", year)

    @event("HoursBilled")
    def bill(self, session_id: UUID, case_id: UUID, hours: Decimal, month: str) -> None:
        self.hours += hours
