"""``python -m bench.run --quick`` completes and writes valid results (it times nothing here):
every part, the history's measures at both sizes among them; its scale-out part runs on
PostgreSQL to one digest, or says why it was skipped."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench.history_run import LABELS
from infra.settings import Settings
from tests.conftest import POSTGRES, free_port

ROOT = Path(__file__).resolve().parents[2]


def test_a_quick_benchmark_run_writes_every_part_with_exactly_once_effects(
    tmp_path: Path, redis_url: str
) -> None:
    out = tmp_path / "results.json"
    env = dict(os.environ, LOTS_REDIS_URL=redis_url, LOTS_EMBEDDED_REDIS="never")
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--referrals", "200",
         "--peer-referrals", "100", "--latency-seconds", "1", "--latency-cap", "100",
         "--replay-events", "3000", "--audit-events", "3000",
         "--out", str(out), "--work", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Pipeline" in done.stdout and "Replay" in done.stdout and "Audit" in done.stdout
    results = json.loads(out.read_text())
    assert set(results["references"]) == {"naive", "batched", "raw"}
    scaled = results["scale_out"]
    runs = [results["pipeline"]] + ([scaled["one"], scaled["two"]] if "two" in scaled else [])
    for run in runs:
        assert run["referrals"] == 200
        assert run["checks"]["exactly_once"] is True
        assert run["referrals_per_second"] > 0
    peer = results["fair_peer"]
    assert peer["referrals"] == 100 and peer["checks"]["exactly_once"] is True
    assert peer["checks"]["events_stored"]["billing"]["Session.Opened"] == 100
    assert "pipeline_vs_fair_peer" in results["ratios"]
    assert "fair peer: FastStream + eventsourcing" in done.stdout
    latency = results["latency"]
    for system, path in (("lots", "referral_to_answer"), ("lots", "held_to_session"),
                         ("fair_peer", "referral_to_answer")):  # fmt: skip
        for level in ("steady_50_per_s", "at_80_percent_of_max"):
            got = latency[system][path][level]
            assert got["samples"] >= 1 and 0 <= got["p50_ms"] <= got["p99_ms"]
    assert "referral → answer, lots, 50/s" in done.stdout
    assert results["replay"]["replay"]["matches"] is True
    assert results["replay"]["events_in_store"] >= 3000
    assert results["audit"]["case_events"] == 200
    assert results["floor"]["events"] == results["floor"]["referrals"] * 16
    assert "event store floor" in done.stdout
    assert len(results["replay"]["rounds"]["raw_scan_events_per_second"]) == 1  # --quick
    assert {"pipeline_vs_naive", "pipeline_vs_batched", "replay_vs_raw_scan"} <= set(
        results["ratios"]
    )
    assert set(results["targets_met"]) >= {"audit_p99", "replay_peak_rss"}
    assert "skipped" in scaled or "scale_out_faster" in results["targets_met"]
    history = results["history"]
    for years in ("1y", "10y"):
        assert set(history[years]["measures"]) == set(LABELS)
        assert all(value >= 0 for value in history[years]["measures"].values())
        assert set(history[years]["events"]) == {"intake", "scheduling", "billing"}
    assert set(history["ten_over_one"]) == set(history["met"]) == set(LABELS)
    assert "history_ten_over_one" in results["targets_met"]
    assert "lots settlement replay (a month), s" in done.stdout


def run_scale_out(tmp_path: Path, redis_url: str, **env: str) -> tuple[str, dict[str, Any]]:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--only", "scale-out", "--referrals", "60",
         "--out", str(out), "--work", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
        env=dict(os.environ, LOTS_REDIS_URL=redis_url, LOTS_EMBEDDED_REDIS="never", **env),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(out.read_text())["scale_out"]


@pytest.mark.postgres
def test_the_scale_out_runs_one_and_two_processes_per_service_on_postgresql_to_one_digest(
    postgres_settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    stdout, scaled = run_scale_out(tmp_path, redis_url)
    assert scaled["store"] == "postgres"
    assert (scaled["one"]["instances_per_service"], scaled["two"]["instances_per_service"]) == (
        1,
        2,
    )
    for run in (scaled["one"], scaled["two"]):
        assert run["checks"]["exactly_once"] is True and run["referrals_per_second"] > 0
    assert scaled["one"]["checks"]["digest"] == scaled["two"]["checks"]["digest"]
    assert re.fullmatch(r"[0-9a-f]{64}", scaled["digest"])
    assert f"the same digest {scaled['digest']}" in stdout
    assert "PostgreSQL, 2 processes per service" in stdout
    assert scaled["busy_cores_one"] >= 0 and scaled["cores"] >= 1  # tiny: CPU rounds to 0
    busy = f"kept {scaled['busy_cores_one']:.1f} of this machine's {scaled['cores']} cores"
    assert busy in stdout
    with psycopg.connect(**POSTGRES) as conn:  # type: ignore[arg-type]
        prefix = scaled["schemas"].rstrip("*")
        left = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,)
        )
        assert left.fetchone() == (0,), "each run's schemas are dropped"


def test_without_postgresql_the_scale_out_is_skipped_with_a_line_in_the_table(
    tmp_path: Path, redis_url: str
) -> None:
    stdout, scaled = run_scale_out(tmp_path, redis_url, LOTS_POSTGRES_PORT=str(free_port()))
    assert scaled["skipped"].startswith("PostgreSQL at 127.0.0.1:")
    assert "scale-out on PostgreSQL: skipped, PostgreSQL at 127.0.0.1:" in stdout
