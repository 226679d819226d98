"""What an event-log export's records give an offline settlement, each as billing has it.

The export's adjustments, sessions, flags and tariffs read as billing booked them (a manual
adjustment or a catch-up made again, a session as its last recut left it, another provider's
sessions left out), and the meetings still to price for a month. Split from
:mod:`services.billing.offline`, which settles with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from events.billing import (
    AdjustmentRecorded,
    CallOffRecorded,
    SessionFlagged,
    SessionLogged,
    SessionRecut,
    TariffRecorded,
)
from events.scheduling import MeetingHeld
from infra.calendar import month_of
from services.billing import catchup
from services.billing.adjustments import AdjustmentError, is_manual, rederived
from services.billing.cap_order import performed_key
from services.billing.catchup import is_catch_up
from services.billing.export_reader import Export, ExportError, Positioned
from services.billing.pricing import bills_for_leanlink, session_id_for
from services.billing.pricing_groups import NeedsDecision, decision_options
from services.billing.settlement import first_open_month
from services.billing.tariff_entries import Entry, TariffError, entry_from_record
from services.billing.tariffs import Catalogue


def booked_adjustments(records: Iterable[AdjustmentRecorded]) -> list[AdjustmentRecorded]:
    """The export's adjustments as billing booked them; a manual one is made again from its
    fields, as the service made it (adjustments.py), and an altered one is refused."""
    try:
        return [
            rederived(a) if is_manual(a) else catchup.rederived(a) if is_catch_up(a) else a
            for a in records
        ]
    except (AdjustmentError, catchup.CatchUpError) as exc:
        raise ExportError(str(exc)) from exc


def sessions_as_now(
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


def leanlinks_own(sessions: list[SessionLogged]) -> list[SessionLogged]:
    """Leanlink's sessions. A ``SessionLogged`` of another provider (billing logged them before
    settlement document version 2) is not Leanlink's to bill: it is left out, and its meeting,
    if the export holds it, is reported apart like any other provider's."""
    return [s for s in sessions if bills_for_leanlink(s.provider)]


def unlogged_meetings(export: Export, tariffs: Catalogue, logged: set[UUID]) -> list[MeetingHeld]:
    """The export's meetings of hourly programmes that billing has not logged and still bills:
    flagged meetings are pending already; dismissed ones are never billed; other providers'
    meetings that billing reported apart are reported as they stand."""
    handled = logged | {f.meeting_id for _, f in export.flags}
    handled |= {d.meeting_id for _, d in export.dismissed if d.meeting_id is not None}
    handled |= {r.meeting_id for _, r in export.apart}
    return [
        m
        for m in export.meetings
        if m.programme in tariffs.hourly_programmes() and m.meeting_id not in handled
    ]


def meetings_due(
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


def pending_decisions(
    flags: Iterable[SessionFlagged], month: str, logged: set[UUID]
) -> list[NeedsDecision]:
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


def catalogue_with(default: Catalogue, recorded: Sequence[TariffRecorded]) -> Catalogue:
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


def call_off_record(message: CallOffRecorded) -> dict[str, Any]:
    return {
        "reference": message.reference,
        "programme": message.programme,
        "year": message.year,
        "hours": message.hours,
        "effective_from": message.effective_from,
    }
