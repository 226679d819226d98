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

The export is read by :func:`~services.billing.export_reader.read_export`; its records are
taken as billing has them by :mod:`services.billing.offline_records`, and an open month's
unlogged meetings priced by :class:`~services.billing.offline_month.OpenMonth`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from events.billing import (
    CallOffRecorded,
    SettlementClosed,
    TariffRecorded,
)
from services.billing import catchup
from services.billing.cap import CallOff, call_offs_in_force
from services.billing.export_reader import Export, Positioned, read_export
from services.billing.offline_month import OpenMonth
from services.billing.offline_records import (
    booked_adjustments,
    call_off_record,
    catalogue_with,
    leanlinks_own,
    meetings_due,
    pending_decisions,
    sessions_as_now,
    unlogged_meetings,
)
from services.billing.settlement import (
    Document,
    month_start,
    settle,
)
from services.billing.tariff_quotes import PriceNotKnown
from services.billing.tariffs import Catalogue


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
    tariffs = catalogue_with(catalogue, [t for _, t in export.tariffs])
    sessions = sessions_as_now(leanlinks_own([s for _, s in export.sessions]), export.recuts)
    logged = {s.meeting_id for s in sessions if s.meeting_id is not None}
    closed = {c.month for _, c in export.closes}
    book = OpenMonth(
        month=month,
        tariffs=tariffs,
        call_offs=[*call_offs],
        recorded=[call_off_record(c) for _, c in export.call_offs],
        sessions=sessions,
        adjustments=booked_adjustments(a for _, a in export.adjustments),
        pending=pending_decisions([f for _, f in export.flags], month, logged),
        apart=[r for _, r in export.apart],
        closed=closed,
        started={m.meeting_id: m.started_at for m in export.meetings},
    )
    if programme is None or programme in tariffs.hourly_programmes():
        unlogged = unlogged_meetings(export, tariffs, logged)
        for meeting, own, target in meetings_due(unlogged, month, closed.__contains__):
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


def _closed_month(
    export: Export,
    month: str,
    programme: str | None,
    catalogue: Catalogue,
    close: Positioned[SettlementClosed],
) -> Document:
    cut, closed = close
    version = closed.tariff_book_version
    tariffs = catalogue_with(
        catalogue,
        [
            t
            for line, t in export.tariffs
            if (t.book_version <= version if version is not None else line < cut)
        ],
    )
    sessions = leanlinks_own([s for line, s in export.sessions if line < cut])
    sessions = sessions_as_now(sessions, [(line, r) for line, r in export.recuts if line < cut])
    logged = {s.meeting_id for s in sessions if s.meeting_id is not None}
    return settle(
        month,
        sessions,
        tariffs,
        programme=programme,
        adjustments=booked_adjustments(a for line, a in export.adjustments if line < cut),
        pending=pending_decisions([f for line, f in export.flags if line < cut], month, logged),
        apart=[r for line, r in export.apart if line < cut],
        separate=[r for line, r in export.separate if line < cut],
    )


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
    catalogue = catalogue_with(default, tariffs)
    end = date(year, 12, 31)
    try:
        cap = catalogue.yearly_cap(programme, end)
    except PriceNotKnown:
        return None
    offs = call_offs_in_force([call_off_record(c) for c in call_offs], programme, end)
    return Decimal(cap.hours) + sum((c.hours for c in offs), Decimal(0))
