"""A loop that keeps failing is seen: readiness, /counters and ``lots status`` say which."""

from __future__ import annotations

import json
import sqlite3

from infra.auth import Role
from infra.settings import Settings
from tests.support.auth import headers
from tests.support.flow import eventually
from tests.support.intake import Clock, make_intake, referral, running_intake


async def test_a_relay_that_cannot_read_its_outbox_makes_the_service_not_ready(
    settings: Settings,
) -> None:
    app = make_intake(settings, Clock())
    body = referral()
    assert app.submit(json.dumps(body).encode()).accepted
    app.close()
    with sqlite3.connect(settings.var_dir / "intake.sqlite") as db:  # one event damaged
        db.execute(
            "UPDATE stored_events SET state = X'00' WHERE rowid = (SELECT MAX(rowid) "
            "FROM stored_events)"
        )
    async with running_intake(settings, Clock()) as (_, runtime, http):
        await eventually(lambda: bool(runtime.failing_loops))
        ready = await http.get("/health/ready")
        counters = (await http.get("/counters", headers=headers(settings, Role.OPERATOR))).json()
    assert ready.status_code == 503
    answer = ready.json()
    assert answer["ready"] is False and answer["loops"] is False
    assert set(answer["failing"]) == {"relay"}
    error = answer["failing"]["relay"]["error"]
    assert error and body["persons"][0]["personal_number"] not in error
    assert counters["failing_loops"] == ["_relay_loop"] and counters["loop_failures"] >= 1
