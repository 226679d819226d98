"""How much history delivery still needs: the outbox's low-water mark and the retention of
processed message ids (issue 18, item 4).

**The low-water mark** of a service's outbox is the highest outbox position P such that every
public event at or below P has been published, and an entry carrying it has been acknowledged
by every consumer group of the stream (processed, or dead-lettered): nothing at or below P is
still needed by any consumer. The relay records, with each batch it publishes and in the same
transaction as its position, the batch's last entry id and end position (``relay_marks``); the
runtime's trim loop asks Redis for the oldest entry any group still has pending or unread and
raises the mark (``relay_low_water``) to the end of the last batch wholly below it. A Redis that
lost its data gets the outbox again from the mark, not from the beginning; the stream is only
ever trimmed below the mark, so an entry gone from Redis is one a wipe never republishes.

**Processed message ids** (``processed_messages``) are recorded with the stream and the entry
id (its milliseconds) that delivered them and when they were processed. A group's id of a
relay's stream may be forgotten once no entry that could carry it can still be delivered: its
entry is older, by the safety margin, than the stream's first entry and than the oldest entry
any group of that stream has pending or unread, and it was processed longer than the margin
ago. Ids of the referral streams (chosen by the senders: intake's record of what it answered)
and rows recorded before this rule (no stream) are kept.
"""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis
from psycopg.sql import SQL, Composed, Identifier
from redis.exceptions import ResponseError

from infra.postgres_recorder import PostgresRecorder
from infra.sqlite_recorder import SQLiteRecorder

Store = SQLiteRecorder | PostgresRecorder


def entry_ms(entry_id: str) -> int | None:
    """The milliseconds of a Redis entry id (``"1700000000000-3"``), None if it is not one."""
    ms = entry_id.rsplit(" ", 1)[-1].partition("-")[0]
    return int(ms) if ms.isdigit() else None


