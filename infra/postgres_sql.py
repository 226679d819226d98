"""The SQL of the PostgreSQL recorder (:mod:`infra.postgres_recorder`), composed once per
schema: the tables it adds to eventsourcing's and the statements it runs on them.
"""

from __future__ import annotations

from psycopg.sql import SQL, Composed, Identifier

from infra.recorder_rows import PROCESSED_COLUMNS


def tables(schema: Identifier) -> list[Composed]:
    """The tables of the consumer tracking, the relay, the hash chain, the projections, the
    case index and the personal-data keys, in ``schema``."""
    return [
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


class Statements:
    """The statements of one schema's recorder."""

    def __init__(self, schema: Identifier, events: Identifier) -> None:
        self._keys(schema)
        self._log(schema, events)
        self._tracking(schema)

    def _keys(self, schema: Identifier) -> None:
        """Personal-data keys (:mod:`infra.pii`)."""
        self.insert_key = SQL(
            "INSERT INTO {schema}.subject_keys (subject, key) VALUES (%s, %s) "
            "ON CONFLICT (subject) DO NOTHING"
        ).format(schema=schema)
        self.insert_new_key = SQL(
            "INSERT INTO {schema}.subject_keys (subject, key) VALUES (%s, %s)"
        ).format(schema=schema)
        self.select_keys = SQL(
            "SELECT subject, key FROM {schema}.subject_keys WHERE subject = ANY(%s)"
        ).format(schema=schema)
        self.select_key = SQL("SELECT key FROM {schema}.subject_keys WHERE subject = %s").format(
            schema=schema
        )
        self.erase_key = SQL(
            "INSERT INTO {schema}.subject_keys (subject, key, erased_at) VALUES (%s, NULL, %s) "
            "ON CONFLICT (subject) DO UPDATE SET key = NULL, erased_at = excluded.erased_at"
        ).format(schema=schema)
        self.erase_generations = SQL(
            "UPDATE {schema}.subject_keys SET key = NULL, erased_at = %s "
            "WHERE starts_with(subject, %s) AND key IS NOT NULL"
        ).format(schema=schema)

    def _log(self, schema: Identifier, events: Identifier) -> None:
        """The case index, the hash chain and reads of the log."""
        self.insert_case = SQL(
            "INSERT INTO {schema}.case_index (case_id, notification_id) VALUES (%s, %s)"
        ).format(schema=schema)
        self.select_case = SQL(
            "SELECT e.notification_id AS n, e.originator_id, e.originator_version, e.topic, "
            "e.state FROM {schema}.case_index i JOIN {schema}.{events} e "
            "ON e.notification_id = i.notification_id WHERE i.case_id = %s "
            "ORDER BY i.notification_id"
        ).format(schema=schema, events=events)
        self.last_link = SQL(
            "SELECT hash FROM {schema}.event_chain ORDER BY notification_id DESC LIMIT 1"
        ).format(schema=schema)
        self.insert_link = SQL(
            "INSERT INTO {schema}.event_chain (notification_id, hash) VALUES (%s, %s)"
        ).format(schema=schema)
        self.select_chain = SQL(
            "SELECT COALESCE(e.notification_id, h.notification_id) AS n, e.originator_id,"
            " e.originator_version, e.topic, e.state, h.hash FROM {schema}.{events} e"
            " FULL OUTER JOIN {schema}.event_chain h ON h.notification_id = e.notification_id"
            " WHERE COALESCE(e.notification_id, h.notification_id) > %s ORDER BY n LIMIT %s"
        ).format(schema=schema, events=events)
        self.select_events_of = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{events} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(schema=schema, events=events)
        self.scan_topics = SQL(
            "SELECT notification_id AS n, topic, originator_id, originator_version, state "
            "FROM {schema}.{events} WHERE notification_id > %s AND topic = ANY(%s) "
            "ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, events=events)

    def _tracking(self, schema: Identifier) -> None:
        """Processed message ids, projections and the relay's position."""
        self.insert_processed = SQL(
            "INSERT INTO {schema}.processed_messages (consumer, message_id, stream, entry_ms, "
            "processed_ms) VALUES (%s, %s, %s, %s, %s)"
        ).format(schema=schema)
        self.select_processed = SQL(
            "SELECT message_id FROM {schema}.processed_messages "
            "WHERE consumer = %s AND message_id = ANY(%s)"
        ).format(schema=schema)
        self.count_processed = SQL(
            "SELECT COUNT(*) AS n FROM {schema}.processed_messages WHERE consumer = %s"
        ).format(schema=schema)
        self.select_projection = SQL(
            "SELECT position, state FROM {schema}.projections WHERE name = %s"
        ).format(schema=schema)
        self.upsert_projection = SQL(
            "INSERT INTO {schema}.projections (name, position, state) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state "
            "WHERE excluded.position >= {schema}.projections.position"
        ).format(schema=schema)
        self.select_position = SQL(
            "SELECT position, epoch FROM {schema}.relay_positions WHERE stream = %s"
        ).format(schema=schema)
        self.upsert_position = SQL(
            "INSERT INTO {schema}.relay_positions (stream, position, epoch) VALUES (%s, %s, %s) "
            "ON CONFLICT (stream) DO UPDATE "
            "SET position = excluded.position, epoch = excluded.epoch"
        ).format(schema=schema)
