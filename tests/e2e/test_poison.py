"""Hostile entries amid good ones, against the running services: nothing stalls or leaks.

An integer of more than 4,300 digits made ``json.loads`` raise a plain ``ValueError`` that the
codec did not turn into a decode error: the whole batch failed for ever, the good referrals
around it were never answered, and every retry logged the batch's decoded referrals.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from infra.settings import Settings
from lots.status import collect
from lots.supervisor import Supervisor, running
from tests.conftest import free_port
from tests.e2e.test_referral_path import EXAMPLE_DATA
from tests.support.flow import wait_until
from tests.support.intake import personal_number

POISON = {
    "huge integer": '{"source": "linkoping.elevhalsa", "referral_id": "P-1", "x": '
    + "7" * 5000
    + "}",
    "NaN": '{"source": "linkoping.elevhalsa", "referral_id": "P-2", "persons": NaN}',
    "deep nesting": '{"source": "linkoping.elevhalsa", "x": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "not UTF-8": b'{"source": "linkoping.elevhalsa", "referral_id": "\xff\xfe"}',
}


@pytest.fixture
def system(settings: Settings, tmp_path: Path) -> Iterator[Supervisor]:
    ports = {f"{s}_port": free_port() for s in ("intake", "scheduling", "billing")}
    with running(settings.model_copy(update=ports), log_file=tmp_path / "services.log") as sup:
        yield sup


def test_poison_entries_amid_good_referrals_are_dead_lettered_and_the_rest_answered(
    system: Supervisor, settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    from datetime import date

    referrals = settings.stream("intake.referrals")
    private: list[str] = []
    entries: list[dict[str, str | bytes]] = []
    for n in range(16):
        body = json.loads(EXAMPLE_DATA) | {"referral_id": f"GOOD-{n}"}
        child = personal_number(date(2014, 1, 1 + n), serial="417")
        body["persons"][0].update(personal_number=child, name=f"Poisonkid Number{n}")
        private += [child, f"Poisonkid Number{n}"]
        entries.append({"type": "SubmitReferral", "version": "1", "data": json.dumps(body)})
        if n % 4 == 1:  # the poison in the middle of the good ones, in the same batches
            kind = list(POISON)[n // 4]
            entries.append({"type": "SubmitReferral", "version": "1", "data": POISON[kind]})
    with redis_client.pipeline(transaction=False) as pipe:
        for fields in entries:
            pipe.xadd(referrals, {**fields, "id": str(uuid.uuid4())})
        pipe.execute()

    events = settings.stream("intake.events")
    wait_until(lambda: redis_client.xlen(events) >= 16, timeout=60)
    answers = [json.loads(f["data"]) for _, f in redis_client.xrange(events)]
    assert sorted(a["referral_id"] for a in answers) == sorted(f"GOOD-{n}" for n in range(16))
    wait_until(lambda: redis_client.xlen(f"{referrals}.dead") == len(POISON))
    wait_until(lambda: redis_client.xlen(referrals) == 0)  # nothing left with personal data
    errors = sorted(f["error"] for _, f in redis_client.xrange(f"{referrals}.dead"))
    assert any("too many digits" in e for e in errors), errors
    assert any("NaN is not a JSON number" in e for e in errors), errors
    assert any("nested too deeply" in e for e in errors), errors
    assert any("not UTF-8" in e for e in errors), errors

    ready = httpx.get(f"{system.base_url('intake')}/health/ready", timeout=5).json()
    assert ready["ready"] is True and ready["loops"] is True
    report = collect(settings.model_copy(update={"redis_url": system.redis_url}))
    assert all(row.get("stuck", 0) == 0 for row in report["streams"])
    system.stop()
    log = (tmp_path / "services.log").read_text()
    assert "dead-lettered" in log and "loop failed" not in log
    assert not [p for p in private if p in log]
