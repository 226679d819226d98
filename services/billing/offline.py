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
  tariff in force on its local date, then held against the yearly cap, in order of start (then
  meeting id), after every logged session of its year. Its month is its own if open, else the
  first open month after it, where it becomes an adjustment (:func:`late_adjustment`). A group
  session the rule does not clearly cover is listed under ``pending_decisions``; a meeting
  whose session was dismissed (``SessionDismissed``: no price, ruled out by a person) is not.
  A meeting with no price in force on its date (no rate, fee, cap or contract term) is listed
  under ``awaiting_price`` on that month, bills nothing and takes no hours from the cap, as
  billing leaves it waiting; the computation still succeeds.

Entries are deduplicated on their ``id``, and a message that travelled twice under different ids
(a re-publication) is kept once, at its first position; two different versions of the same
message are refused, naming the line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from events.codec import DecodeError, decode
from events.messages import (
    AdjustmentRecorded,
    CallOffRecorded,
    MeetingHeld,
    Message,
    SessionDismissed,
    SessionFlagged,
    SessionLogged,
    SettlementClosed,
    TariffRecorded,
)
from services.billing.cap import CallOff, apply_cap, call_offs_in_force
from services.billing.pricing import (
    NeedsDecision,
    decision_options,
    local_date,
    month_of,
    price_meeting,
    session_id_for,
)
from services.billing.settlement import (
    Awaiting,
    Document,
    first_open_month,
    late_adjustment,
    month_start,
    settle,
)
from services.billing.tariffs import (
    Catalogue,
    Entry,
    PriceNotKnown,
    TariffError,
    entry_from_record,
)

_USED: dict[str, type[Message]] = {
    m.type_name: m
    for m in (
        MeetingHeld,
        SessionLogged,
        AdjustmentRecorded,
        SessionFlagged,
        SessionDismissed,
        TariffRecorded,
        CallOffRecorded,
        SettlementClosed,
    )
}
M = TypeVar("M", bound=Message)
Positioned = tuple[int, M]
"""A message and the line where it first appeared: billing's log order."""


class ExportError(ValueError):
    """A line of the export that cannot be read; the message starts with its line number."""


@dataclass(frozen=True)
class Export:
    """The entries of an export that a settlement reads, each once, in the export's order."""

    sessions: tuple[Positioned[SessionLogged], ...]
    meetings: tuple[MeetingHeld, ...]
    adjustments: tuple[Positioned[AdjustmentRecorded], ...]
    flags: tuple[Positioned[SessionFlagged], ...]
    dismissed: tuple[Positioned[SessionDismissed], ...]
    tariffs: tuple[Positioned[TariffRecorded], ...]
    call_offs: tuple[Positioned[CallOffRecorded], ...]
    closes: tuple[Positioned[SettlementClosed], ...]


