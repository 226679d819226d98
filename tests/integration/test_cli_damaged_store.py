"""``lots status`` and ``lots audit verify`` over a damaged store (SQLite and PostgreSQL): the
store and the event that fail are named, in the text and the JSON, and the exit code is 1 — not
a traceback."""

from __future__ import annotations

import json

import pytest

from infra.settings import Settings
from services.billing.app import make_app as make_billing
from tests.support.cli import alter, lots
from tests.support.intake import Clock, make_intake, referral


def status(settings: Settings, *args: str) -> tuple[int, str]:
    return lots(settings, "status", *args)


def test_an_unreadable_event_is_named_with_its_store(store_settings: Settings) -> None:
    intake = make_intake(store_settings, Clock())
    for _ in range(5):
        intake.submit(json.dumps(referral()).encode())
    intake.close()
    alter(store_settings, "intake", 3, b"\x00not what was stored")

    code, out = status(store_settings, "--json")
    report = json.loads(out)
    assert code == 1 and report["healthy"] is False
    damaged = report["services"]["intake"]["damaged"]
    assert damaged["position"] == 3 and damaged["version"] == 1
    assert damaged["topic"] == "services.intake.domain:Case.Opened"
    assert damaged["problem"] == "the event cannot be read"
    assert report["services"]["intake"]["events_stored"] == 5
    assert report["services"]["billing"]["damaged"] is None
    assert any("intake's store is damaged at event 3" in p for p in report["problems"])

    code, out = status(store_settings)
    assert code == 1
    assert "intake's store is damaged at event 3 (services.intake.domain:Case.Opened of " in out


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        (b"not json", "the event cannot be read"),
        (b"{}", "the event or the one before it was altered, inserted or removed"),
    ],
)
def test_a_store_damaged_where_its_service_starts_is_named_too(
    store_settings: Settings, state: bytes, problem: str
) -> None:
    make_billing(store_settings).close()  # records the default tariff book: event 1
    alter(store_settings, "billing", 1, state)  # the second still decodes, into nothing usable

    code, out = status(store_settings, "--json")
    report = json.loads(out)
    assert code == 1
    damaged = report["services"]["billing"]["damaged"]
    assert (damaged["position"], damaged["problem"]) == (1, problem)
    assert any(p.startswith("billing's store is damaged at event 1") for p in report["problems"])

    code, out = lots(store_settings, "audit", "verify", "--json")  # opened without start-up
    assert code == 1 and json.loads(out)["stores"]["billing"]["broken_at"] == 1
