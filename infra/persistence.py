"""Event-store recorders that also keep the consumer tracking and the relay's position.

eventsourcing's recorders are extended, not replaced: ``insert_events(..., processed=[...])``
writes the ids of the messages that caused the events into ``processed_messages`` in the same
transaction as the events, so an effect and the record that it happened commit together or not
at all. The relay keeps how far it has published in ``relay_positions``. The same code runs on
SQLite (one file per service) and PostgreSQL (one schema per service).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from infra.store import schema_lock_key

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
                _processed_rows(processed),
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
            for case_id, notification_id in _case_rows(kwargs.get("cases"), ids):
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
            return [(int(row["n"]), _stored(row)) for row in c.fetchall()]  # type: ignore[misc]

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
                yield position, _stored(row), row["hash"]
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
                    event = _stored(row)
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


class PostgresRecorder(PostgresApplicationRecorder):
    def create_table(self) -> None:
        """The library's tables and ours, made while holding an advisory lock on the schema.

        Instances of a service started at once on a new schema (several machines, the bench's
        scale-out) would otherwise collide in PostgreSQL's catalogue: ``CREATE TABLE IF NOT
        EXISTS`` is not safe against a concurrent one (``pg_type_typname_nsp_index``). The lock
        is taken on a connection of its own, outside the pool the creation uses.
        """
        given = self.datastore.pool.kwargs  # as eventsourcing's datastore gives them: a dict
        given = given() if callable(given) else given or {}
        settings = {k: v for k, v in given.items() if k != "row_factory"}
        key = schema_lock_key(self.datastore.schema)
        with psycopg.connect(autocommit=True, **settings) as lock:
            lock.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                super().create_table()
            finally:
                lock.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.processed_messages ("
                    "consumer text NOT NULL, message_id text NOT NULL, "
                    "PRIMARY KEY (consumer, message_id))"
                ).format(schema=schema),
                *(
                    SQL(
                        "ALTER TABLE {schema}.processed_messages ADD COLUMN IF NOT EXISTS "
                        f"{column} {'bigint' if kind == 'INTEGER' else 'text'}"
                    ).format(schema=schema)
                    for column, kind in PROCESSED_COLUMNS.items()
                ),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.relay_marks (stream text NOT NULL, "
                    "entry_ms bigint NOT NULL, entry_seq bigint NOT NULL, "
                    "position bigint NOT NULL, PRIMARY KEY (stream, entry_ms, entry_seq))"
                ).format(schema=schema),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.relay_low_water ("
                    "stream text PRIMARY KEY, position bigint NOT NULL, entry text)"
                ).format(schema=schema),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.relay_positions ("
                    "stream text PRIMARY KEY, position bigint NOT NULL, epoch text)"
                ).format(schema=schema),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.event_chain ("
                    "notification_id bigint PRIMARY KEY, hash text NOT NULL)"
                ).format(schema=schema),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.projections ("
                    "name text PRIMARY KEY, position bigint NOT NULL, state bytea NOT NULL)"
                ).format(schema=schema),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.case_index ("
                    "case_id text NOT NULL, notification_id bigint NOT NULL, "
                    "PRIMARY KEY (case_id, notification_id))"
                ).format(schema=schema),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.subject_keys ("
                    "subject text PRIMARY KEY, key bytea, erased_at text)"
                ).format(schema=schema),
            ]
        )
        self._insert_key = SQL(
            "INSERT INTO {schema}.subject_keys (subject, key) VALUES (%s, %s) "
            "ON CONFLICT (subject) DO NOTHING"
        ).format(schema=schema)
        self._insert_new_key = SQL(
            "INSERT INTO {schema}.subject_keys (subject, key) VALUES (%s, %s)"
        ).format(schema=schema)
        self._select_keys = SQL(
            "SELECT subject, key FROM {schema}.subject_keys WHERE subject = ANY(%s)"
        ).format(schema=schema)
        self._select_key = SQL("SELECT key FROM {schema}.subject_keys WHERE subject = %s").format(
            schema=schema
        )
        self._erase_key = SQL(
            "INSERT INTO {schema}.subject_keys (subject, key, erased_at) VALUES (%s, NULL, %s) "
            "ON CONFLICT (subject) DO UPDATE SET key = NULL, erased_at = excluded.erased_at"
        ).format(schema=schema)
        self._erase_generations = SQL(
            "UPDATE {schema}.subject_keys SET key = NULL, erased_at = %s "
            "WHERE starts_with(subject, %s) AND key IS NOT NULL"
        ).format(schema=schema)
        events = Identifier(self.events_table_name)
        self._insert_case = SQL(
            "INSERT INTO {schema}.case_index (case_id, notification_id) VALUES (%s, %s)"
        ).format(schema=schema)
        self._select_case = SQL(
            "SELECT e.notification_id AS n, e.originator_id, e.originator_version, e.topic, "
            "e.state FROM {schema}.case_index i JOIN {schema}.{events} e "
            "ON e.notification_id = i.notification_id WHERE i.case_id = %s "
            "ORDER BY i.notification_id"
        ).format(schema=schema, events=events)
        self._last_link = SQL(
            "SELECT hash FROM {schema}.event_chain ORDER BY notification_id DESC LIMIT 1"
        ).format(schema=schema)
        self._insert_link = SQL(
            "INSERT INTO {schema}.event_chain (notification_id, hash) VALUES (%s, %s)"
        ).format(schema=schema)
        self._select_chain = SQL(
            "SELECT COALESCE(e.notification_id, h.notification_id) AS n, e.originator_id,"
            " e.originator_version, e.topic, e.state, h.hash FROM {schema}.{events} e"
            " FULL OUTER JOIN {schema}.event_chain h ON h.notification_id = e.notification_id"
            " WHERE COALESCE(e.notification_id, h.notification_id) > %s ORDER BY n LIMIT %s"
        ).format(schema=schema, events=events)
        self._insert_processed = SQL(
            "INSERT INTO {schema}.processed_messages (consumer, message_id, stream, entry_ms, "
            "processed_ms) VALUES (%s, %s, %s, %s, %s)"
        ).format(schema=schema)
        self._select_processed = SQL(
            "SELECT message_id FROM {schema}.processed_messages "
            "WHERE consumer = %s AND message_id = ANY(%s)"
        ).format(schema=schema)
        self._select_events_of = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{events} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(schema=schema, events=events)
        self._scan_topics = SQL(
            "SELECT notification_id AS n, topic, originator_id, originator_version, state "
            "FROM {schema}.{events} WHERE notification_id > %s AND topic = ANY(%s) "
            "ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, events=events)
        self._count_processed = SQL(
            "SELECT COUNT(*) AS n FROM {schema}.processed_messages WHERE consumer = %s"
        ).format(schema=schema)
        self._select_projection = SQL(
            "SELECT position, state FROM {schema}.projections WHERE name = %s"
        ).format(schema=schema)
        self._upsert_projection = SQL(
            "INSERT INTO {schema}.projections (name, position, state) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state "
            "WHERE excluded.position >= {schema}.projections.position"
        ).format(schema=schema)
        self._select_position = SQL(
            "SELECT position, epoch FROM {schema}.relay_positions WHERE stream = %s"
        ).format(schema=schema)
        self._upsert_position = SQL(
            "INSERT INTO {schema}.relay_positions (stream, position, epoch) VALUES (%s, %s, %s) "
            "ON CONFLICT (stream) DO UPDATE "
            "SET position = excluded.position, epoch = excluded.epoch"
        ).format(schema=schema)

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        processed: Processed = kwargs.get("processed") or ()
        if processed:
            curs.executemany(self._insert_processed, _processed_rows(processed))
        keys: dict[str, bytes] = kwargs.get("subject_keys") or {}
        if keys:  # new persons' keys, with the events sealed with them (infra.pii.StagedKeys)
            curs.executemany(self._insert_new_key, list(keys.items()))
        super()._insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            # Still inside the insert's transaction, which holds the table lock: links are
            # written in the order the ids were given.
            curs.execute(self._last_link)
            row = curs.fetchone()
            previous = row["hash"] if row else GENESIS
            links = []
            for notification_id, event in zip(ids, stored_events, strict=True):
                previous = link(previous, notification_id, event)
                links.append((notification_id, previous))
            curs.executemany(self._insert_link, links)
            rows = list(_case_rows(kwargs.get("cases"), ids))
            if rows:
                curs.executemany(self._insert_case, rows)
        return ids

    def subject_key(self, subject: str, new_key: bytes | None) -> bytes | None:
        with self.datastore.transaction(commit=new_key is not None) as curs:
            if new_key is not None:
                curs.execute(self._insert_key, (subject, new_key))
            curs.execute(self._select_key, (subject,))
            row = curs.fetchone()
            return bytes(row["key"]) if row and row["key"] is not None else None

    def stored_subject_key(self, subject: str) -> tuple[bool, bytes | None]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_key, (subject,))
            row = curs.fetchone()
        if row is None:
            return False, None
        return True, bytes(row["key"]) if row["key"] is not None else None

    def stored_subject_keys(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_keys, (list(subjects),))
            return {
                row["subject"]: bytes(row["key"]) if row["key"] is not None else None
                for row in curs.fetchall()
            }

    def erase_subject(self, subject: str, at: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._erase_key, (subject, at))
            curs.execute(self._erase_generations, (at, f"{subject}#"))

    def case_stored(self, case_id: str) -> list[tuple[int, StoredEvent]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_case, (case_id,))
            return [(int(row["n"]), _stored(row)) for row in curs.fetchall()]  # type: ignore[misc]

    def chain(self, page: int = 1000) -> Iterator[tuple[int, StoredEvent | None, str | None]]:
        position = 0
        while True:
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(self._select_chain, (position, page))
                rows = curs.fetchall()
            for row in rows:
                position = row["n"]
                yield position, _stored(row), row["hash"]
            if len(rows) < page:
                return

    def events_of(self, originator_ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        found: dict[UUID, list[StoredEvent]] = {}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_events_of, (list(originator_ids),))
            for row in curs.fetchall():
                event = _stored(row)
                assert event is not None
                found.setdefault(cast(UUID, event.originator_id), []).append(event)
        return found

    def scan_topics(
        self,
        topics: Sequence[str],
        page: int = 5000,
        lock: AbstractContextManager[Any] | None = None,
    ) -> Iterator[ScannedRow]:
        position = 0
        while True:
            with lock or nullcontext(), self.datastore.transaction(commit=False) as curs:
                curs.execute(self._scan_topics, (position, list(topics), page))
                rows = curs.fetchall()
            for row in rows:
                yield (
                    row["n"],
                    row["topic"],
                    row["originator_id"].hex,
                    row["originator_version"],
                    bytes(row["state"]),
                )
            if len(rows) < page:
                return
            position = rows[-1]["n"]

    def processed_among(self, consumer: str, message_ids: Iterable[str]) -> set[str]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_processed, (consumer, list(message_ids)))
            return {row["message_id"] for row in curs.fetchall()}

    def count_processed(self, consumer: str) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._count_processed, (consumer,))
            row = curs.fetchone()
            return int(row["n"]) if row else 0

    def relay_position(self, stream: str) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_position, (stream,))
            row = curs.fetchone()
            return int(row["position"]) if row else 0

    def relay_epoch(self, stream: str) -> str | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_position, (stream,))
            row = curs.fetchone()
            return str(row["epoch"]) if row and row["epoch"] is not None else None

    def projection(self, name: str) -> tuple[int, bytes] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_projection, (name,))
            row = curs.fetchone()
            return (int(row["position"]), bytes(row["state"])) if row else None

    def save_projection(self, name: str, position: int, state: bytes) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._upsert_projection, (name, position, state))

    def set_relay_position(self, stream: str, position: int, epoch: str | None) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._upsert_position, (stream, position, epoch))


def _processed_rows(processed: Processed) -> list[tuple[str, str, str | None, int | None, int]]:
    now = int(time.time() * 1000)
    rows: list[tuple[str, str, str | None, int | None, int]] = []
    for row in processed:
        stream, entry = (row[2], row[3]) if len(row) == 4 else (None, None)
        rows.append((row[0], row[1], stream, entry, now))
    return rows


def _stored(row: Any) -> StoredEvent | None:
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


def _case_rows(cases: Sequence[str | None] | None, ids: Sequence[int]) -> Iterator[tuple[str, int]]:
    """(case id, notification id) for each new event that belongs to a case."""
    for case_id, notification_id in zip(cases or (), ids, strict=False):
        if case_id is not None:
            yield case_id, notification_id
