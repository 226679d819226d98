"""Instances of a service started at once on a new PostgreSQL schema (several machines, the
bench's scale-out) all come up: the tables are made under an advisory lock on the schema, since
PostgreSQL's ``CREATE TABLE IF NOT EXISTS`` is not safe against a concurrent one."""

from __future__ import annotations

import threading

from infra.settings import Settings
from services.billing.app import make_app as make_billing
from services.scheduling.app import make_app as make_scheduling


def test_instances_starting_at_once_on_a_new_schema_all_come_up(
    postgres_settings: Settings,
) -> None:
    errors: list[BaseException] = []
    ready = threading.Barrier(8)

    def start(make: object) -> None:
        ready.wait()
        try:
            app = make(postgres_settings)  # type: ignore[operator]
            app.close()
        except BaseException as exc:
            errors.append(exc)

    makers = [make_billing, make_scheduling] * 4
    threads = [threading.Thread(target=start, args=(m,)) for m in makers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [], [type(e).__name__ + ": " + str(e)[:200] for e in errors]
