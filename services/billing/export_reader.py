"""Reading an event-log export (contracts.md, "Event-log export") for the offline settlement.

Entries are deduplicated on their ``id``, and a message that travelled twice under different ids
(a re-publication) is kept once, at its first position; two different versions of the same
message are refused, naming the line. Only the messages a settlement reads are decoded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from events.billing import (
    AdjustmentRecorded,
    CallOffRecorded,
    SeparateAmountRecorded,
    SessionDismissed,
    SessionFlagged,
    SessionLogged,
    SessionRecut,
    SessionReportedApart,
    SettlementClosed,
    TariffRecorded,
)
from events.codec import DecodeError, decode
from events.scheduling import MeetingHeld
from events.types import Message

_USED: dict[str, type[Message]] = {
    m.type_name: m
    for m in (
        MeetingHeld,
        SessionLogged,
        AdjustmentRecorded,
        SessionFlagged,
        SessionDismissed,
        SessionReportedApart,
        SeparateAmountRecorded,
        SessionRecut,
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
    apart: tuple[Positioned[SessionReportedApart], ...]
    separate: tuple[Positioned[SeparateAmountRecorded], ...]
    recuts: tuple[Positioned[SessionRecut], ...]
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
        # The type itself, not a subclass: a SessionRecut is not a SessionLogged.
        return tuple((line, m) for line, m in found if type(m) is model)

    return Export(
        sessions=of(SessionLogged),
        meetings=tuple(m for _, m in of(MeetingHeld)),
        adjustments=of(AdjustmentRecorded),
        flags=of(SessionFlagged),
        dismissed=of(SessionDismissed),
        apart=of(SessionReportedApart),
        separate=of(SeparateAmountRecorded),
        recuts=of(SessionRecut),
        tariffs=of(TariffRecorded),
        call_offs=of(CallOffRecorded),
        closes=of(SettlementClosed),
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
    if isinstance(message, SessionRecut):  # one per session that took hours from it
        return f"{message.session_id}/{message.given_to}"
    if isinstance(
        message, SessionLogged | SessionFlagged | SessionDismissed | SessionReportedApart
    ):
        return str(message.session_id)
    if isinstance(message, MeetingHeld):
        return str(message.meeting_id)
    if isinstance(message, AdjustmentRecorded):
        return str(message.adjustment_id)
    if isinstance(message, TariffRecorded):
        return str(message.book_version)
    if isinstance(message, CallOffRecorded):
        return message.reference
    if isinstance(message, SeparateAmountRecorded):
        return str(message.item_id)
    if isinstance(message, SettlementClosed):
        return message.month
    raise TypeError(type(message).__name__)
