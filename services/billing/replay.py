"""``lots settlement replay``: rebuild a closed month from billing's event log and compare.

The rebuild is a fresh, in-memory fold over billing's stored events in log order, up to the
month's ``Closed`` event. It does not trust any recorded amount: the tariff catalogue is rebuilt
from the recorded tariff entries (at the tariff-book version each session was priced with, and
the one the close used); every session's hours are derived again from its recorded meeting or
logged time and decision and held again against the yearly cap in log order, in the order
performed as billing holds them (:mod:`services.billing.cap_order`: the same ledger, the same
sessions of open months giving way and cut again); the sessions the
month's document is made of (its own, and late sessions of closed months, which become its
adjustments) are priced again in full, and late sessions become the same adjustments again. The
month's document is then settled from the rebuilt sessions and compared, byte for byte, with the
closed one. Any session that prices differently from what was logged, any session logged with
other hours billed before it than the log gives, and any booking that breaks the rules (a
session booked on a closed month, an adjustment not on the first open month), is reported as a
difference too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.billing import (
    AdjustmentRecorded,
    SeparateAmountRecorded,
    SessionLogged,
    SessionReportedApart,
)
from events.scheduling import MeetingHeld
from infra.calendar import month_of
from infra.months import month_of_date
from services.billing import catchup
from services.billing.adjustments import AdjustmentError, is_manual, rederived
from services.billing.application import Billing
from services.billing.booking import (
    Source,
    billable_of,
    needs_of,
    place_of,
    price_source,
    source_of,
)
from services.billing.cap import CallOff, apply_cap, call_offs_in_force, hold_against_cap
from services.billing.cap_order import CapLedger, Key, cut_to, give_way, limit_on
from services.billing.catchup import is_catch_up
from services.billing.domain import NotFound, Session, Settlement
from services.billing.pricing import (
    Billable,
    NeedsDecision,
    PricingError,
    bills_for_leanlink,
    price_meeting,
    session_id_for,
)
from services.billing.providers import report_apart
from services.billing.replay_reader import BOOKINGS, Reader, topics
from services.billing.settlement import (
    DOCUMENT_VERSION,
    Document,
    canonical_json,
    first_open_month,
    late_adjustment,
    settle,
)
from services.billing.tariff_book import TariffBook, catalogue_of
from services.billing.tariffs import Catalogue, PriceNotKnown


@dataclass(frozen=True)
class Replayed:
    month: str
    programme: str | None
    closed: Document
    document: Document
    differences: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not self.differences


def replay_month(
    app: Billing, month: str, programme: str | None = None, *, lean: bool = True
) -> Replayed:
    """Rebuild ``month`` (closed) from the log and compare it with its closed document.

    ``lean=False`` decodes every row through the application's mapper (see :class:`Reader`).
    """
    closed = app.closed_document(month, programme)
    if closed is None:
        raise NotFound(f"{month} is not closed: there is no closed document to replay")
    fold = Fold(month)
    read = Reader(app.mapper, lean=lean)
    for _, topic, originator, version, state in app.store.scan_topics(topics(), lock=app.lock):
        if fold.skips(topic, originator):
            continue
        if read(fold, topic, originator, version, state):
            break
    document = fold.document(programme)
    differences = [*_rules_changed(closed), *fold.differences, *compare(closed, document)]
    return Replayed(month, programme, closed, document, tuple(differences))


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


def _rules_changed(closed: Document) -> list[str]:
    """A month closed under other settlement rules cannot replay to its document: say so."""
    version = closed.get("document_version")
    if version == DOCUMENT_VERSION:
        return []
    return [
        f"{closed.get('month')} was closed under settlement document version {version}; this "
        f"replay applies version {DOCUMENT_VERSION} (docs/billing.md, document versions)"
    ]


def compare(closed: Document, rebuilt: Document) -> list[str]:
    """What differs between two settlement documents, line by line; empty if byte-identical."""
    if canonical_json(closed) == canonical_json(rebuilt):
        return []
    out = [
        f"{key}: closed {closed.get(key)!r}, replayed {rebuilt.get(key)!r}"
        for key in sorted(set(closed) | set(rebuilt))
        if key != "lines" and closed.get(key) != rebuilt.get(key)
    ]
    was = {canonical_json(line) for line in closed.get("lines", [])}
    now = {canonical_json(line) for line in rebuilt.get("lines", [])}
    out += [f"line only in the closed document: {line}" for line in sorted(was - now)]
    out += [f"line only in the replay: {line}" for line in sorted(now - was)]
    return out


@dataclass
class Fold:
    """The state of billing rebuilt from its events, for one month's settlement.

    Aggregates are known by their ids as 32 hex digits, as the store keeps them, so that the
    rows a fold reads need no UUID built for them.
    """

    month: str
    book: list[tuple[dict[str, Any], ...]] = field(default_factory=list)
    offs: list[tuple[dict[str, Any], ...]] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    decisions: dict[str, Any] = field(default_factory=dict)
    ledgers: dict[tuple[str, int], CapLedger] = field(default_factory=dict)
    rebuilt: dict[str, SessionLogged] = field(default_factory=dict)
    months: dict[str, str] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    booked: list[str] = field(default_factory=list)
    adjustments: list[AdjustmentRecorded] = field(default_factory=list)
    pending: dict[UUID, NeedsDecision] = field(default_factory=dict)
    apart: list[SessionReportedApart] = field(default_factory=list)
    separate: list[SeparateAmountRecorded] = field(default_factory=list)
    #: The client visits of each session's meeting (time has none), for catch-ups' fees.
    visits: dict[str, int] = field(default_factory=dict)
    close_version: int | None = None
    differences: list[str] = field(default_factory=list)
    _catalogues: dict[int, Catalogue] = field(default_factory=dict)

    def catalogue(self, version: int) -> Catalogue:
        if version not in self._catalogues:
            self._catalogues[version] = catalogue_of(self.book[version - 1])
        return self._catalogues[version]

    def skips(self, topic: str, originator: str) -> bool:
        """Whether an event can be left undecoded: one booked on another month's settlement
        that is still open (it neither belongs to this month nor breaks a closed one)."""
        if topic not in BOOKINGS:
            return False
        month = self.months.get(originator)
        return month is not None and month != self.month and month not in self.closed

    def opened(self, session: str, source: Source) -> None:
        if isinstance(source, MeetingHeld) and not bills_for_leanlink(source.provider):
            # Another provider's meeting is reported apart on its own month, or, if that was
            # closed, on the first open one: kept only if that can be this month.
            own = month_of(source.started_at)
            if own != self.month and own not in self.closed:
                return
        self.sources[session] = source
        self.visits[session] = source.client_visits if isinstance(source, MeetingHeld) else 0

    def apply(self, event: Any) -> bool:
        """Take one event into account; True once the month's close has been reached."""
        kind = type(event)
        originator: str = event.originator_id.hex
        if kind is TariffBook.Opened:  # type: ignore[attr-defined]
            self.book.append(tuple(event.entries))
            self.offs.append(())
        elif kind is TariffBook.EntriesRecorded:  # type: ignore[attr-defined]
            self.book.append((*self.book[-1], *event.entries))
            self.offs.append(self.offs[-1])
        elif kind is TariffBook.CallOffRecorded:  # type: ignore[attr-defined]
            off = {
                "reference": event.reference,
                "programme": event.programme,
                "year": event.year,
                "hours": event.hours,
                "effective_from": event.effective_from,
            }
            self.book.append(self.book[-1])
            self.offs.append((*self.offs[-1], off))
        elif kind is Session.Opened:  # type: ignore[attr-defined]
            self.opened(originator, source_of(event.meeting, event.time_entry))
        elif kind is Session.Decided:  # type: ignore[attr-defined]
            self.decisions[originator] = event.decision
        elif kind is Session.Logged:  # type: ignore[attr-defined]
            billed_before = Decimal(event.billed_before)
            session = event.session
            self.logged(originator, event.tariff_book_version, billed_before, lambda: session)
        elif kind is Settlement.Opened:  # type: ignore[attr-defined]
            self.months[originator] = event.month
        elif kind is Settlement.Closed:  # type: ignore[attr-defined]
            month = self.months[originator]
            self.closed.add(month)
            if month == self.month:
                self.close_version = event.tariff_book_version
                return True
        elif kind.__qualname__.startswith("Settlement."):
            self._booked(event, self.months[originator])
        return False

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
        decision = self.decisions.get(session)
        try:
            catalogue = self.catalogue(version)
            billable = billable_of(source, decision, catalogue)
            if isinstance(billable, NeedsDecision):
                self._differs(session, "logged without a decision")
                return
            day = billable.performed_on
            own = month_of_date(day)
            full = own == self.month or own in self.closed
            key = (billable.programme, day.year)
            ledger = self.ledgers.setdefault(key, CapLedger())
            place = place_of(source, UUID(hex=session))
            before = ledger.billed_before(place, own, self.closed.__contains__)
            offs = call_offs_in_force(self.offs[version - 1], billable.programme, day)
            held = (billable, before, offs)
            again = _hold_again(session, source, decision, catalogue, held, full)
        except (PriceNotKnown, PricingError) as exc:
            self._differs(session, f"cannot be priced again: {exc}")
            return
        if again is None:
            self._differs(session, "logged without a decision")
            return
        hours = again.client_hours if isinstance(again, SessionLogged) else again
        if before_logged != before:
            self._differs(
                session,
                f"logged with {before_logged} hours billed before it in {key[1]}, "
                f"the log gives {before}",
            )
        ledger.record(session, place, own, day, hours)
        self._give_way(ledger, place, own, (before, hours), billable.programme, version)
        if not isinstance(again, SessionLogged):
            return
        if (now := again.model_dump(mode="json")) != (was := logged()):
            self._differs(
                session, f"logged {canonical_json(was)}, priced again {canonical_json(now)}"
            )
        # Kept: the month's document needs it (booked on the month, or late and so an
        # adjustment, perhaps on this month). Memory stays a month's.
        self.rebuilt[session] = again

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

    def _differs(self, session: str, what: str) -> None:
        self.differences.append(f"session {UUID(hex=session)}: {what}")

    def _booked(self, event: Any, month: str) -> None:
        name = type(event).__qualname__.rsplit(".", 1)[-1]
        if month in self.closed:
            self.differences.append(f"{name} on {month} after {month} was closed")
        if month != self.month:
            return
        if name == "SessionBooked":
            self.booked.append(UUID(str(event.session["session_id"])).hex)
        elif name == "AdjustmentBooked":
            self._adjustment(AdjustmentRecorded.model_validate(event.adjustment), month)
        elif name == "DecisionAwaited":
            pending = needs_of(event.pending)
            self.pending[pending.meeting_id] = pending
        elif name == "DecisionResolved":
            self.pending.pop(UUID(str(event.meeting_id)), None)
        elif name == "AmountRecordedSeparately":
            self.separate.append(SeparateAmountRecorded.model_validate(event.record))
        elif name == "TimeReportedApart":
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
