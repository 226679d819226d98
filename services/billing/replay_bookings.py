"""A replay's month: what was booked on it, checked against the rules and made again.

Adjustments (late sessions', manual ones, catch-ups), pending decisions, meetings reported
apart and amounts recorded separately, each made again from what was recorded and compared
with what was booked; then the month's document is settled from the rebuilt sessions. Split
from :mod:`services.billing.replay`, whose fold they are part of.
"""

from __future__ import annotations

from typing import cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from events.billing import (
    AdjustmentRecorded,
    SeparateAmountRecorded,
    SessionLogged,
    SessionReportedApart,
)
from events.scheduling import MeetingHeld
from infra.months import month_of_date
from services.billing import catchup
from services.billing.adjustments import AdjustmentError, is_manual, rederived
from services.billing.catchup import is_catch_up
from services.billing.errors import NotFound
from services.billing.pricing import bills_for_leanlink, price_meeting, session_id_for
from services.billing.pricing_groups import NeedsDecision
from services.billing.pricing_time import PricingError
from services.billing.providers import report_apart
from services.billing.recorded_events import (
    SettlementAdjustmentBookedEvent,
    SettlementAmountRecordedSeparatelyEvent,
    SettlementDecisionAwaitedEvent,
    SettlementDecisionResolvedEvent,
    SettlementSessionBookedEvent,
    SettlementTimeReportedApartEvent,
)
from services.billing.replay_fold import FoldState
from services.billing.session_sources import needs_of
from services.billing.settlement import (
    Document,
    first_open_month,
    late_adjustment,
    settle,
)
from services.billing.tariff_quotes import PriceNotKnown


