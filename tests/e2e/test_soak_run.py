"""A very short soak (``make soak`` with faults) runs the whole system and passes its checks.

The soak itself is not part of ``make test`` (30 minutes by default); this runs it for 24
seconds of arrivals so that the script cannot fall behind the system it drives (it once posted
the roster without a token after the HTTP endpoints got theirs). Memory is not judged on so
short a run (a generous slack); nothing is timed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_soak_with_kills_and_a_redis_restart_passes_its_checks() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--minutes", "0.4", "--rate", "3",
         "--rss-slack-mb", "500"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for check in (
        "PASS  every referral answered exactly once",
        "PASS  every held meeting billed exactly once",
        "PASS  settlement equals a fault-free run",
        "PASS  every poison entry dead-lettered, none stalling",
        "PASS  no personal number or name in the services' log",
    ):
        assert check in done.stdout, done.stdout[-3000:]
    assert "killed" in done.stdout and "Redis restarted empty" in done.stdout
    assert "huge integer" in done.stdout and "NaN" in done.stdout  # poison was sent
