"""What a session is opened from (a held meeting, or logged time), and what it bills before
the cap: the same for the service (:mod:`services.billing.booking`), its replay and the
offline computation.

Split from :mod:`services.billing.booking`, which books what these price.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from events.billing import SessionLogged
from events.scheduling import MeetingHeld
from events.types import Programme
from infra.calendar import local_date
from infra.months import month_of_date
from services.billing.cap_order import Key, day_key, performed_key
from services.billing.pricing import (
    Billable,
    meeting_billable,
    price_decided,
    price_logged_time,
    price_meeting,
    time_billable,
)
from services.billing.pricing_groups import Decision, NeedsDecision, decision_options
from services.billing.tariffs import Catalogue

TIME_NAMESPACE = uuid5(NAMESPACE_URL, "lots:billing:logged-time")
"""Namespace of the session ids of logged time; never change it (ids must re-derive)."""


class LoggedTime(BaseModel):
    """Preparation or follow-up time a person logged for a case (003 §1.2: billable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    session_id: UUID
    case_id: UUID
    programme: Programme
    provider: str
    performed_on: date
    minutes: int = Field(ge=1, le=720)
    activity: Literal["preparation", "follow_up"]
    logged_by: str | None = None
    note: str | None = None


Source = MeetingHeld | LoggedTime


def time_session_id(entry_id: UUID) -> UUID:
    """The session id of a time entry, the same however often the entry is sent."""
    return uuid5(TIME_NAMESPACE, str(entry_id))


def source_of(meeting: Mapping[str, Any] | None, time_entry: Mapping[str, Any] | None) -> Source:
    """What a session was opened from, as recorded on it."""
    if meeting is not None:
        return MeetingHeld.model_validate(meeting)
    assert time_entry is not None  # a session is opened from exactly one of the two
    return LoggedTime.model_validate(time_entry)


def billable_of(
    source: Source, decision: Decision | None, catalogue: Catalogue
) -> Billable | NeedsDecision:
    """What a meeting or logged time bills before any price (what the cap counts)."""
    if isinstance(source, LoggedTime):
        return time_billable(source.programme, source.performed_on, source.minutes, catalogue)
    return meeting_billable(source, decision, catalogue)


def price_source(
    source: Source, decision: Decision | None, catalogue: Catalogue
) -> SessionLogged | NeedsDecision:
    """The unbilled session (before the cap) of a meeting or of logged time."""
    if isinstance(source, LoggedTime):
        return price_logged_time(
            session_id=source.session_id,
            case_id=source.case_id,
            programme=source.programme,
            provider=source.provider,
            performed_on=source.performed_on,
            minutes=source.minutes,
            catalogue=catalogue,
        )
    if decision is not None:
        return price_decided(source, decision, catalogue)
    return price_meeting(source, catalogue)


def pending_of(needs: NeedsDecision) -> dict[str, Any]:
    return {
        "meeting_id": str(needs.meeting_id),
        "case_id": str(needs.case_id),
        "programme": needs.programme,
        "settlement_month": needs.settlement_month,
        "minutes": needs.minutes,
        "participants": needs.participants,
        "reason": needs.reason,
    }


def needs_of(pending: Mapping[str, Any]) -> NeedsDecision:
    return NeedsDecision(
        meeting_id=UUID(str(pending["meeting_id"])),
        case_id=UUID(str(pending["case_id"])),
        programme=str(pending["programme"]),
        settlement_month=str(pending["settlement_month"]),
        minutes=int(pending["minutes"]),
        participants=int(pending["participants"]),
        reason=str(pending["reason"]),
        options=decision_options(int(pending["participants"])),
    )


def place_of(source: Source, session_id: UUID) -> Key:
    """A session's place in the order performed (cap_order.py)."""
    if isinstance(source, LoggedTime):
        return day_key(source.performed_on, session_id)
    return performed_key(source.started_at, session_id)


def month_of_source(source: Source) -> str:
    """The month a session's meeting or time belongs to (its Stockholm local date)."""
    day = source.performed_on if isinstance(source, LoggedTime) else local_date(source.started_at)
    return month_of_date(day)
