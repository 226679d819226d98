"""A month's settlement from an event-log export, with no services running.

This is ``lots settlement compute --events FILE``. It reads the JSON Lines export of
contracts.md and settles the month exactly as the billing service would have:

- **tariffs**: the default catalogue (the one billing records on its first start) with the
  ``TariffRecorded`` entries of the export added to it; ``CallOffRecorded`` entries raise the
  yearly cap from their effective date.
- **sessions** are taken as they stand from ``SessionLogged``; ``AdjustmentRecorded`` are kept;
  ``SessionFlagged`` without a later ``SessionLogged`` of its meeting is a pending decision.
- **a closed month** (a ``SettlementClosed`` for it in the export) is settled from what billing
  had published before it closed it, in the export's order: later sessions of that month became
  adjustments of later months, and the tariffs are those of the version it names. A closed month
  never changes, so its unlogged meetings are not priced into it.
- **an open month**: every ``MeetingHeld`` of an hourly programme that has no ``SessionLogged``
  and no ``SessionFlagged`` is priced with :func:`~services.billing.pricing.price_meeting` at the
  tariff in force on its local date, then held against the yearly cap in the order performed
  (:mod:`services.billing.cap_order`: after the sessions of its year performed before it and
  those of closed months; later sessions of open months give way, as in billing). Logged
  sessions are taken as billing now bills them (``SessionRecut`` replaces a ``SessionLogged``).
  Its month is its own if open, else the first open month after it, where it becomes an
  adjustment (:func:`late_adjustment`). A group
  session the rule does not clearly cover is listed under ``pending_decisions``; a meeting
  whose session was dismissed (``SessionDismissed``: no price, ruled out by a person) is not.
  A meeting with no price in force on its date (no rate, fee, cap or contract term) is listed
  under ``awaiting_price`` on that month, bills nothing and takes no hours from the cap, as
  billing leaves it waiting; the computation still succeeds.

The export is read by :func:`~services.billing.export_reader.read_export`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.billing import (
    AdjustmentRecorded,
    CallOffRecorded,
    SessionFlagged,
    SessionLogged,
    SessionRecut,
    SessionReportedApart,
    SettlementClosed,
    TariffRecorded,
)
from events.scheduling import MeetingHeld
from infra.calendar import month_of
from services.billing import catchup
from services.billing.adjustments import AdjustmentError, is_manual, rederived
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
from services.billing.catchup import is_catch_up
from services.billing.export_reader import Export, ExportError, Positioned, read_export
from services.billing.pricing import (
    NeedsDecision,
    bills_for_leanlink,
    decision_options,
    price_meeting,
    session_id_for,
)
from services.billing.providers import report_apart
from services.billing.settlement import (
    Awaiting,
    Document,
    first_open_month,
    late_adjustment,
    month_start,
    settle,
)
from services.billing.tariff_entries import Entry, TariffError, entry_from_record
from services.billing.tariffs import Catalogue, PriceNotKnown


def compute_from_export(
    lines: Iterable[str],
    month: str,
    programme: str | None,
    catalogue: Catalogue,
    *,
    call_offs: Sequence[CallOff] = (),
) -> Document:
    """The month's settlement document from an export, as the billing service would make it."""
    month_start(month)
    return compute(read_export(lines), month, programme, catalogue, call_offs=call_offs)


def compute(
    export: Export,
    month: str,
    programme: str | None,
    catalogue: Catalogue,
    *,
    call_offs: Sequence[CallOff] = (),
) -> Document:
    close = next(((line, c) for line, c in export.closes if c.month == month), None)
    if close is not None:
        return _closed_month(export, month, programme, catalogue, close)
    tariffs = _catalogue(catalogue, [t for _, t in export.tariffs])
    sessions = _as_now(_leanlinks([s for _, s in export.sessions]), export.recuts)
    logged = {s.meeting_id for s in sessions if s.meeting_id is not None}
    closed = {c.month for _, c in export.closes}
    book = _OpenMonth(
        month=month,
        tariffs=tariffs,
        call_offs=[*call_offs],
        recorded=[_call_off(c) for _, c in export.call_offs],
        sessions=sessions,
        adjustments=_adjustments(a for _, a in export.adjustments),
        pending=_pending([f for _, f in export.flags], month, logged),
        apart=[r for _, r in export.apart],
        closed=closed,
        started={m.meeting_id: m.started_at for m in export.meetings},
    )
    if programme is None or programme in tariffs.hourly_programmes():
        # Flagged meetings are pending already; dismissed ones are never billed; other
        # providers' meetings that billing reported apart are reported as they stand.
        handled = logged | {f.meeting_id for _, f in export.flags}
        handled |= {d.meeting_id for _, d in export.dismissed if d.meeting_id is not None}
        handled |= {r.meeting_id for _, r in export.apart}
        unlogged = [
            m
            for m in export.meetings
            if m.programme in tariffs.hourly_programmes() and m.meeting_id not in handled
        ]
        for meeting, own, target in _due(unlogged, month, closed.__contains__):
            book.price(meeting, own, target)
    # The catch-ups its close would book for its own sessions logged before a revision.
    visits = {m.meeting_id: m.client_visits for m in export.meetings}
    caught = catchup.own_catch_ups(
        month,
        book.sessions,
        lambda s: visits.get(s.meeting_id, 0) if s.meeting_id is not None else 0,
        tariffs,
        book.adjustments,
    )
    return settle(
        month,
        book.sessions,
        tariffs,
        programme=programme,
        adjustments=[*book.adjustments, *caught],
        pending=book.pending,
        awaiting=book.awaiting,
        apart=book.apart,
        separate=[r for _, r in export.separate],
    )


