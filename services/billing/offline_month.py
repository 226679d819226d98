"""An open month settled offline: what billing logged, and the meetings it has not logged yet.

Each meeting is priced as billing would price it when it reaches it, held against the yearly
cap in the order performed (:mod:`services.billing.cap_order`), with later sessions of open
months giving way. Split from :mod:`services.billing.offline`, which settles the month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.billing import AdjustmentRecorded, SessionLogged, SessionReportedApart
from events.scheduling import MeetingHeld
from services.billing.cap import CallOff, apply_cap, call_offs_in_force
from services.billing.cap_order import (
    CapLedger,
    Key,
    cut_to,
    day_key,
    give_way,
    limit_on,
    performed_key,
)
from services.billing.pricing import bills_for_leanlink, price_meeting, session_id_for
from services.billing.pricing_groups import NeedsDecision
from services.billing.providers import report_apart
from services.billing.settlement import late_adjustment
from services.billing.settlement_lines import Awaiting
from services.billing.tariff_quotes import PriceNotKnown
from services.billing.tariffs import Catalogue


@dataclass
class OpenMonth:
    """An open month being settled offline: what billing logged, and the meetings it has not
    logged yet, priced as it would price them when they reach it."""

    month: str
    tariffs: Catalogue
    call_offs: list[CallOff]
    recorded: list[dict[str, Any]]
    sessions: list[SessionLogged]
    adjustments: list[AdjustmentRecorded]
    pending: list[NeedsDecision]
    apart: list[SessionReportedApart]
    closed: set[str]
    #: When each meeting of the export started: a logged session's place in the order
    #: performed (without its meeting, the start of its day).
    started: dict[UUID, datetime]
    awaiting: list[Awaiting] = field(default_factory=list)
    ledgers: dict[tuple[str, int], CapLedger] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for n, s in enumerate(self.sessions):
            start = self.started.get(s.meeting_id) if s.meeting_id is not None else None
            place = (
                performed_key(start, s.session_id)
                if start is not None
                else day_key(s.performed_on, s.session_id)
            )
            ledger = self.ledgers.setdefault((s.programme, s.performed_on.year), CapLedger())
            ledger.record(
                s.session_id.hex, place, s.settlement_month, s.performed_on, s.client_hours
            )
            self.index[s.session_id.hex] = n

    def price(self, meeting: MeetingHeld, own: str, target: str) -> None:
        """Price a meeting billing has not logged, booked on ``target`` (its own month, or the
        first open one after it); only what lands on this month is kept, but every one of them
        holds its hours against the cap. A price not known leaves it waiting, as in billing;
        a meeting another provider held is reported apart, never priced (providers.py)."""
        if not bills_for_leanlink(meeting.provider):
            if target == self.month:
                self.apart.append(report_apart(meeting, target))
            return
        try:
            priced = price_meeting(meeting, self.tariffs)
            if isinstance(priced, NeedsDecision):
                if target == self.month:
                    self.pending.append(replace(priced, settlement_month=target))
                return
            ledger = self.ledgers.setdefault(
                (priced.programme, priced.performed_on.year), CapLedger()
            )
            place = performed_key(meeting.started_at, priced.session_id)
            before = ledger.billed_before(place, own, self.closed.__contains__)
            outcome = apply_cap(priced, before, self.offs(priced.programme)(priced.performed_on),
                                self.tariffs)  # fmt: skip
        except PriceNotKnown as exc:
            if target == self.month:
                self.awaiting.append(
                    Awaiting(
                        session_id_for(meeting.meeting_id), meeting.meeting_id,
                        meeting.programme, target, str(exc),
                    )
                )  # fmt: skip
            return
        billed = outcome.session
        ledger.record(billed.session_id.hex, place, own, billed.performed_on, billed.client_hours)
        self.give_way(ledger, place, before, billed)
        if target == own:
            self.index[billed.session_id.hex] = len(self.sessions)
            self.sessions.append(billed)
        elif target == self.month:
            self.adjustments.append(late_adjustment(billed, self.month))

    def offs(self, programme: str) -> Callable[[date], list[CallOff]]:
        """The call-offs in force on a day: the export's and those given on the command line."""

        def on(day: date) -> list[CallOff]:
            return [*self.call_offs, *call_offs_in_force(self.recorded, programme, day)]

        return on

    def give_way(
        self, ledger: CapLedger, place: Key, before: Decimal, taker: SessionLogged
    ) -> None:
        """The sessions of open months performed after ``taker`` give way to it at the cap,
        as billing would re-book them (cap_order.py)."""
        programme = taker.programme
        limit = limit_on(self.tariffs, programme, self.offs(programme))
        closed = self.closed.__contains__
        month = taker.settlement_month
        hours = (before, taker.client_hours)
        for session, keeps in give_way(ledger, place, month, hours, limit, closed):
            ledger.give_way(session, keeps)
            n = self.index.get(session)
            if n is not None:
                was = self.sessions[n]
                cap = self.tariffs.yearly_cap(programme, was.performed_on).tariff_version
                self.sessions[n] = cut_to(was, keeps, cap)
