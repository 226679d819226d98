"""Event-store recorders that also keep the consumer tracking and the relay's position.

eventsourcing's recorders are extended, not replaced: ``insert_events(..., processed=[...])``
writes the ids of the messages that caused the events into ``processed_messages`` in the same
transaction as the events, so an effect and the record that it happened commit together or not
at all. The relay keeps how far it has published in ``relay_positions``. The same code runs on
SQLite (one file per service) and PostgreSQL (one schema per service).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

Processed = Sequence[tuple[str, str]]
"""(consumer group, message id) pairs recorded with a batch's events."""


class SQLiteRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS processed_messages ("
            "consumer TEXT NOT NULL, message_id TEXT NOT NULL, "
            "PRIMARY KEY (consumer, message_id)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS relay_positions ("
            "stream TEXT PRIMARY KEY, position INTEGER NOT NULL, epoch TEXT) WITHOUT ROWID",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        processed: Processed = kwargs.get("processed") or ()
        for consumer, message_id in processed:
            c.execute(
                "INSERT INTO processed_messages (consumer, message_id) VALUES (?, ?)",
                (consumer, message_id),
            )
        return super()._insert_events(c, stored_events, **kwargs)

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

    def set_relay_position(self, stream: str, position: int, epoch: str | None) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO relay_positions (stream, position, epoch) VALUES (?, ?, ?) "
                "ON CONFLICT (stream) DO UPDATE "
                "SET position = excluded.position, epoch = excluded.epoch",
                (stream, position, epoch),
            )


class PostgresRecorder(PostgresApplicationRecorder):
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
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.relay_positions ("
                    "stream text PRIMARY KEY, position bigint NOT NULL, epoch text)"
                ).format(schema=schema),
            ]
        )
        self._insert_processed = SQL(
            "INSERT INTO {schema}.processed_messages (consumer, message_id) VALUES (%s, %s)"
        ).format(schema=schema)
        self._select_processed = SQL(
            "SELECT message_id FROM {schema}.processed_messages "
            "WHERE consumer = %s AND message_id = ANY(%s)"
        ).format(schema=schema)
        self._count_processed = SQL(
            "SELECT COUNT(*) AS n FROM {schema}.processed_messages WHERE consumer = %s"
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
            curs.executemany(self._insert_processed, list(processed))
        super()._insert_events(curs, stored_events, **kwargs)

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

    def set_relay_position(self, stream: str, position: int, epoch: str | None) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._upsert_position, (stream, position, epoch))