def read_export(lines: Iterable[str]) -> Export:
    """Read and check the export; raise :class:`ExportError` naming the first bad line."""
    entries: dict[str, tuple[int, str]] = {}
    by_key: dict[tuple[str, str], tuple[int, str, Message]] = {}
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        entry = _parse(number, text)
        ident, kind = str(entry["id"]), str(entry["type"])
        content = json.dumps(entry, sort_keys=True, ensure_ascii=False)
        if ident in entries:
            first, seen = entries[ident]
            if seen != content:
                raise ExportError(
                    f"line {number}: entry id {ident} already appeared on line {first} "
                    "with different content"
                )
            continue
        entries[ident] = (number, content)
        if kind not in _USED:
            continue
        message = _decode(number, entry, _USED[kind])
        key = (kind, _natural_key(message))
        body = message.model_dump_json()
        if key in by_key and by_key[key][1] != body:
            raise ExportError(
                f"line {number}: {kind} {key[1]} already appeared on line {by_key[key][0]} "
                "with different content"
            )
        by_key.setdefault(key, (number, body, message))
    found = sorted((line, message) for line, _, message in by_key.values())

    def of(model: type[M]) -> tuple[Positioned[M], ...]:
        return tuple((line, m) for line, m in found if isinstance(m, model))

    return Export(
        sessions=of(SessionLogged),
        meetings=tuple(m for _, m in of(MeetingHeld)),
        adjustments=of(AdjustmentRecorded),
        flags=of(SessionFlagged),
        dismissed=of(SessionDismissed),
        tariffs=of(TariffRecorded),
        call_offs=of(CallOffRecorded),
        closes=of(SettlementClosed),
    )


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
    sessions = [s for _, s in export.sessions]
    logged = {s.meeting_id for s in sessions if s.meeting_id is not None}
    book = _OpenMonth(
        month=month,
        tariffs=tariffs,
        call_offs=[*call_offs],
        recorded=[_call_off(c) for _, c in export.call_offs],
        sessions=sessions,
        adjustments=[a for _, a in export.adjustments],
        pending=_pending([f for _, f in export.flags], month, logged),
    )
    if programme is None or programme in tariffs.hourly_programmes():
        closed = {c.month for _, c in export.closes}
        # Flagged meetings are pending already; dismissed ones are never billed.
        handled = logged | {f.meeting_id for _, f in export.flags}
        handled |= {d.meeting_id for _, d in export.dismissed if d.meeting_id is not None}
        unlogged = [
            m
            for m in export.meetings
            if m.programme in tariffs.hourly_programmes() and m.meeting_id not in handled
        ]
        for meeting, own, target in _due(unlogged, month, closed.__contains__):
            book.price(meeting, own, target)
    return settle(
        month,
        book.sessions,
        tariffs,
        programme=programme,
        adjustments=book.adjustments,
        pending=book.pending,
        awaiting=book.awaiting,
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
    awaiting: list[Awaiting] = field(default_factory=list)
    billed: dict[tuple[str, int], Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for s in self.sessions:
            key = (s.programme, s.performed_on.year)
            self.billed[key] = self.billed.get(key, Decimal(0)) + s.client_hours

    def price(self, meeting: MeetingHeld, own: str, target: str) -> None:
        """Price a meeting billing has not logged, booked on ``target`` (its own month, or the
        first open one after it); only what lands on this month is kept, but every one of them
        holds its hours against the cap. A price not known leaves it waiting, as in billing."""
        try:
            priced = price_meeting(meeting, self.tariffs)
            if isinstance(priced, NeedsDecision):
                if target == self.month:
                    self.pending.append(replace(priced, settlement_month=target))
                return
            key = (priced.programme, priced.performed_on.year)
            own_offs = call_offs_in_force(self.recorded, priced.programme, priced.performed_on)
            before = self.billed.get(key, Decimal(0))
            outcome = apply_cap(priced, before, [*self.call_offs, *own_offs], self.tariffs)
        except PriceNotKnown as exc:
            if target == self.month:
                self.awaiting.append(
                    Awaiting(
                        session_id_for(meeting.meeting_id), meeting.meeting_id,
                        meeting.programme, target, str(exc),
                    )
                )  # fmt: skip
            return
        self.billed[key] = before + outcome.session.client_hours
        if target == own:
            self.sessions.append(outcome.session)
        elif target == self.month:
            self.adjustments.append(late_adjustment(outcome.session, self.month))


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
    sessions = [s for line, s in export.sessions if line < cut]
    logged = {s.meeting_id for s in sessions if s.meeting_id is not None}
    return settle(
        month,
        sessions,
        tariffs,
        programme=programme,
        adjustments=[a for line, a in export.adjustments if line < cut],
        pending=_pending([f for line, f in export.flags if line < cut], month, logged),
    )


def _due(
    meetings: Iterable[MeetingHeld], month: str, closed: Callable[[str], bool]
) -> list[tuple[MeetingHeld, str, str]]:
    """The unlogged meetings to price for ``month``: each with its own and its booking month.

    Those booked on an earlier month of the same year are priced too, since they come before
    this month's under the yearly cap; other years' count only when booked on this month.
    """
    due = []
    for meeting in meetings:
        own = month_of(local_date(meeting.started_at))
        target = first_open_month(own, closed)
        if target > month or (target != month and own[:4] != month[:4]):
            continue
        due.append((meeting, own, target))
    return sorted(due, key=lambda d: (d[0].started_at, str(d[0].meeting_id)))


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


def _parse(number: int, text: str) -> dict[str, Any]:
    try:
        entry = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(f"line {number}: not JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(entry, dict):
        raise ExportError(f"line {number}: not a JSON object")
    if not isinstance(entry.get("type"), str) or not isinstance(entry.get("id"), str):
        raise ExportError(f"line {number}: needs a string 'type' and a string 'id'")
    if not isinstance(entry.get("data"), dict):
        raise ExportError(f"line {number}: 'data' must be a JSON object")
    return entry


def _decode(number: int, entry: dict[str, Any], model: type[Message]) -> Message:
    version = entry.get("version")
    if isinstance(version, bool) or not isinstance(version, int | str):
        raise ExportError(f"line {number}: 'version' must be an integer")
    fields = {
        "type": entry["type"],
        "version": str(version),
        "id": entry["id"],
        "data": json.dumps(entry["data"], ensure_ascii=False),
    }
    try:
        return decode(fields, expect=model).message
    except DecodeError as exc:
        raise ExportError(f"line {number}: {exc}") from exc


def _natural_key(message: Message) -> str:
    if isinstance(message, SessionLogged | SessionFlagged | SessionDismissed):
        return str(message.session_id)
    if isinstance(message, MeetingHeld):
        return str(message.meeting_id)
    if isinstance(message, AdjustmentRecorded):
        return str(message.adjustment_id)
    if isinstance(message, TariffRecorded):
        return str(message.book_version)
    if isinstance(message, CallOffRecorded):
        return message.reference
    if isinstance(message, SettlementClosed):
        return message.month
    raise TypeError(type(message).__name__)
