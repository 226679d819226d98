"""``lots demo`` lives through a month on the embedded default and shows what it did."""

from __future__ import annotations

import itertools
import json
import os
import shlex
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_settles_a_month_that_replays_and_recomputes_to_the_same_digest(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LOTS_REDIS_URL"}  # the embedded one
    env.update(
        LOTS_VAR_DIR=str(tmp_path / "var"),
        LOTS_EMBEDDED_REDIS_PORT=str(free_port()),
        **{f"LOTS_{s.upper()}_PORT": str(free_port()) for s in ("intake", "scheduling", "billing")},
    )
    done = subprocess.run(
        [sys.executable, "-m", "lots.cli", "demo", "--referrals", "30", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["published"] == 32
    assert sum(summary["answered"].values()) == 30
    assert len(summary["dead_letters"]) == 1
    rejected = summary["answered"].get("ReferralRejected", 0)  # referrals counted, not reasons
    assert rejected > 0 and max(summary["rejection_reasons"].values()) <= rejected
    assert summary["meetings_held"] > 0 and summary["first_contacts_booked"] > 0
    settlement = summary["settlement"]
    assert settlement["total_ore"] > 0 and len(settlement["digest"]) == 64
    assert settlement["net_ore"] == settlement["total_ore"] - settlement["fees_ore"]
    assert summary["replay_matches"] is True
    assert summary["offline_digest_matches"] is True
    assert summary["service_levels"]["acknowledgements_past_due"] == 2
    work = summary["field_work"]  # Friday night walks with polare, priced from the demo's rates
    assert work["polare"] == 3 and work["night_walks"] >= 4 and work["polare_fees_ore"] > 0
    export = tmp_path / "var" / "demo" / "export.jsonl"
    held: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for line in export.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["type"] == "MeetingHeld":
            data = event["data"]
            for staff_id in data["staff"]:
                held[staff_id].append(
                    (
                        datetime.fromisoformat(data["started_at"]),
                        datetime.fromisoformat(data["ended_at"]),
                    )
                )
    assert sum(len(spans) for spans in held.values()) >= summary["meetings_held"]
    for staff_id, spans in held.items():  # one meeting at a time per staff member
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), staff_id
    assert isinstance(summary["meetings_started_late"], int)
    assert (tmp_path / "var" / "demo" / "redis").is_dir(), "the embedded Redis kept its data there"

    # The demo ends by saying how to inspect its stores; what it prints runs, as printed.
    commands = summary["inspect"]
    assert [c.split(" lots ")[1].split()[:2] for c in commands] == [
        ["status"],
        ["audit", "verify"],
        ["audit", "case"],
    ]
    outputs = [run_as_printed(command, env) for command in commands]
    status, verify, case = outputs
    assert status.returncode == 1, status.stdout + status.stderr  # the services have stopped
    counts = {s: sum(t.values()) for s, t in summary["stored_events"].items()}
    for service, events in counts.items():  # the demo's stores, not empty new ones
        assert any(
            line.split()[:1] == [service] and line.split()[3] == str(events)
            for line in status.stdout.splitlines()
        ), status.stdout
    assert verify.returncode == 0, verify.stdout + verify.stderr
    case_id = commands[2].split(" lots audit case ")[1].split()[0]
    assert case.returncode == 0, case.stdout + case.stderr  # 1: no events in these stores
    assert case.stdout.count(case_id) >= 2 and "intake" in case.stdout, case.stdout


def run_as_printed(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``command`` as a shell runs it: its ``NAME=value`` words set the environment."""
    words = shlex.split(command)
    settings = dict(w.split("=", 1) for w in itertools.takewhile(lambda w: "=" in w, words))
    argv = words[len(settings) :]
    assert argv[0] == "lots", command
    lots = str(Path(sys.executable).parent / "lots")
    return subprocess.run(
        [lots, *argv[1:]], cwd=ROOT, env=env | settings, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
