"""The SQLite event-store recorder (one file per service), which also keeps the consumer
tracking, the relay's position, the hash chain, the case index and personal-data keys.

eventsourcing's recorder is extended, not replaced: ``insert_events(..., processed=[...])``
writes the ids of the messages that caused the events into ``processed_messages`` in the same
transaction as the events, so an effect and the record that it happened commit together or not
at all. The relay keeps how far it has published in ``relay_positions``. Its topic
``infra.persistence:SQLiteRecorder`` (in a store's settings) still resolves
(:mod:`infra.persistence`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from infra.recorder_rows import (
    GENESIS,
    PROCESSED_COLUMNS,
    Processed,
    ScannedRow,
    case_rows,
    link,
    processed_rows,
    stored_event,
)


class SQLiteRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS processed_messages ("
            "consumer TEXT NOT NULL, message_id TEXT NOT NULL, "
            "stream TEXT, entry_ms INTEGER, processed_ms INTEGER, "
            "PRIMARY KEY (consumer, message_id)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS relay_marks (stream TEXT NOT NULL, "
            "entry_ms INTEGER NOT NULL, entry_seq INTEGER NOT NULL, position INTEGER NOT NULL, "
            "PRIMARY KEY (stream, entry_ms, entry_seq)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS relay_low_water ("
            "stream TEXT PRIMARY KEY, position INTEGER NOT NULL, entry TEXT) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS relay_positions ("
            "stream TEXT PRIMARY KEY, position INTEGER NOT NULL, epoch TEXT) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS event_chain ("
            "notification_id INTEGER PRIMARY KEY, hash TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS projections ("
            "name TEXT PRIMARY KEY, position INTEGER NOT NULL, state BLOB NOT NULL) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS case_index ("
            "case_id TEXT NOT NULL, notification_id INTEGER NOT NULL, "
            "PRIMARY KEY (case_id, notification_id)) WITHOUT ROWID",
            # Outside the hash chain on purpose: erasing a person deletes their key here.
            "CREATE TABLE IF NOT EXISTS subject_keys ("
            "subject TEXT PRIMARY KEY, key BLOB, erased_at TEXT) WITHOUT ROWID",
        ]

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        c.execute("PRAGMA table_info(processed_messages)")
        have = {row["name"] for row in c.fetchall()}
        for column, kind in PROCESSED_COLUMNS.items():
            if column not in have:  # a store made before processed ids had a retention
                c.execute(f"ALTER TABLE processed_messages ADD COLUMN {column} {kind}")

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        processed: Processed = kwargs.get("processed") or ()
        if processed:
            c.executemany(
                "INSERT INTO processed_messages (consumer, message_id, stream, entry_ms, "
                "processed_ms) VALUES (?, ?, ?, ?, ?)",
                processed_rows(processed),
            )
        keys: dict[str, bytes] = kwargs.get("subject_keys") or {}
        if keys:  # new persons' keys, with the events sealed with them (infra.pii.StagedKeys)
            c.executemany("INSERT INTO subject_keys (subject, key) VALUES (?, ?)", keys.items())
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            c.execute("SELECT hash FROM event_chain ORDER BY notification_id DESC LIMIT 1")
            row = c.fetchone()
            previous = row["hash"] if row else GENESIS
            links = []
            for notification_id, event in zip(ids, stored_events, strict=True):
                previous = link(previous, notification_id, event)
                links.append((notification_id, previous))
            for pair in links:
                c.execute("INSERT INTO event_chain (notification_id, hash) VALUES (?, ?)", pair)
            for case_id, notification_id in case_rows(kwargs.get("cases"), ids):
                c.execute(
                    "INSERT INTO case_index (case_id, notification_id) VALUES (?, ?)",
                    (case_id, notification_id),
                )
        return ids

    def subject_key(self, subject: str, new_key: bytes | None) -> bytes | None:
        """The subject's key; with ``new_key``, create it if the subject has none yet.
        None when the subject's data was erased (or never had a key and none is given)."""
        with self.datastore.transaction(commit=new_key is not None) as c:
            if new_key is not None:
                c.execute(
                    "INSERT INTO subject_keys (subject, key) VALUES (?, ?) "
                    "ON CONFLICT (subject) DO NOTHING",
                    (subject, new_key),
                )
            c.execute("SELECT key FROM subject_keys WHERE subject = ?", (subject,))
            row = c.fetchone()
            return bytes(row["key"]) if row and row["key"] is not None else None

    def stored_subject_key(self, subject: str) -> tuple[bool, bytes | None]:
        """Whether the subject has a key row, and its key (None once erased)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT key FROM subject_keys WHERE subject = ?", (subject,))
            row = c.fetchone()
        if row is None:
            return False, None
        return True, bytes(row["key"]) if row["key"] is not None else None

    def stored_subject_keys(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        """The subjects that have a key row, with their keys (None once erased)."""
        wanted = list(subjects)
        found: dict[str, bytes | None] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                c.execute(
                    "SELECT subject, key FROM subject_keys "
                    f"WHERE subject IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                for row in c.fetchall():
                    found[row["subject"]] = bytes(row["key"]) if row["key"] is not None else None
        return found

    def erase_subject(self, subject: str, at: str) -> None:
        """Destroy every generation of the subject's key (``subject``, ``subject#2``, ...)."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO subject_keys (subject, key, erased_at) VALUES (?, NULL, ?) "
                "ON CONFLICT (subject) DO UPDATE SET key = NULL, erased_at = excluded.erased_at",
                (subject, at),
            )
            c.execute(  # '#' then '$': the generations sort between, byte by byte
                "UPDATE subject_keys SET key = NULL, erased_at = ? "
                "WHERE subject > ? AND subject < ? AND key IS NOT NULL",
                (at, f"{subject}#", f"{subject}$"),
            )

    def case_stored(self, case_id: str) -> list[tuple[int, StoredEvent]]:
        """The stored events of one case, in log order, through the case index."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT e.rowid AS n, e.originator_id, e.originator_version, e.topic, e.state "
                "FROM case_index i JOIN stored_events e ON e.rowid = i.notification_id "
                "WHERE i.case_id = ? ORDER BY i.notification_id",
                (case_id,),
            )
            return [(int(row["n"]), stored_event(row)) for row in c.fetchall()]  # type: ignore[misc]

    def chain(self, page: int = 1000) -> Iterator[tuple[int, StoredEvent | None, str | None]]:
        """Every position in order: (id, the stored event or None, its chain hash or None)."""
        position = 0
        while True:
            with self.datastore.transaction(commit=False) as c:
                c.execute(
                    "SELECT n, originator_id, originator_version, topic, state, hash FROM ("
                    " SELECT e.rowid AS n, e.originator_id, e.originator_version, e.topic,"
                    " e.state, h.hash FROM stored_events e"
                    " LEFT JOIN event_chain h ON h.notification_id = e.rowid WHERE e.rowid > ?"
                    " UNION ALL SELECT h.notification_id, NULL, NULL, NULL, NULL, h.hash"
                    " FROM event_chain h LEFT JOIN stored_events e ON e.rowid = h.notification_id"
                    " WHERE e.rowid IS NULL AND h.notification_id > ?"
                    ") ORDER BY n LIMIT ?",
                    (position, position, page),
                )
                rows = c.fetchall()
            for row in rows:
                position = row["n"]
                yield position, stored_event(row), row["hash"]
            if len(rows) < page:
                return

    def events_of(self, originator_ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of these aggregates (absent ones are missing): one query for a
        batch's lookups instead of one per aggregate."""
        ids = [i.hex for i in originator_ids]
        found: dict[UUID, list[StoredEvent]] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                c.execute(
                    "SELECT originator_id, originator_version, topic, state FROM stored_events "
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))}) "
                    "ORDER BY originator_id, originator_version",
                    chunk,
                )
                for row in c.fetchall():
                    event = stored_event(row)
                    assert event is not None
                    found.setdefault(cast(UUID, event.originator_id), []).append(event)
        return found

    def scan_topics(
        self,
        topics: Sequence[str],
        page: int = 5000,
        lock: AbstractContextManager[Any] | None = None,
    ) -> Iterator[ScannedRow]:
        """Every stored event of these topics in log order, undecoded and as plain tuples
        ``(id, topic, originator id as hex, originator version, state)``: what a fold over a
        whole log reads, without building a notification and a UUID per row. Each page is
        read in a transaction of its own, under ``lock`` if given."""
        placeholders = ",".join("?" * len(topics))
        query = (
            "SELECT rowid, topic, originator_id, originator_version, state FROM stored_events "
            f"WHERE rowid > ? AND topic IN ({placeholders}) ORDER BY rowid LIMIT ?"
        )
        position = 0
        while True:
            with lock or nullcontext(), self.datastore.transaction(commit=False) as c:
                c.row_factory = None  # type: ignore[attr-defined]
                c.execute(query, (position, *topics, page))
                rows = c.fetchall()
            yield from rows
            if len(rows) < page:
                return
            position = rows[-1][0]

    def processed_among(self, consumer: str, message_ids: Iterable[str]) -> set[str]:
        ids = list(message_ids)
        found: set[str] = set()
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                c.execute(
                    "SELECT message_id FROM processed_messages WHERE consumer = ? "
                    f"AND message_id IN ({','.join('?' * len(chunk))})",
                    (consumer, *chunk),
                )
                found.update(row["message_id"] for row in c.fetchall())
        return found

    def count_processed(self, consumer: str) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT COUNT(*) FROM processed_messages WHERE consumer = ?", (consumer,))
            return int(c.fetchone()[0])

    def relay_position(self, stream: str) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT position FROM relay_positions WHERE stream = ?", (stream,))
            row = c.fetchone()
            return int(row["position"]) if row else 0

    def relay_epoch(self, stream: str) -> str | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT epoch FROM relay_positions WHERE stream = ?", (stream,))
            row = c.fetchone()
            return str(row["epoch"]) if row and row["epoch"] is not None else None

    def projection(self, name: str) -> tuple[int, bytes] | None:
        """A projection's stored position and state (see :mod:`infra.projections`)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT position, state FROM projections WHERE name = ?", (name,))
            row = c.fetchone()
            return (int(row["position"]), bytes(row["state"])) if row else None

    def save_projection(self, name: str, position: int, state: bytes) -> None:
        """Store a projection's state with the position it was folded up to, in one row."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO projections (name, position, state) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE "
                "SET position = excluded.position, state = excluded.state "
                "WHERE excluded.position >= projections.position",
                (name, position, state),
            )

    def set_relay_position(self, stream: str, position: int, epoch: str | None) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO relay_positions (stream, position, epoch) VALUES (?, ?, ?) "
                "ON CONFLICT (stream) DO UPDATE "
                "SET position = excluded.position, epoch = excluded.epoch",
                (stream, position, epoch),
            )
