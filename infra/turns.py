"""How the instances of a service take turns applying batches (``exclusive_batches``).

Billing's batches all write the same aggregates (the month's settlement, the year's cap), so its
instances apply them one at a time instead of colliding and retrying. Which lock they share
follows the store:

* a SQLite file store: a file lock beside the file (``<file>.turns``); one machine only, as the
  file itself is;
* PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) on a connection of the
  turns' own, keyed by the store's database and schema, so that instances on several machines
  take turns. The lock lives as long as that session: when the process dies (even by SIGKILL)
  or its connection is lost, PostgreSQL releases it and the next instance takes its turn. An
  instance that lost the connection during its turn has lost the turn: :meth:`Turns.check`
  raises :class:`TurnLost` before the batch is saved, and the batch is applied again in a new
  turn. (A batch saved in the instant between the check and the commit is still safe: every
  write is optimistic, and a version written twice is refused by the store.)
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Mapping
from contextlib import suppress
from typing import Protocol, TextIO

import psycopg


class TurnLost(Exception):
    """This instance no longer holds its turn (the lock's connection was lost)."""


class Turns(Protocol):
    """The lock the instances of a service take turns by."""

    def acquire(self) -> None:
        """Wait until this instance holds the turn."""

    def try_acquire(self) -> bool:
        """Take the turn if no other instance holds it; whether this instance now holds it."""

    def check(self) -> None:
        """Raise :class:`TurnLost` unless this instance still holds the turn."""

    def release(self) -> None:
        """Give the turn up (nothing happens if it was lost already)."""

    def close(self) -> None:
        """Give the turn up if held and let go of what the lock needs (file, connection)."""


class FileTurns:
    """Turns through ``flock`` on a file beside a SQLite store: lost only with the process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: TextIO | None = None

    def _opened(self) -> TextIO:
        if self._file is None:
            self._file = open(self.path, "a")  # noqa: SIM115  # kept open for the app's life
        return self._file

    def acquire(self) -> None:
        fcntl.flock(self._opened(), fcntl.LOCK_EX)

    def try_acquire(self) -> bool:
        try:
            fcntl.flock(self._opened(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def check(self) -> None:
        return None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases its lock
            self._file = None


class PostgresTurns:
    """Turns through a session-level advisory lock held on a connection of its own."""

    def __init__(self, conninfo: str, key: int) -> None:
        self.conninfo = conninfo
        self.key = key
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._drop()
            self._conn = psycopg.connect(self.conninfo, autocommit=True)
        return self._conn

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _ask(self, query: str) -> object:
        conn = self._connection()
        try:
            row = conn.execute(query, (self.key,)).fetchone()
        except psycopg.OperationalError:
            self._drop()  # the session, and any lock it held, is gone
            raise
        return row[0] if row else None

    def _take(self, query: str) -> object:
        """Ask for the lock; once more on a new connection if the idle one was found dead
        (nothing was held on it between turns)."""
        try:
            return self._ask(query)
        except psycopg.OperationalError:
            return self._ask(query)

    def acquire(self) -> None:
        if not self._held:
            self._take("SELECT pg_advisory_lock(%s)")
            self._held = True

    def try_acquire(self) -> bool:
        if not self._held:
            self._held = bool(self._take("SELECT pg_try_advisory_lock(%s)"))
        return self._held

    def check(self) -> None:
        if not self._held:
            raise TurnLost("this instance does not hold its turn")
        try:
            # The lock is the session's: the session answering is the lock still held.
            self._ask("SELECT %s::bigint")
        except psycopg.OperationalError as exc:
            raise TurnLost("the turns' connection to PostgreSQL was lost") from exc

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        with suppress(psycopg.OperationalError):  # the session is gone, and the lock with it
            self._ask("SELECT pg_advisory_unlock(%s)")

    def close(self) -> None:
        self._drop()


def advisory_key(dbname: str, schema: str) -> int:
    """The advisory lock key of a store: the same in every process, a signed 64-bit integer."""
    digest = hashlib.sha256(f"lots.turns/{dbname}/{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def turns_for(env: Mapping[str, str]) -> Turns | None:
    """The turns of the store ``env`` configures (:func:`infra.store.store_env`); None for a
    store in memory, which no other instance shares."""
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        conninfo = psycopg.conninfo.make_conninfo(
            host=env.get("POSTGRES_HOST", ""),
            port=env.get("POSTGRES_PORT", ""),
            user=env.get("POSTGRES_USER", ""),
            password=env.get("POSTGRES_PASSWORD") or None,
            dbname=env.get("POSTGRES_DBNAME", ""),
            application_name="lots-turns",
            connect_timeout=10,
            # TCP keepalives, so that a connection lost without a word (a cable pulled, a
            # machine frozen) is noticed within about 20 seconds on this side.
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=5,
            keepalives_count=3,
        )
        key = advisory_key(env.get("POSTGRES_DBNAME", ""), env.get("POSTGRES_SCHEMA", ""))
        return PostgresTurns(conninfo, key)
    dbname = env.get("SQLITE_DBNAME", "")
    if not dbname or ":memory:" in dbname or "mode=memory" in dbname:
        return None
    return FileTurns(f"{dbname}.turns")
