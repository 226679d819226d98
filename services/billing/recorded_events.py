"""Billing's recorded events as types: what each one that is published or replayed carries.

eventsourcing makes an aggregate's event classes from its decorated methods when the aggregate
class is made, so a type checker cannot see them (``Session.Flagged`` is ``Any`` to mypy).
Each protocol here states one of them field for field, named after it (``Session.Flagged`` is
:class:`SessionFlaggedEvent`), for the outbound translators (``public.py``, ``polare.py``) and
the replay's fold (``replay.py``, ``replay_bookings.py``) to be typed with.
``tests/unit/test_billing_event_types.py`` checks every protocol against the class
eventsourcing made, name and annotation of each field, so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID


class RecordedEvent(Protocol):
    """What every recorded event carries: its aggregate, its place in it, and when."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime


class CreatedEvent(RecordedEvent, Protocol):
    """An aggregate's first event also names the aggregate's class (its topic)."""

    originator_topic: str


class TariffBookOpenedEvent(CreatedEvent, Protocol):
    """``TariffBook.Opened``: the default catalogue, recorded on first start (tariff_book.py)."""

    entries: list[dict[str, Any]]
    reason: str
    recorded_at: datetime


class TariffBookEntriesRecordedEvent(RecordedEvent, Protocol):
    """``TariffBook.EntriesRecorded``: prices, terms or indexations recorded after it."""

    entries: list[dict[str, Any]]
    reason: str
    reference: str | None
    recorded_by: str | None
    recorded_at: datetime


class TariffBookCallOffRecordedEvent(RecordedEvent, Protocol):
    """``TariffBook.CallOffRecorded``: a call-off raising a year's cap from its effective date."""

    reference: str
    programme: str
    year: int
    hours: Decimal
    effective_from: date
    recorded_by: str | None
    recorded_at: datetime


class SessionOpenedEvent(CreatedEvent, Protocol):
    """``Session.Opened``: a session opened from a held meeting or from logged time (domain.py)."""

    session_id: UUID
    case_id: UUID
    meeting: dict[str, Any] | None
    time_entry: dict[str, Any] | None
    causation_id: str | None


class SessionFlaggedEvent(RecordedEvent, Protocol):
    """``Session.Flagged``: a group session waiting for a person's decision."""

    meeting_id: UUID
    case_id: UUID
    programme: str
    settlement_month: str
    reason: str
    minutes: int
    participants: int
    performed_on: date


class SessionDecidedEvent(RecordedEvent, Protocol):
    """``Session.Decided``: a person's decision on a flagged group session."""

    meeting_id: UUID
    case_id: UUID
    decision: str
    decided_by: str
    note: str | None
    decided_at: datetime


class SessionDismissedEvent(RecordedEvent, Protocol):
    """``Session.Dismissed``: a session whose price is not known, ruled out by a person."""

    meeting_id: UUID | None
    case_id: UUID
    reason: str
    decided_by: str
    decided_at: datetime


class SessionReportedApartEvent(RecordedEvent, Protocol):
    """``Session.ReportedApart``: another provider's meeting, reported apart and never billed."""

    record: dict[str, Any]
    causation_id: str | None


class SessionLoggedEvent(RecordedEvent, Protocol):
    """``Session.Logged``: a session priced and held against the cap."""

    session: dict[str, Any]
    tariff_book_version: int
    billed_before: Decimal
    over_cap_hours: Decimal
    causation_id: str | None


class SessionRecutEvent(RecordedEvent, Protocol):
    """``Session.Recut``: a logged session re-booked with fewer hours: it gave way at the cap."""

    session: dict[str, Any]
    given_to: UUID
    reason: str


class CapAccountThresholdCrossedEvent(RecordedEvent, Protocol):
    """``CapAccount.ThresholdCrossed``: a yearly cap's 80, 95 or 100 % warning."""

    programme: str
    year: int
    percent: int
    billed_hours: Decimal
    limit_hours: Decimal
    session_id: UUID
    performed_on: date


class SettlementOpenedEvent(CreatedEvent, Protocol):
    """``Settlement.Opened``: a month's settlement opened."""

    month: str


class SettlementSessionBookedEvent(RecordedEvent, Protocol):
    """``Settlement.SessionBooked``: a session booked on its own month."""

    session: dict[str, Any]


class SettlementAdjustmentBookedEvent(RecordedEvent, Protocol):
    """``Settlement.AdjustmentBooked``: an adjustment booked on an open month."""

    adjustment: dict[str, Any]


class SettlementDecisionAwaitedEvent(RecordedEvent, Protocol):
    """``Settlement.DecisionAwaited``: a pending decision listed on a month."""

    pending: dict[str, Any]


class SettlementDecisionResolvedEvent(RecordedEvent, Protocol):
    """``Settlement.DecisionResolved``: a decided session taken off a month's pending list."""

    meeting_id: UUID


class SettlementAmountRecordedSeparatelyEvent(RecordedEvent, Protocol):
    """``Settlement.AmountRecordedSeparately``: a premises share or state grant on a month."""

    record: dict[str, Any]


class SettlementTimeReportedApartEvent(RecordedEvent, Protocol):
    """``Settlement.TimeReportedApart``: another provider's meeting reported apart on a month."""

    record: dict[str, Any]


class SettlementClosedEvent(RecordedEvent, Protocol):
    """``Settlement.Closed``: a month closed, with its document and digests."""

    document: str
    documents: dict[str, str]
    digest: str
    closed_at: datetime
    closed_by: str | None
    tariff_book_version: int
    cap_usage: list[dict[str, Any]]
    grace: dict[str, Any] | None


class PolareRateBookRecordedEvent(RecordedEvent, Protocol):
    """``PolareRateBook.Recorded``: a dated Polare rate table recorded (polare.py)."""

    table_id: str
    effective_from: date
    rates: list[dict[str, int]]
    reference: str
    recorded_by: str | None
    recorded_at: datetime


class PolareWalkFeesPricedEvent(RecordedEvent, Protocol):
    """``PolareWalkFees.Priced``: a night walk's Polare fees priced."""

    walk_id: UUID
    walked_on: date
    month: str
    fees: list[dict[str, Any]]
    total_ore: int
    table_id: str
    not_paid: list[dict[str, Any]]
