"""Billing's domain events as the public messages the relay publishes on ``billing.events``.

The one place where billing's events are translated outward (contracts.md). Each translation
uses only what the event itself carries, so republishing an old event gives the same message.
The tariff book's opening (the default catalogue, recorded on first start) is not published:
it is ``default_catalogue()`` itself, which every reader of the export already has; what is
recorded after it is published as ``TariffRecorded``, from book version 2.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from events.billing import (
    AdjustmentRecorded,
    CallOffRecorded,
    SeparateAmountRecorded,
    SessionDecided,
    SessionDismissed,
    SessionFlagged,
    SessionLogged,
    SessionRecut,
    SessionReportedApart,
    SettlementClosed,
    TariffEntry,
    TariffRecorded,
    YearlyCapWarning,
)
from events.types import Programme
from infra.outbox import Outgoing, Translator
from infra.topology import BILLING_EVENTS
from services.billing.domain_cap import CapAccount
from services.billing.domain_session import Session
from services.billing.domain_settlement import Settlement
from services.billing.pricing_groups import Decision, decision_options
from services.billing.recorded_events import (
    CapAccountThresholdCrossedEvent,
    SessionDecidedEvent,
    SessionDismissedEvent,
    SessionFlaggedEvent,
    SessionLoggedEvent,
    SessionRecutEvent,
    SessionReportedApartEvent,
    SettlementAdjustmentBookedEvent,
    SettlementAmountRecordedSeparatelyEvent,
    SettlementClosedEvent,
    TariffBookCallOffRecordedEvent,
    TariffBookEntriesRecordedEvent,
)
from services.billing.tariff_book import TariffBook

#: The aggregates record a programme and a decision as text; the public messages take them as
#: the literals they were recorded from, checked again here (as the messages would check them).
_PROGRAMME: TypeAdapter[Programme] = TypeAdapter(Programme)
_DECISION: TypeAdapter[Decision] = TypeAdapter(Decision)


def tariffs_recorded(event: TariffBookEntriesRecordedEvent) -> Outgoing:
    return Outgoing(
        BILLING_EVENTS,
        TariffRecorded(
            entries=[TariffEntry.model_validate(e) for e in event.entries],
            book_version=event.originator_version,
            reason=event.reason,
            reference=event.reference,
            recorded_by=event.recorded_by,
            recorded_at=event.recorded_at,
        ),
    )


def call_off_recorded(event: TariffBookCallOffRecordedEvent) -> Outgoing:
    return Outgoing(
        BILLING_EVENTS,
        CallOffRecorded(
            reference=event.reference,
            programme=_PROGRAMME.validate_python(event.programme),
            year=event.year,
            hours=event.hours,
            effective_from=event.effective_from,
            book_version=event.originator_version,
            recorded_by=event.recorded_by,
            recorded_at=event.recorded_at,
        ),
    )


def session_flagged(event: SessionFlaggedEvent) -> Outgoing:
    return Outgoing(
        BILLING_EVENTS,
        SessionFlagged(
            session_id=event.originator_id,
            meeting_id=event.meeting_id,
            case_id=event.case_id,
            programme=_PROGRAMME.validate_python(event.programme),
            performed_on=event.performed_on,
            settlement_month=event.settlement_month,
            minutes=event.minutes,
            participants=event.participants,
            reason=event.reason,
            options=list(decision_options(event.participants)),
        ),
        correlation_id=str(event.case_id),
    )


def session_decided(event: SessionDecidedEvent) -> Outgoing:
    return Outgoing(
        BILLING_EVENTS,
        SessionDecided(
            session_id=event.originator_id,
            meeting_id=event.meeting_id,
            case_id=event.case_id,
            decision=_DECISION.validate_python(event.decision),
            decided_by=event.decided_by,
            note=event.note,
            decided_at=event.decided_at,
        ),
        correlation_id=str(event.case_id),
    )


def session_dismissed(event: SessionDismissedEvent) -> Outgoing:
    return Outgoing(
        BILLING_EVENTS,
        SessionDismissed(
            session_id=event.originator_id,
            meeting_id=event.meeting_id,
            case_id=event.case_id,
            reason=event.reason,
            decided_by=event.decided_by,
            decided_at=event.decided_at,
        ),
        correlation_id=str(event.case_id),
    )


def session_reported_apart(event: SessionReportedApartEvent) -> Outgoing:
    record = SessionReportedApart.model_validate(event.record)
    return Outgoing(
        BILLING_EVENTS,
        record,
        correlation_id=str(record.case_id),
        causation_id=event.causation_id,
    )


def amount_recorded_separately(event: SettlementAmountRecordedSeparatelyEvent) -> Outgoing:
    return Outgoing(BILLING_EVENTS, SeparateAmountRecorded.model_validate(event.record))


def session_recut(event: SessionRecutEvent) -> Outgoing:
    body = {**event.session, "given_to": event.given_to, "reason": event.reason}
    recut = SessionRecut.model_validate(body)
    return Outgoing(BILLING_EVENTS, recut, correlation_id=str(recut.case_id))


def session_logged(event: SessionLoggedEvent) -> Outgoing:
    session = SessionLogged.model_validate(event.session)
    return Outgoing(
        BILLING_EVENTS,
        session,
        correlation_id=str(session.case_id),
        causation_id=event.causation_id,
    )


def threshold_crossed(event: CapAccountThresholdCrossedEvent) -> Outgoing:
    return Outgoing(
        BILLING_EVENTS,
        YearlyCapWarning(
            programme=_PROGRAMME.validate_python(event.programme),
            year=event.year,
            percent=event.percent,
            billed_hours=Decimal(event.billed_hours),
            limit_hours=Decimal(event.limit_hours),
            session_id=event.session_id,
            performed_on=event.performed_on,
        ),
    )


def adjustment_booked(event: SettlementAdjustmentBookedEvent) -> Outgoing:
    return Outgoing(BILLING_EVENTS, AdjustmentRecorded.model_validate(event.adjustment))


def settlement_closed(event: SettlementClosedEvent) -> Outgoing:
    document = json.loads(event.document)
    return Outgoing(
        BILLING_EVENTS,
        SettlementClosed(
            month=document["month"],
            total_ore=document["total_ore"],
            fees_ore=document["fees_ore"],
            net_ore=document["net_ore"],
            billable_hours=Decimal(document["billable_hours"]),
            digest=event.digest,
            closed_at=event.closed_at,
            programme_digests={
                key: json.loads(text)["digest"] for key, text in event.documents.items() if key
            },
            tariff_book_version=event.tariff_book_version,
        ),
    )


PUBLIC_EVENTS: Mapping[type[Any], Translator] = {
    TariffBook.EntriesRecorded: tariffs_recorded,  # type: ignore[attr-defined]
    TariffBook.CallOffRecorded: call_off_recorded,  # type: ignore[attr-defined]
    Session.Flagged: session_flagged,  # type: ignore[attr-defined]
    Session.Decided: session_decided,  # type: ignore[attr-defined]
    Session.Dismissed: session_dismissed,  # type: ignore[attr-defined]
    Session.Logged: session_logged,  # type: ignore[attr-defined]
    Session.ReportedApart: session_reported_apart,  # type: ignore[attr-defined]
    Session.Recut: session_recut,  # type: ignore[attr-defined]
    CapAccount.ThresholdCrossed: threshold_crossed,  # type: ignore[attr-defined]
    Settlement.AdjustmentBooked: adjustment_booked,  # type: ignore[attr-defined]
    Settlement.AmountRecordedSeparately: amount_recorded_separately,  # type: ignore[attr-defined]
    Settlement.Closed: settlement_closed,  # type: ignore[attr-defined]
}
"""Billing's domain event classes and their translation to public messages."""
