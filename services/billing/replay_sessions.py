"""A replay's sessions: each logged one priced again and held against the yearly cap again.

The same functions as billing's (:mod:`services.billing.booking`, :mod:`services.billing.cap`,
:mod:`services.billing.cap_order`), at the tariff-book version the session was priced with,
in log order; split from :mod:`services.billing.replay`, whose fold they are part of.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.billing import SessionLogged
from events.scheduling import MeetingHeld
from infra.calendar import month_of
from infra.months import month_of_date
from services.billing.cap import CallOff, apply_cap, call_offs_in_force, hold_against_cap
from services.billing.cap_order import CapLedger, Key, cut_to, give_way, limit_on
from services.billing.pricing import Billable, bills_for_leanlink
from services.billing.pricing_groups import NeedsDecision
from services.billing.pricing_time import PricingError
from services.billing.replay_fold import FoldState
from services.billing.session_sources import Source, billable_of, place_of, price_source
from services.billing.settlement import canonical_json
from services.billing.tariff_quotes import PriceNotKnown
from services.billing.tariffs import Catalogue


def _hold_again(
    session: str,
    source: Source,
    decision: Any,
    catalogue: Catalogue,
    held: tuple[Billable, Decimal, list[CallOff]],
    full: bool,
) -> SessionLogged | Decimal | None:
    """A logged session priced again in full and held against the cap after ``held[1]`` hours
    (``full``), or only the hours it holds, its prices looked up; None if it needs a decision
    it does not have."""
    billable, before, offs = held
    day = billable.performed_on
    if full:
        priced = price_source(source, decision, catalogue)
        if isinstance(priced, NeedsDecision):
            return None
        return apply_cap(priced, before, offs, catalogue).session
    catalogue.hourly_rate(billable.programme, day)
    if isinstance(source, MeetingHeld):
        catalogue.client_fee(billable.programme, day)
    unbilled = billable.client_hours
    cap = hold_against_cap(billable.programme, day, unbilled, before, offs, catalogue, session)
    return cap.billed_hours(unbilled)


@dataclass(frozen=True)
class _HeldAgain:
    """A logged session held against the cap again: where, after how many hours, and what
    it comes to (the session priced in full, or only the hours it holds)."""

    billable: Billable
    own: str
    ledger: CapLedger
    place: Key
    before: Decimal
    again: SessionLogged | Decimal


class SessionsAgain(FoldState):
    """The fold's sessions: opened from their meetings or time, logged, priced again."""

    def opened(self, session: str, source: Source) -> None:
        if isinstance(source, MeetingHeld) and not bills_for_leanlink(source.provider):
            # Another provider's meeting is reported apart on its own month, or, if that was
            # closed, on the first open one: kept only if that can be this month.
            own = month_of(source.started_at)
            if own != self.month and own not in self.closed:
                return
        self.sources[session] = source
        self.visits[session] = source.client_visits if isinstance(source, MeetingHeld) else 0

    def logged(
        self,
        session: str,
        version: int,
        before_logged: Decimal,
        logged: Callable[[], dict[str, Any]],
    ) -> None:
        """A session logged at tariff-book ``version`` with ``before_logged`` hours billed
        before it in its year (``logged()`` gives the logged session, read only if needed):
        priced again and held against the cap, as billing did; its source is let go after.
        """
        try:
            self._price_again(session, version, before_logged, logged)
        finally:  # only the rebuilt session (if kept) is needed now
            self.sources.pop(session, None)
            self.decisions.pop(session, None)

    def _price_again(
        self,
        session: str,
        version: int,
        before_logged: Decimal,
        logged: Callable[[], dict[str, Any]],
    ) -> None:
        """Price a logged session again and hold it against the cap, as billing did.

        A session the month's document can need (one of the month's own, or a late one whose
        month was closed, and so an adjustment) is priced in full and compared with what was
        logged. Any other session can only reach the document through the hours it took from
        the yearly cap: those are derived again (with the same functions, at the same tariff
        version, and its prices looked up), its amount is checked when its own month is
        replayed.
        """
        source = self.sources.get(session)
        if source is None:  # only another provider's meeting is let go unread (``opened``)
            self._differs(session, "logged, but another provider held the meeting (003 §1.2)")
            return
        try:
            held = self._hold(session, source, version)
        except (PriceNotKnown, PricingError) as exc:
            self._differs(session, f"cannot be priced again: {exc}")
            return
        if held is None:
            self._differs(session, "logged without a decision")
            return
        again, billable, before = held.again, held.billable, held.before
        hours = again.client_hours if isinstance(again, SessionLogged) else again
        if before_logged != before:
            self._differs(
                session,
                f"logged with {before_logged} hours billed before it in "
                f"{billable.performed_on.year}, the log gives {before}",
            )
        held.ledger.record(session, held.place, held.own, billable.performed_on, hours)
        self._give_way(
            held.ledger, held.place, held.own, (before, hours), billable.programme, version
        )
        if not isinstance(again, SessionLogged):
            return
        if (now := again.model_dump(mode="json")) != (was := logged()):
            self._differs(
                session, f"logged {canonical_json(was)}, priced again {canonical_json(now)}"
            )
        # Kept: the month's document needs it (booked on the month, or late and so an
        # adjustment, perhaps on this month). Memory stays a month's.
        self.rebuilt[session] = again

    def _hold(self, session: str, source: Source, version: int) -> _HeldAgain | None:
        """The session held against its year's ledger again at tariff-book ``version``: in
        full if the month's document can need it (its month is this one or closed), else
        only its hours; None if it needs a decision it does not have."""
        decision = self.decisions.get(session)
        catalogue = self.catalogue(version)
        billable = billable_of(source, decision, catalogue)
        if isinstance(billable, NeedsDecision):
            return None
        day = billable.performed_on
        own = month_of_date(day)
        full = own == self.month or own in self.closed
        ledger = self.ledgers.setdefault((billable.programme, day.year), CapLedger())
        place = place_of(source, UUID(hex=session))
        before = ledger.billed_before(place, own, self.closed.__contains__)
        offs = call_offs_in_force(self.offs[version - 1], billable.programme, day)
        again = _hold_again(session, source, decision, catalogue, (billable, before, offs), full)
        if again is None:
            return None
        return _HeldAgain(billable, own, ledger, place, before, again)

    def _give_way(
        self,
        ledger: CapLedger,
        place: Key,
        month: str,
        hours: tuple[Decimal, Decimal],
        programme: str,
        version: int,
    ) -> None:
        """The sessions of open months performed after a session give way to it at the cap,
        as billing re-booked them (cap_order.py); the month's own are cut again here."""
        catalogue = self.catalogue(version)

        def offs(day: date) -> list[CallOff]:
            return call_offs_in_force(self.offs[version - 1], programme, day)

        limit = limit_on(catalogue, programme, offs)
        closed = self.closed.__contains__
        for other, keeps in give_way(ledger, place, month, hours, limit, closed):
            ledger.give_way(other, keeps)
            kept = self.rebuilt.get(other)
            if kept is not None:
                cap = catalogue.yearly_cap(programme, kept.performed_on).tariff_version
                self.rebuilt[other] = cut_to(kept, keeps, cap)
