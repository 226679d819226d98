"""``lots demo`` lives through a month on the embedded default and shows what it did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_settles_a_month_that_replays_and_recomputes_to_the_same_digest(
    tmp_path: Path,
) -> None:
    env = dict(os.environ)
    env.update(
        LOTS_VAR_DIR=str(tmp_path / "var"),
        LOTS_REDIS_URL="redis://127.0.0.1:1/0",  # nothing answers: the embedded Redis is used
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
    assert summary["meetings_held"] > 0 and summary["first_contacts_booked"] > 0
    settlement = summary["settlement"]
    assert settlement["total_ore"] > 0 and len(settlement["digest"]) == 64
    assert settlement["net_ore"] == settlement["total_ore"] - settlement["fees_ore"]
    assert summary["replay_matches"] is True
    assert summary["offline_digest_matches"] is True
    assert summary["service_levels"]["acknowledgements_past_due"] == 2
    work = summary["field_work"]  # Friday night walks with polare, priced from the demo's rates
    assert work["polare"] == 3 and work["night_walks"] >= 4 and work["polare_fees_ore"] > 0
    assert (tmp_path / "var" / "demo" / "export.jsonl").exists()
    assert (tmp_path / "var" / "demo" / "redis").is_dir(), "the embedded Redis kept its data there"
