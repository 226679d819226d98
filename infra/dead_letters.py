"""Dead letters: reading ``<stream>.dead``, sending one back, and recording what was done.

A consumer that gives up on an entry writes it to ``<stream>.dead`` (:mod:`infra.consumer`): the
original fields (a referral's redacted to its ``type`` and ``dead_letter_ref``, its content kept
in intake's encrypted store) plus ``error``, ``attempts``, ``failed_at``, ``entry_id`` and
``group`` (contracts.md). That stream and its fields stay as they are; this module reads them
without their content and sends one back to its stream as a new entry with the same message
``id`` (so a consumer that had done it skips it). What operators do about each one, *retried*
or *handled* with a reason, is kept in a store of its own under the var directory
(:mod:`infra.dead_letter_log`), not on Redis, which is transport and may be wiped. A dead letter
with no record is *open*.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import redis

from infra.settings import Settings
from infra.topology import PUBLISHES, dead_letter_stream, groups, source_of

#: The fields a consumer adds to the original entry when it dead-letters it.
ADDED_FIELDS = ("error", "attempts", "failed_at", "entry_id", "group")
ENTRY_ID = re.compile(r"\d{1,20}-\d{1,20}")
STATES = ("open", "retried", "handled")


class DeadLetterError(Exception):
    """What an operator asked cannot be done; the message says why, in words."""


@dataclass(frozen=True)
class DeadLetter:
    """One entry of ``<stream>.dead``, without its content."""

    stream: str  # the original stream (logical, without the prefix)
    id: str  # its id on the dead-letter stream
    entry_id: str  # its id on the original stream
    group: str
    error: str
    attempts: int | None
    failed_at: datetime | None
    #: What identifies it without its content: ``type``, ``message_id``, ``dead_letter_ref``.
    reference: dict[str, str]
    #: The original fields' names and sizes in characters (no values).
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def dead_stream(self) -> str:
        return dead_letter_stream(self.stream)

    @property
    def kept_ref(self) -> UUID | None:
        """The referral intake keeps in its store instead of on Redis, if this is one."""
        return _uuid(self.reference.get("dead_letter_ref", ""))


def consumed_streams(settings: Settings) -> list[str]:
    """Every stream a consumer of the deployment reads, so may dead-letter."""
    return sorted({stream for stream, _ in groups(settings.intake_sources)})


def original_stream(name: str) -> str:
    """``intake.events`` for ``intake.events`` or ``intake.events.dead``."""
    return name.removesuffix(".dead")


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _safe_id(text: str) -> str:
    """A message id when it is one (a UUID); what was sent in its place is not shown."""
    found = _uuid(text)
    return str(found) if found is not None else f"(not a UUID, {len(text)} characters)"


def reference(fields: Mapping[str, str]) -> dict[str, str]:
    ref: dict[str, str] = {}
    if fields.get("type"):
        ref["type"] = fields["type"][:100]
    if "id" in fields:
        ref["message_id"] = _safe_id(fields["id"])
    if "dead_letter_ref" in fields:
        ref["dead_letter_ref"] = _safe_id(fields["dead_letter_ref"])
    return ref


def original_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """The entry as it was on its stream: the dead letter's fields without those added."""
    return {k: v for k, v in fields.items() if k not in ADDED_FIELDS}


def parse(stream: str, dead_id: str, fields: Mapping[str, str]) -> DeadLetter:
    attempts = fields.get("attempts", "")
    try:
        failed_at: datetime | None = datetime.fromisoformat(fields.get("failed_at", ""))
    except ValueError:
        failed_at = None
    original = original_fields(fields)
    return DeadLetter(
        stream=stream,
        id=dead_id,
        entry_id=fields.get("entry_id", ""),
        group=fields.get("group", ""),
        error=fields.get("error", ""),
        attempts=int(attempts) if attempts.isdigit() else None,
        failed_at=failed_at,
        reference=reference(fields),
        sizes={k: len(v) for k, v in original.items()},
    )


def read(client: redis.Redis, prefix: str, streams: Iterable[str]) -> list[DeadLetter]:
    """Every dead letter of ``streams`` (original streams), oldest first per stream."""
    out: list[DeadLetter] = []
    for stream in streams:
        entries = cast(
            list[tuple[str, dict[str, str]]],
            client.xrange(f"{prefix}{dead_letter_stream(stream)}"),
        )
        out += [parse(stream, _text(i), _texts(f)) for i, f in entries]
    return out


def find(client: redis.Redis, prefix: str, streams: Iterable[str], dead_id: str) -> DeadLetter:
    """The dead letter ``dead_id`` on one of ``streams``; DeadLetterError if none or several."""
    if not ENTRY_ID.fullmatch(dead_id):
        raise DeadLetterError(
            f"{dead_id!r} is not a dead letter's id: it looks like 1764683912345-0 "
            "(see lots dead-letters list)"
        )
    streams = list(streams)
    found: list[DeadLetter] = []
    for stream in streams:
        name = f"{prefix}{dead_letter_stream(stream)}"
        entries = cast(list[tuple[Any, dict[Any, Any]]], client.xrange(name, dead_id, dead_id))
        found += [parse(stream, dead_id, _texts(f)) for _, f in entries]
    if not found:
        where = ", ".join(dead_letter_stream(s) for s in streams)
        raise DeadLetterError(f"no dead letter {dead_id} on {where}")
    if len(found) > 1:
        names = ", ".join(letter.stream for letter in found)
        raise DeadLetterError(f"{dead_id} is a dead letter of {names}: say which with --stream")
    return found[0]


def writer(stream: str) -> str:
    """The Redis user that writes ``stream`` (docs/redis-acl.md), so may send an entry back."""
    for service, published in PUBLISHES.items():
        if published == stream:
            return service
    source = source_of(stream)
    return f"source.{source}" if source is not None else "publisher"


def send_back(client: redis.Redis, prefix: str, stream: str, fields: Mapping[str, str]) -> str:
    """``XADD`` the original entry to its stream again; return its new entry id."""
    if not fields.get("id"):
        raise DeadLetterError(
            "the entry has no message id, so a consumer could not tell it from a new message: "
            "it cannot be sent again as it is; have its sender send it anew and mark this one "
            "handled"
        )
    return _text(client.xadd(f"{prefix}{stream}", dict(fields)))  # type: ignore[arg-type]


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _texts(fields: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in fields.items()}


def raw_fields(client: redis.Redis, prefix: str, letter: DeadLetter) -> dict[str, str]:
    """The dead letter's fields as stored, values included: only to send the entry back."""
    name = f"{prefix}{letter.dead_stream}"
    entries = cast(list[tuple[Any, dict[Any, Any]]], client.xrange(name, letter.id, letter.id))
    if not entries:
        raise DeadLetterError(f"dead letter {letter.id} is no longer on {letter.dead_stream}")
    return _texts(entries[0][1])