@dataclass
class _OpenMonth:
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


def _closed_month(
    export: Export,
    month: str,
    programme: str | None,
    catalogue: Catalogue,
    close: Positioned[SettlementClosed],
) -> Document:
    cut, closed = close
    version = closed.tariff_book_version
    tariffs = _catalogue(
        catalogue,
        [
            t
            for line, t in export.tariffs
            if (t.book_version <= version if version is not None else line < cut)
        ],
    )
    sessions = _leanlinks([s for line, s in export.sessions if line < cut])
    sessions = _as_now(sessions, [(line, r) for line, r in export.recuts if line < cut])
    logged = {s.meeting_id for s in sessions if s.meeting_id is not None}
    return settle(
        month,
        sessions,
        tariffs,
        programme=programme,
        adjustments=_adjustments(a for line, a in export.adjustments if line < cut),
        pending=_pending([f for line, f in export.flags if line < cut], month, logged),
        apart=[r for line, r in export.apart if line < cut],
        separate=[r for line, r in export.separate if line < cut],
    )


def _adjustments(records: Iterable[AdjustmentRecorded]) -> list[AdjustmentRecorded]:
    """The export's adjustments as billing booked them; a manual one is made again from its
    fields, as the service made it (adjustments.py), and an altered one is refused."""
    try:
        return [
            rederived(a) if is_manual(a) else catchup.rederived(a) if is_catch_up(a) else a
            for a in records
        ]
    except (AdjustmentError, catchup.CatchUpError) as exc:
        raise ExportError(str(exc)) from exc


def _as_now(
    sessions: list[SessionLogged], recuts: Iterable[Positioned[SessionRecut]]
) -> list[SessionLogged]:
    """The logged sessions as billing now bills them: each as its last ``SessionRecut`` re-booked
    it, if one did (it gave way at the cap to a session performed before it)."""
    latest: dict[UUID, SessionLogged] = {}
    for _, recut in sorted(recuts, key=lambda r: r[0]):
        latest[recut.session_id] = SessionLogged.model_validate(
            recut.model_dump(exclude={"given_to", "reason"})
        )
    return [latest.get(s.session_id, s) for s in sessions]


def _leanlinks(sessions: list[SessionLogged]) -> list[SessionLogged]:
    """Leanlink's sessions. A ``SessionLogged`` of another provider (billing logged them before
    settlement document version 2) is not Leanlink's to bill: it is left out, and its meeting,
    if the export holds it, is reported apart like any other provider's."""
    return [s for s in sessions if bills_for_leanlink(s.provider)]


def _due(
    meetings: Iterable[MeetingHeld], month: str, closed: Callable[[str], bool]
) -> list[tuple[MeetingHeld, str, str]]:
    """The unlogged meetings to price for ``month``: each with its own and its booking month.

    Those booked on an earlier month of the same year are priced too, since they come before
    this month's under the yearly cap; other years' count only when booked on this month.
    """
    due = []
    for meeting in meetings:
        own = month_of(meeting.started_at)
        target = first_open_month(own, closed)
        if target > month or (target != month and own[:4] != month[:4]):
            continue
        due.append((meeting, own, target))
    return sorted(
        due, key=lambda d: performed_key(d[0].started_at, session_id_for(d[0].meeting_id))
    )


def _pending(flags: Iterable[SessionFlagged], month: str, logged: set[UUID]) -> list[NeedsDecision]:
    return [
        NeedsDecision(
            meeting_id=f.meeting_id,
            case_id=f.case_id,
            programme=f.programme,
            settlement_month=f.settlement_month,
            minutes=f.minutes,
            participants=f.participants,
            reason=f.reason,
            options=decision_options(f.participants),
        )
        for f in flags
        if f.settlement_month == month and f.meeting_id not in logged
    ]


def _catalogue(default: Catalogue, recorded: Sequence[TariffRecorded]) -> Catalogue:
    """The default catalogue with the recorded entries added, in the order they were recorded.

    An entry the default already holds with the same content is taken once; one that differs
    from it is refused, since the export and the default would then disagree about a price.
    """
    try:
        fresh: list[Entry] = []
        for t in sorted(recorded, key=lambda t: t.book_version):
            for record in t.entries:
                entry = entry_from_record(record.model_dump())
                known = default.entry(entry.entry_id)
                if known is None:
                    fresh.append(entry)
                elif known.ref != entry.ref:
                    raise TariffError(f"{entry.entry_id} differs from the default catalogue's")
        return default.with_entries(*fresh)
    except TariffError as exc:
        raise ExportError(f"the export's tariffs cannot be used: {exc}") from exc


def cap_limit(
    default: Catalogue,
    tariffs: Sequence[TariffRecorded],
    call_offs: Sequence[CallOffRecorded],
    programme: str,
    year: int,
) -> Decimal | None:
    """The hours ``programme`` may bill in ``year`` as recorded: the yearly cap in force on
    31 December (the default catalogue with the recorded tariff entries) plus the year's
    recorded call-offs, as billing's cap usage counts it; None if no cap is in force then."""
    catalogue = _catalogue(default, tariffs)
    end = date(year, 12, 31)
    try:
        cap = catalogue.yearly_cap(programme, end)
    except PriceNotKnown:
        return None
    offs = call_offs_in_force([_call_off(c) for c in call_offs], programme, end)
    return Decimal(cap.hours) + sum((c.hours for c in offs), Decimal(0))


def _call_off(message: CallOffRecorded) -> dict[str, Any]:
    return {
        "reference": message.reference,
        "programme": message.programme,
        "year": message.year,
        "hours": message.hours,
        "effective_from": message.effective_from,
    }
