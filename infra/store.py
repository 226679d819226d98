"""Choosing and configuring a service's event store from the settings.

SQLite by default (``var/<service>.sqlite``), PostgreSQL when ``LOTS_STORE=postgres``, in a
schema of the service's own, with the recorders of :mod:`infra.sqlite_recorder` and
:mod:`infra.postgres_recorder`.
"""

from __future__ import annotations

import base64
import hashlib
import os

import psycopg
from psycopg import sql

from infra.secret_files import kept_secret
from infra.settings import Settings, SettingsError
from infra.transcoder import TRANSCODER_TOPIC


def store_env(settings: Settings, service: str, *, encrypted: bool = False) -> dict[str, str]:
    """The eventsourcing environment of ``service``'s application (or of another store of the
    deployment's, such as ``deadletters``: :mod:`infra.dead_letters`)."""
    # Events are written by orjson in the library's own JSON format (infra.transcoder).
    env: dict[str, str] = {"AGGREGATE_CACHE_MAXSIZE": "5000", "TRANSCODER_TOPIC": TRANSCODER_TOPIC}
    if settings.store == "sqlite":
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=str(settings.var_dir / f"{service}.sqlite"),
            SQLITE_LOCK_TIMEOUT="30",
            APPLICATION_RECORDER_TOPIC="infra.sqlite_recorder:SQLiteRecorder",
        )
    else:
        schema = postgres_schema(settings, service)
        ensure_schema(settings, schema)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.postgres",
            POSTGRES_DBNAME=settings.postgres_dbname,
            POSTGRES_HOST=settings.postgres_host,
            POSTGRES_PORT=str(settings.postgres_port),
            POSTGRES_USER=settings.postgres_user,
            POSTGRES_PASSWORD=settings.postgres_password.get_secret_value(),
            POSTGRES_SCHEMA=schema,
            POSTGRES_POOL_SIZE="4",
            APPLICATION_RECORDER_TOPIC="infra.postgres_recorder:PostgresRecorder",
        )
    if encrypted:
        # AES-GCM through OpenSSL (the ``cryptography`` package): about ten times faster per
        # event than the pure-Python-driven pycryptodome cipher, with the same stored format.
        env.update(
            CIPHER_TOPIC="eventsourcing.cryptography:AESCipher", CIPHER_KEY=cipher_key(settings)
        )
    return env


def cipher_key(settings: Settings) -> str:
    """The at-rest key (base64 of 32 bytes): from settings, or in development a key file.

    In production a missing key is an error: personal data is never stored in the clear.
    """
    if settings.cipher_key is not None:
        return settings.cipher_key.get_secret_value()
    if settings.env == "production":
        raise SettingsError(
            "LOTS_CIPHER_KEY is not set: intake encrypts personal data at rest and needs a key "
            "(base64 of 32 random bytes, e.g. `python -c 'import os,base64; "
            "print(base64.b64encode(os.urandom(32)).decode())'`)"
        )
    return kept_secret(
        settings.var_dir / "keys" / "intake.key", lambda: base64.b64encode(os.urandom(32)).decode()
    ).strip()


def postgres_schema(settings: Settings, service: str) -> str:
    return f"{settings.postgres_schema_prefix}{service}"


def postgres_conninfo(settings: Settings) -> str:
    return psycopg.conninfo.make_conninfo(
        host=settings.postgres_host,
        port=settings.postgres_port,
        user=settings.postgres_user,
        password=settings.postgres_password.get_secret_value() or None,
        dbname=settings.postgres_dbname,
    )


def ensure_schema(settings: Settings, schema: str) -> None:
    """The schema, made once however many instances start at once: ``CREATE SCHEMA IF NOT
    EXISTS`` is not safe against a concurrent one, so it runs under a transaction-scoped
    advisory lock on the schema's name (the one the recorder takes to make its tables)."""
    with psycopg.connect(postgres_conninfo(settings)) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (schema_lock_key(schema),))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def schema_lock_key(schema: str) -> int:
    """The advisory lock key under which a schema and its tables are made."""
    digest = hashlib.sha256(f"lots-schema:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
