"""A month's settlement from an event-log export, with no services running.

This is ``lots settlement compute --events FILE``: it reads the JSON Lines export of
contracts.md, takes ``SessionLogged`` entries as they stand, and prices every ``MeetingHeld`` of an
hourly programme that has no ``SessionLogged`` (matched on ``meeting_id``) exactly as billing
does: :func:`~services.billing.pricing.price_meeting` at the tariff in force on the meeting's
local date, then the yearly cap. ``AdjustmentRecorded`` entries are kept, because the live
settlement books them and a replay must agree with it to the öre; every other type is ignored.
Entries are deduplicated on their ``id``.

Yearly cap: the hours already billed in the calendar year are those of the ``SessionLogged``
entries of that year up to and including the month, as they stand; unlogged meetings then take
their place in order of start (then meeting id), so the result does not depend on line order.
A group session the group rule does not clearly cover is not priced: it is listed under
``pending_decisions`` until a person's decision is logged as a session.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from events.codec import DecodeError, decode
from events.messages import AdjustmentRecorded, MeetingHeld, Message, SessionLogged
from services.billing.pricing import (
    CallOff,
    NeedsDecision,
    apply_cap,
    local_date,
    month_of,
    price_meeting,
)
from services.billing.settlement import Document, month_start, settle
from services.billing.tariffs import Catalogue

_USED: dict[str, type[Message]] = {
    "MeetingHeld": MeetingHeld,
    "SessionLogged": SessionLogged,
    "AdjustmentRecorded": AdjustmentRecorded,
}


class ExportError(ValueError):
    """A line of the export that cannot be read; the message starts with its line number."""


@dataclass(frozen=True)
class Export:
    """The entries of an export that a settlement reads, each once."""

    sessions: tuple[SessionLogged, ...]
    meetings: tuple[MeetingHeld, ...]
    adjustments: tuple[AdjustmentRecorded, ...]


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
        # The same meeting or session may travel under two entry ids (a re-publication):
        # keep it once, and refuse two different versions of it.
        key = (kind, _natural_key(message))
        body = message.model_dump_json()
        if key in by_key and by_key[key][1] != body:
            raise ExportError(
                f"line {number}: {kind} {key[1]} already appeared on line {by_key[key][0]} "
                "with different content"
            )
        by_key.setdefault(key, (number, body, message))
    messages = [found[2] for _, found in sorted(by_key.items())]
    return Export(
        sessions=tuple(m for m in messages if isinstance(m, SessionLogged)),
        meetings=tuple(m for m in messages if isinstance(m, MeetingHeld)),
        adjustments=tuple(m for m in messages if isinstance(m, AdjustmentRecorded)),
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
    start = month_start(month)
    export = read_export(lines)
    sessions = list(export.sessions)
    pending: list[NeedsDecision] = []
    if programme is None or programme in catalogue.hourly_programmes():
        logged = {s.meeting_id for s in sessions if s.meeting_id is not None}
        billed: dict[str, Decimal] = {}
        for s in sessions:
            if s.settlement_month[:4] == month[:4] and s.settlement_month <= month:
                billed[s.programme] = billed.get(s.programme, Decimal(0)) + s.client_hours
        due = [
            m
            for m in export.meetings
            if m.programme in catalogue.hourly_programmes()
            and m.meeting_id not in logged
            and local_date(m.started_at).year == start.year
            and month_of(local_date(m.started_at)) <= month
        ]
        for meeting in sorted(due, key=lambda m: (m.started_at, str(m.meeting_id))):
            priced = price_meeting(meeting, catalogue)
            if isinstance(priced, NeedsDecision):
                pending.append(priced)
                continue
            before = billed.get(priced.programme, Decimal(0))
            outcome = apply_cap(priced, before, call_offs, catalogue)
            billed[priced.programme] = before + outcome.session.client_hours
            sessions.append(outcome.session)
    return settle(
        month,
        sessions,
        catalogue,
        programme=programme,
        adjustments=export.adjustments,
        pending=pending,
    )


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
    if isinstance(message, SessionLogged):
        return str(message.session_id)
    if isinstance(message, MeetingHeld):
        return str(message.meeting_id)
    if isinstance(message, AdjustmentRecorded):
        return str(message.adjustment_id)
    raise TypeError(type(message).__name__)
