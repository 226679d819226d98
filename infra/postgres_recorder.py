"""The PostgreSQL event-store recorder (one schema per service), which also keeps the consumer
tracking, the relay's position, the hash chain, the case index and personal-data keys, as
:mod:`infra.sqlite_recorder` does on SQLite. Its topic ``infra.persistence:PostgresRecorder``
(in a store's settings) still resolves: :mod:`infra.persistence`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import Identifier

from infra.postgres_sql import Statements, tables
from infra.recorder_rows import (
    GENESIS,
    Processed,
    ScannedRow,
    case_rows,
    link,
    processed_rows,
    stored_event,
)
from infra.store import schema_lock_key


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
        self.sql_create_statements.extend(tables(schema))
        self.statements = Statements(schema, Identifier(self.events_table_name))

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        processed: Processed = kwargs.get("processed") or ()
        if processed:
            curs.executemany(self.statements.insert_processed, processed_rows(processed))
        keys: dict[str, bytes] = kwargs.get("subject_keys") or {}
        if keys:  # new persons' keys, with the events sealed with them (infra.pii.StagedKeys)
            curs.executemany(self.statements.insert_new_key, list(keys.items()))
        super()._insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            # Still inside the insert's transaction, which holds the table lock: links are
            # written in the order the ids were given.
            curs.execute(self.statements.last_link)
            row = curs.fetchone()
            previous = row["hash"] if row else GENESIS
            links = []
            for notification_id, event in zip(ids, stored_events, strict=True):
                previous = link(previous, notification_id, event)
                links.append((notification_id, previous))
            curs.executemany(self.statements.insert_link, links)
            rows = list(case_rows(kwargs.get("cases"), ids))
            if rows:
                curs.executemany(self.statements.insert_case, rows)
        return ids

    def subject_key(self, subject: str, new_key: bytes | None) -> bytes | None:
        with self.datastore.transaction(commit=new_key is not None) as curs:
            if new_key is not None:
                curs.execute(self.statements.insert_key, (subject, new_key))
            curs.execute(self.statements.select_key, (subject,))
            row = curs.fetchone()
            return bytes(row["key"]) if row and row["key"] is not None else None

    def stored_subject_key(self, subject: str) -> tuple[bool, bytes | None]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.statements.select_key, (subject,))
            row = curs.fetchone()
        if row is None:
            return False, None
        return True, bytes(row["key"]) if row["key"] is not None else None

    def stored_subject_keys(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.statements.select_keys, (list(subjects),))
            return {
                row["subject"]: bytes(row["key"]) if row["key"] is not None else None
                for row in curs.fetchall()
            }

    def erase_subject(self, subject: str, at: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.statements.erase_key, (subject, at))
            curs.execute(self.statements.erase_generations, (at, f"{subject}#"))

    def case_stored(self, case_id: str) -> list[tuple[int, StoredEvent]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.statements.select_case, (case_id,))
            return [(int(row["n"]), stored_event(row)) for row in curs.fetchall()]  # type: ignore[misc]

    def chain(self, page: int = 1000) -> Iterator[tuple[int, StoredEvent | None, str | None]]:
        position = 0
        while True:
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(self.statements.select_chain, (position, page))
                rows = curs.fetchall()
            for row in rows:
                position = row["n"]
                yield position, stored_event(row), row["hash"]
            if len(rows) < page:
                return

    def events_of(self, originator_ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        found: dict[UUID, list[StoredEvent]] = {}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.statements.select_events_of, (list(originator_ids),))
            for row in curs.fetchall():
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
        position = 0
        while True:
            with lock or nullcontext(), self.datastore.transaction(commit=False) as curs:
                curs.execute(self.statements.scan_topics, (position, list(topics), page))
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
            curs.execute(self.statements.select_processed, (consumer, list(message_ids)))
            return {row["message_id"] for row in curs.fetchall()}

    def count_processed(self, consumer: str) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.statements.count_processed, (consumer,))
            row = curs.fetchone()
            return int(row["n"]) if row else 0

    def relay_position(self, stream: str) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.statements.select_position, (stream,))
            row = curs.fetchone()
            return int(row["position"]) if row else 0

    def relay_epoch(self, stream: str) -> str | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.statements.select_position, (stream,))
            row = curs.fetchone()
            return str(row["epoch"]) if row and row["epoch"] is not None else None

    def projection(self, name: str) -> tuple[int, bytes] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.statements.select_projection, (name,))
            row = curs.fetchone()
            return (int(row["position"]), bytes(row["state"])) if row else None

    def save_projection(self, name: str, position: int, state: bytes) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.statements.upsert_projection, (name, position, state))

    def set_relay_position(self, stream: str, position: int, epoch: str | None) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.statements.upsert_position, (stream, position, epoch))
