"""The running system: held meetings on Redis become sessions, a month closes and replays.

Scheduling's ``MeetingHeld`` entries are written with plain ``XADD`` (the worked example of
../shared/examples), billing prices them, the month is closed over HTTP, and then the ``lots``
command replays it from billing's store and computes it offline from an export of the streams:
all three must give the same digest. A meeting arriving after the close becomes an adjustment.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from infra.auth import Role
from infra.settings import Settings
from lots.supervisor import Supervisor, running
from tests.conftest import free_port
from tests.support.flow import wait_until

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "billing-may-2022.jsonl"


@pytest.fixture
def system(settings: Settings, tmp_path: Path) -> Iterator[Supervisor]:
    ports = {f"{s}_port": free_port() for s in ("intake", "scheduling", "billing")}
    with running(settings.model_copy(update=ports), log_file=tmp_path / "services.log") as sup:
        yield sup


def lots(system: Supervisor, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``lots`` command, with the same settings as the running services."""
    return subprocess.run(
        [sys.executable, "-m", "lots.cli", *args],
        env=system.child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def entries(client: redis.Redis, settings: Settings, stream: str, kind: str) -> list[Any]:
    found = client.xrange(settings.stream(stream))
    return [json.loads(f["data"]) for _, f in found if f["type"] == kind]  # type: ignore[union-attr]


def export(client: redis.Redis, settings: Settings, path: Path) -> None:
    """The event-log export of contracts.md, from the public streams as they stand."""
    with path.open("w", encoding="utf-8") as out:
        for stream in ("scheduling.events", "billing.events"):
            for _, fields in client.xrange(settings.stream(stream)):  # type: ignore[union-attr]
                line = {
                    "stream": stream,
                    "type": fields["type"],
                    "version": int(fields["version"]),
                    "id": fields["id"],
                    "data": json.loads(fields["data"]),
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")


def test_a_month_of_held_meetings_closes_replays_and_computes_to_one_digest(
    system: Supervisor, settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    held = [json.loads(line) for line in EXAMPLE.read_text().splitlines()]
    stream = settings.stream("scheduling.events")
    for entry in held:
        fields = {"type": entry["type"], "version": "1", "id": entry["id"],
                  "data": json.dumps(entry["data"])}  # fmt: skip
        redis_client.xadd(stream, fields)  # type: ignore[arg-type]
        redis_client.xadd(stream, fields)  # type: ignore[arg-type]  # and once more
    wait_until(lambda: len(entries(redis_client, settings, "billing.events", "SessionLogged")) == 5)

    billing = system.client("billing", Role.STAFF)
    shown = billing.get("/settlements/2022-05", params={"programme": "counselling"})
    assert shown.status_code == 200 and shown.json()["total_ore"] == 680_625
    closed = billing.post("/settlements/2022-05/close", json={"closed_by": "e2e"})
    assert closed.status_code == 200, closed.text
    digest = closed.json()["digest"]
    wait_until(lambda: bool(entries(redis_client, settings, "billing.events", "SettlementClosed")))
    [announced] = entries(redis_client, settings, "billing.events", "SettlementClosed")
    assert announced["digest"] == digest

    replay = lots(system, "settlement", "replay", "2022-05", "--json")
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout)["digest"] == digest

    path = tmp_path / "export.jsonl"
    export(redis_client, settings, path)
    computed = lots(system, "settlement", "compute", "--events", str(path), "--month", "2022-05",
                    "--json")  # fmt: skip
    assert computed.returncode == 0, computed.stderr
    assert json.loads(computed.stdout)["digest"] == digest
    counselling = lots(system, "settlement", "compute", "--events", str(path), "--month",
                       "2022-05", "--programme", "counselling", "--json")  # fmt: skip
    document = json.loads(counselling.stdout)
    assert document["digest"] == announced["programme_digests"]["counselling"]
    assert (document["total_ore"], document["billable_hours"], document["fees_ore"]) == (
        680_625, "11.25", 220_000,
    )  # fmt: skip

    late = dict(held[0], id="7a0c2d8e-0000-4000-8000-000000000001")
    late["data"] = dict(late["data"], meeting_id="7a0c2d8e-0000-4000-8000-0000000000aa")
    redis_client.xadd(
        stream,
        {"type": "MeetingHeld", "version": "1", "id": late["id"], "data": json.dumps(late["data"])},
    )
    wait_until(
        lambda: bool(entries(redis_client, settings, "billing.events", "AdjustmentRecorded"))
    )
    [adjustment] = entries(redis_client, settings, "billing.events", "AdjustmentRecorded")
    assert (adjustment["month"], adjustment["belongs_to_month"]) == ("2022-06", "2022-05")
    assert adjustment["amount_ore"] == 45_375
    again = lots(system, "settlement", "show", "2022-05", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["digest"] == digest
    assert lots(system, "settlement", "replay", "2022-05").returncode == 0


def test_the_worked_example_through_the_lots_command() -> None:
    args = ["settlement", "compute", "--events", str(EXAMPLE), "--month", "2022-05",
            "--programme", "counselling", "--json"]  # fmt: skip
    runs = [
        subprocess.run([sys.executable, "-m", "lots.cli", *args], capture_output=True, text=True)
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    first, second = (json.loads(r.stdout) for r in runs)
    hourly = [line["amount_ore"] for line in first["lines"] if line["kind"] == "hourly"]
    assert sum(hourly) == 680_625
    assert (first["billable_hours"], first["fees_ore"]) == ("11.25", 220_000)
    assert first["digest"] == second["digest"]
    bad = subprocess.run(
        [sys.executable, "-m", "lots.cli", "settlement", "show", "2024-13"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2 and "month must be YYYY-MM" in bad.stderr
