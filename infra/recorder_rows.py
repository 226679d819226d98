"""What both event-store recorders write and read alike, on SQLite and on PostgreSQL.

The rows of ``processed_messages`` recorded with a batch's events, the hash chain over the log
(:mod:`infra.integrity` verifies it), the case index's rows, and a stored event read back from a
row of either database. The recorders themselves: :mod:`infra.sqlite_recorder`,
:mod:`infra.postgres_recorder`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

Processed = Sequence[tuple[str, str] | tuple[str, str, str | None, int | None]]
"""(consumer group, message id[, stream, entry id's milliseconds]) recorded with a batch's
events; the stream and the entry date the record for its retention (:mod:`infra.watermarks`)."""
#: Added to ``processed_messages`` for its retention; older rows have none (and are kept).
PROCESSED_COLUMNS = {"stream": "TEXT", "entry_ms": "INTEGER", "processed_ms": "INTEGER"}

ScannedRow = tuple[int, str, str, int, bytes]
"""(notification id, topic, originator id as 32 hex digits, originator version, state)."""

GENESIS = "0" * 64


def link(previous: str, notification_id: int, event: StoredEvent) -> str:
    """The hash of one stored event chained to the one before it (hex SHA-256).

    It covers the position, the aggregate, its version, the topic and the stored bytes (as
    stored: intake's are encrypted, so verifying needs no key), and the previous hash, so an
    altered, inserted or removed row breaks every link after it.
    """
    head = f"{previous}|{notification_id}|{event.originator_id}|{event.originator_version}|"
    digest = hashlib.sha256(head.encode())
    digest.update(event.topic.encode())
    digest.update(b"|")
    digest.update(bytes(event.state))
    return digest.hexdigest()


def processed_rows(processed: Processed) -> list[tuple[str, str, str | None, int | None, int]]:
    now = int(time.time() * 1000)
    rows: list[tuple[str, str, str | None, int | None, int]] = []
    for row in processed:
        stream, entry = (row[2], row[3]) if len(row) == 4 else (None, None)
        rows.append((row[0], row[1], stream, entry, now))
    return rows


def stored_event(row: Any) -> StoredEvent | None:
    if row["topic"] is None:
        return None
    originator_id = row["originator_id"]
    if isinstance(originator_id, str) and len(originator_id) == 32:
        originator_id = UUID(hex=originator_id)  # SQLite keeps UUIDs as hex text
    return StoredEvent(
        originator_id=originator_id,
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )


def case_rows(cases: Sequence[str | None] | None, ids: Sequence[int]) -> Iterator[tuple[str, int]]:
    """(case id, notification id) for each new event that belongs to a case."""
    for case_id, notification_id in zip(cases or (), ids, strict=False):
        if case_id is not None:
            yield case_id, notification_id