class BookingsAgain(FoldState):
    """The fold's month: what was booked on it, and its document settled again."""

    def _booked(self, event: DomainEventProtocol[UUID], month: str) -> None:
        """Something booked on ``month``'s settlement after it was opened, before its close."""
        name = type(event).__qualname__.rsplit(".", 1)[-1]
        if month in self.closed:
            self.differences.append(f"{name} on {month} after {month} was closed")
        if month != self.month:
            return
        if name == "SessionBooked":
            booked = cast(SettlementSessionBookedEvent, event).session
            self.booked.append(UUID(str(booked["session_id"])).hex)
        elif name == "AdjustmentBooked":
            adjustment = cast(SettlementAdjustmentBookedEvent, event).adjustment
            self._adjustment(AdjustmentRecorded.model_validate(adjustment), month)
        elif name == "DecisionAwaited":
            pending = needs_of(cast(SettlementDecisionAwaitedEvent, event).pending)
            self.pending[pending.meeting_id] = pending
        elif name == "DecisionResolved":
            resolved = cast(SettlementDecisionResolvedEvent, event)
            self.pending.pop(UUID(str(resolved.meeting_id)), None)
        elif name == "AmountRecordedSeparately":
            record = cast(SettlementAmountRecordedSeparatelyEvent, event).record
            self.separate.append(SeparateAmountRecorded.model_validate(record))
        elif name == "TimeReportedApart":
            self._reported_apart(cast(SettlementTimeReportedApartEvent, event), month)

    def _reported_apart(self, event: SettlementTimeReportedApartEvent, month: str) -> None:
        record = SessionReportedApart.model_validate(event.record)
        own = month_of_date(record.performed_on)
        if first_open_month(own, self.closed.__contains__) != month:
            self.differences.append(
                f"session {record.session_id}: reported apart on {month}, not on the first "
                f"open month from {own}"
            )
        self.apart.append(record)

    def _adjustment(self, booked: AdjustmentRecorded, month: str) -> None:
        if is_manual(booked):
            self.adjustments.append(self._manual(booked, month))
            return
        if is_catch_up(booked):
            self.adjustments.append(self._catch_up(booked, month))
            return
        belongs = booked.belongs_to_month
        if belongs not in self.closed or first_open_month(belongs, self.closed.__contains__) != (
            month
        ):
            self.differences.append(
                f"adjustment {booked.adjustment_id}: {month} is not the first open month "
                f"after {belongs}"
            )
        self.adjustments.append(booked)

    def _manual(self, booked: AdjustmentRecorded, month: str) -> AdjustmentRecorded:
        """A manual adjustment made again from its recorded fields (adjustments.py)."""
        try:
            again = rederived(booked)
        except AdjustmentError as exc:
            self.differences.append(str(exc))
            return booked
        if again.month != month:
            self.differences.append(
                f"adjustment {booked.adjustment_id}: for {again.month}, booked on {month}"
            )
        return again

    def _catch_up(self, booked: AdjustmentRecorded, month: str) -> AdjustmentRecorded:
        """A catch-up made again from its recorded fields (catchup.py), booked on the first
        open month of the month it catches up (its own month at its close)."""
        try:
            again = catchup.rederived(booked)
        except catchup.CatchUpError as exc:
            self.differences.append(str(exc))
            return booked
        belongs = again.belongs_to_month
        if again.month != month or first_open_month(belongs, self.closed.__contains__) != month:
            self.differences.append(
                f"adjustment {booked.adjustment_id}: {month} is not the first open month "
                f"from {belongs}"
            )
        return again

    def _own_catch_ups(self, sessions: list[SessionLogged]) -> list[AdjustmentRecorded]:
        """The month's catch-ups for its own sessions, made again at the close's tariffs; the
        booked ones must be these (catchup.py)."""
        assert self.close_version is not None
        own = [a for a in self.adjustments if catchup.is_catch_up(a)]
        own = [a for a in own if a.belongs_to_month == a.month == self.month]
        others = [a for a in self.adjustments if a not in own]
        again = catchup.own_catch_ups(
            self.month,
            sessions,
            lambda s: self.visits.get(s.session_id.hex, 0),
            self.catalogue(self.close_version),
            others,
        )
        if sorted(map(str, again)) != sorted(map(str, own)):
            self.differences.append(
                f"the catch-ups of {self.month} for its own sessions, made again, differ from "
                "those booked"
            )
        return [*others, *again]

    def _rebuilt_adjustments(self) -> list[AdjustmentRecorded]:
        """The booked adjustments, each late session's made again from its rebuilt session.

        Events of one transaction are stored aggregate by aggregate, so a late session's
        adjustment may precede its ``Logged`` event: they are matched once the fold is done.
        """
        out = []
        for booked in self.adjustments:
            if booked.session_id is None:
                out.append(booked)
                continue
            session = self.rebuilt.get(booked.session_id.hex)
            if session is None:
                self.differences.append(f"adjustment {booked.adjustment_id}: no session logged")
                out.append(booked)
                continue
            out.append(late_adjustment(session, booked.month))
        return out

    def _check_apart(self) -> None:
        """Every meeting reported apart is one another provider held, reported as it was held
        (the record is made again from the recorded meeting)."""
        for record in self.apart:
            held = self.sources.get(record.session_id.hex)
            again = (
                report_apart(held, record.settlement_month)
                if isinstance(held, MeetingHeld) and not bills_for_leanlink(held.provider)
                else None
            )
            if again != record:
                self.differences.append(
                    f"session {record.session_id}: reported apart, but its recorded meeting "
                    "gives another record (or is Leanlink's own)"
                )

    def _check_pending(self) -> None:
        """Every pending decision is a meeting the group rule, applied again, still flags."""
        for pending in self.pending.values():
            held = self.sources.get(session_id_for(pending.meeting_id).hex)
            try:
                again = (
                    price_meeting(held, self.catalogue(len(self.book)))
                    if isinstance(held, MeetingHeld)
                    else None
                )
            except (PriceNotKnown, PricingError):
                again = None
            if not isinstance(again, NeedsDecision) or again.reason != pending.reason:
                self.differences.append(
                    f"meeting {pending.meeting_id}: pending a decision, but the group rule "
                    "applied again does not flag it for the same reason"
                )

    def document(self, programme: str | None) -> Document:
        if self.close_version is None:
            raise NotFound(f"the log holds no close of {self.month}")
        self._check_pending()
        self._check_apart()
        sessions = [self.rebuilt[s] for s in dict.fromkeys(self.booked) if s in self.rebuilt]
        self.adjustments = self._own_catch_ups(sessions)
        return settle(
            self.month,
            sessions,
            self.catalogue(self.close_version),
            programme=programme,
            adjustments=self._rebuilt_adjustments(),
            pending=list(self.pending.values()),
            apart=self.apart,
            separate=self.separate,
        )
