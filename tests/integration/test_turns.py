"""Billing's instances take turns across processes: through a file lock beside a SQLite store,
through a PostgreSQL advisory lock when the store is PostgreSQL (infra/turns.py). One process
holds the turn at a time; when it is killed with SIGKILL another takes over; an instance whose
connection is lost has lost its turn."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from infra.settings import Settings
from infra.store import store_env
from infra.turns import PostgresTurns, TurnLost, turns_for
from services.billing.application import Billing
from tests.conftest import POSTGRES
from tests.support.billing import Clock, deliver
from tests.support.flow import meeting, wait_until

ROOT = Path(__file__).resolve().parents[2]


class Holder:
    """A process of its own taking the turn (tests/support/turns_holder.py)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.turns_holder", json.dumps(env)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def says(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def let_go(self) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        return self.says()


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        if holder.process.poll() is None:
            holder.kill()


def advisory_holders(key: int) -> list[int]:
    """The PostgreSQL backends holding the advisory lock ``key`` (granted, not waiting)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    with psycopg.connect(**POSTGRES, autocommit=True) as conn:  # type: ignore[arg-type]
        rows = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s::bigint::oid AND objid = %s::bigint::oid AND objsubid = 1",
            (unsigned >> 32, unsigned & 0xFFFF_FFFF),
        ).fetchall()
    return [pid for (pid,) in rows]


def test_one_process_holds_the_turn_and_another_takes_over_when_it_is_killed(
    store_settings: Settings, holders: list[Holder]
) -> None:
    env = store_env(store_settings, "billing")
    first = Holder(env)
    holders.append(first)
    assert first.says() == "held"
    second = Holder(env)
    holders.append(second)
    assert second.says() == "busy"  # the first holds it: the second waits
    here = turns_for(env)
    assert here is not None
    assert not here.try_acquire()
    if isinstance(here, PostgresTurns):
        assert len(advisory_holders(here.key)) == 1

    first.kill()
    assert second.says() == "held"  # the lock went with the killed process
    assert not here.try_acquire()  # and now the second holds it alone
    assert second.let_go() == "released"
    assert here.try_acquire()
    here.close()


@pytest.mark.postgres
def test_an_instance_whose_connection_is_lost_has_lost_its_turn(
    postgres_settings: Settings,
) -> None:
    env = store_env(postgres_settings, "billing")
    turns, other = turns_for(env), turns_for(env)
    assert isinstance(turns, PostgresTurns) and isinstance(other, PostgresTurns)
    turns.acquire()
    turns.check()
    (pid,) = advisory_holders(turns.key)
    with psycopg.connect(**POSTGRES, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))

    with pytest.raises(TurnLost):
        turns.check()
    assert not turns.held
    assert other.try_acquire()
    other.close()
    turns.acquire()  # on a new connection
    assert advisory_holders(turns.key) != [pid]
    turns.close()


@pytest.mark.postgres
def test_billing_on_postgres_waits_for_the_turn_another_process_holds(
    postgres_settings: Settings, holders: list[Holder]
) -> None:
    env = store_env(postgres_settings, "billing")
    app = Billing(env, clock=Clock(datetime(2026, 3, 31, 12, tzinfo=UTC)))
    holder = Holder(env)
    holders.append(holder)
    assert holder.says() == "held"
    errors: list[BaseException] = []

    def apply_batch() -> None:
        try:
            deliver(app, [meeting(n) for n in range(3)])
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    done = threading.Thread(target=apply_batch)
    done.start()

    def billing_waits() -> bool:
        with psycopg.connect(**POSTGRES, autocommit=True) as conn:  # type: ignore[arg-type]
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lots-turns'"
                " AND wait_event_type = 'Lock' AND query LIKE %s",
                ("%pg_advisory_lock%",),
            ).fetchone()
        return bool(row and row[0])

    wait_until(billing_waits)
    holder.kill()
    done.join(timeout=60)
    assert not done.is_alive() and not errors
    out = app.outbox(0, 100)[1]
    booked = {o.message.meeting_id for o in out if hasattr(o.message, "meeting_id")}
    assert booked == {meeting(n).meeting_id for n in range(3)}  # applied once the turn came
    app.close()


@pytest.mark.postgres
def test_a_connection_closed_between_turns_is_replaced_when_the_next_turn_is_asked_for(
    postgres_settings: Settings,
) -> None:
    turns = turns_for(store_env(postgres_settings, "billing"))
    assert isinstance(turns, PostgresTurns)
    turns.acquire()
    (pid,) = advisory_holders(turns.key)
    turns.release()
    with psycopg.connect(**POSTGRES, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))

    turns.acquire()
    turns.check()
    assert len(advisory_holders(turns.key)) == 1 and advisory_holders(turns.key) != [pid]
    turns.close()