def parse(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def now_ms() -> int:
    return int(time.time() * 1000)


def _sql(store: Store, text: str) -> Any:
    if isinstance(store, SQLiteRecorder):
        return text.replace("{schema}.", "")
    statement: Composed = SQL(text.replace("?", "%s")).format(
        schema=Identifier(store.datastore.schema)
    )
    return statement


def record_published(
    store: Store, stream: str, position: int, epoch: str | None, last_entry: str | None
) -> None:
    """The relay's new position, and the batch's last entry id with it (one transaction)."""
    with store.datastore.transaction(commit=True) as c:
        c.execute(
            _sql(
                store,
                "INSERT INTO {schema}.relay_positions (stream, position, epoch) VALUES (?, ?, ?) "
                "ON CONFLICT (stream) DO UPDATE "
                "SET position = excluded.position, epoch = excluded.epoch",
            ),
            (stream, position, epoch),
        )
        if last_entry is not None:
            ms, seq = parse(last_entry)
            c.execute(
                _sql(
                    store,
                    "INSERT INTO {schema}.relay_marks (stream, entry_ms, entry_seq, position) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (stream, entry_ms, entry_seq) DO NOTHING",
                ),
                (stream, ms, seq, position),
            )


def low_water(store: Store, stream: str) -> int:
    """The stored low-water mark of the outbox published on ``stream`` (0: none yet)."""
    with store.datastore.transaction(commit=False) as c:
        c.execute(
            _sql(store, "SELECT position FROM {schema}.relay_low_water WHERE stream = ?"),
            (stream,),
        )
        row = c.fetchone()
        return int(row["position"]) if row else 0


def advance_low_water(store: Store, stream: str, below: str) -> tuple[int, str | None]:
    """Raise the mark to the end of the last batch whose entries are all below entry id
    ``below`` (the oldest entry some group still has pending or unread), forget the batches it
    covers, and return the mark with the last entry id it covers in this Redis (None: none)."""
    ms, seq = parse(below)
    with store.datastore.transaction(commit=True) as c:
        c.execute(
            _sql(
                store,
                "SELECT position, entry_ms, entry_seq FROM {schema}.relay_marks "
                "WHERE stream = ? AND (entry_ms < ? OR (entry_ms = ? AND entry_seq < ?)) "
                "ORDER BY entry_ms DESC, entry_seq DESC LIMIT 1",
            ),
            (stream, ms, ms, seq),
        )
        row = c.fetchone()
        c.execute(
            _sql(store, "SELECT position, entry FROM {schema}.relay_low_water WHERE stream = ?"),
            (stream,),
        )
        stored = c.fetchone()
        mark, entry = (int(stored["position"]), stored["entry"]) if stored else (0, None)
        if row is None:
            return mark, entry
        mark, entry = max(mark, int(row["position"])), f"{row['entry_ms']}-{row['entry_seq']}"
        c.execute(
            _sql(
                store,
                "INSERT INTO {schema}.relay_low_water (stream, position, entry) VALUES (?, ?, ?) "
                "ON CONFLICT (stream) DO UPDATE "
                "SET position = excluded.position, entry = excluded.entry",
            ),
            (stream, mark, entry),
        )
        c.execute(
            _sql(
                store,
                "DELETE FROM {schema}.relay_marks WHERE stream = ? AND "
                "(entry_ms < ? OR (entry_ms = ? AND entry_seq <= ?))",
            ),
            (stream, row["entry_ms"], row["entry_ms"], row["entry_seq"]),
        )
        return mark, entry


def new_epoch(store: Store, stream: str) -> int:
    """A new Redis (epoch): the entry ids recorded for the old one mean nothing there. Forget
    them and return the mark, from which the outbox is published again."""
    with store.datastore.transaction(commit=True) as c:
        c.execute(_sql(store, "DELETE FROM {schema}.relay_marks WHERE stream = ?"), (stream,))
        c.execute(
            _sql(store, "UPDATE {schema}.relay_low_water SET entry = NULL WHERE stream = ?"),
            (stream,),
        )
        c.execute(
            _sql(store, "SELECT position FROM {schema}.relay_low_water WHERE stream = ?"),
            (stream,),
        )
        row = c.fetchone()
        return int(row["position"]) if row else 0


def forget_processed(
    store: Store, consumer: str, stream: str, entries_before_ms: int, processed_before_ms: int
) -> int:
    """Delete the group's ids delivered on ``stream`` by entries older than the first bound
    and processed before the second; return how many."""
    with store.datastore.transaction(commit=True) as c:
        c.execute(
            _sql(
                store,
                "DELETE FROM {schema}.processed_messages WHERE consumer = ? AND stream = ? "
                "AND entry_ms < ? AND processed_ms < ?",
            ),
            (consumer, stream, entries_before_ms, processed_before_ms),
        )
        raw: Any = getattr(c, "sqlite_cursor", c)  # eventsourcing's SQLite cursor wraps one
        return int(raw.rowcount or 0)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def undelivered(client: aioredis.Redis, name: str) -> tuple[int, int] | None:
    """The oldest entry id of stream ``name`` some group still has pending or has not read
    yet (the next id when none), or None when the stream or its groups are missing."""
    try:
        groups = await client.xinfo_groups(name)
    except ResponseError:
        return None
    bounds = []
    for group in groups:
        last = parse(_text(group["last-delivered-id"]))
        bound = (last[0], last[1] + 1)
        if int(group["pending"]):
            oldest = await client.xpending_range(name, _text(group["name"]), "-", "+", 1)
            if oldest:
                bound = min(bound, parse(_text(oldest[0]["message_id"])))
        bounds.append(bound)
    return min(bounds) if bounds else None


async def deliverable_from(client: aioredis.Redis, name: str) -> int | None:
    """The milliseconds of the oldest entry of ``name`` that can still be delivered to any
    group: its first entry (or the next id when it is empty), or the oldest some group has
    pending or unread if that is older. None when the stream or its groups are missing."""
    bound = await undelivered(client, name)
    if bound is None:
        return None
    info = await client.xinfo_stream(name)
    first = info.get("first-entry")
    if first:
        start = parse(_text(first[0]))
    else:
        last = parse(_text(info["last-generated-id"]))
        start = (last[0], last[1] + 1)
    return min(bound, start)[0]


def forget_delivered(
    store: Store, group: str, streams: dict[str, int], margin_ms: int, now: int | None = None
) -> int:
    """Forget the group's processed ids that no entry can carry again: for each stream (its
    logical name -> :func:`deliverable_from`), ids delivered ``margin_ms`` before that bound
    and processed ``margin_ms`` before now. Return how many were forgotten."""
    processed_before = (now if now is not None else now_ms()) - margin_ms
    return sum(
        forget_processed(store, group, stream, start - margin_ms, processed_before)
        for stream, start in streams.items()
    )
