"""``make bench``: how well lots does its job, side by side with the references, in one run.

Runs, on one Redis and one machine, one after the other so that the ratios hold on a noisy
machine:

1. the three references over three hops with N messages (:mod:`bench.references`);
2. the pipeline with N referrals, one process per service (:mod:`bench.pipeline`), and the
   event store's floor: what storing a referral's events costs with the library alone
   (:mod:`bench.floor`); and the fair peer, the same flow written as a careful FastStream +
   eventsourcing user would (:mod:`bench.fair_peer`, :mod:`bench.fair_peer_run`);
3. latency at a steady 50/s and at 80 % of the pipeline's measured maximum, open loop:
   referral → answer and held meeting → session, and the fair peer's referral → answer
   (:mod:`bench.latency`);
4. the pipeline on PostgreSQL with one and two processes per service, the same month settled to
   the same digest (scale-out, :mod:`bench.scale_out`; skipped without PostgreSQL);
5. a settlement replay over a million stored events against a raw scan (:mod:`bench.replay`);
6. ``lots audit case`` latency in a store of a million events (:mod:`bench.audit`);
7. flat cost over history: one year against ten years in the stores, each service's start-up
   and idle memory, ``lots status``, ``lots audit case``, closing and replaying a month, the
   watches at start (:mod:`bench.history`, :mod:`bench.history_run`).

Prints a table and writes ``bench/results.json``. ``python -m bench.run --help`` lists the
options; ``--quick`` is a short smoke run (about a minute and a half) with small numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis

from bench import audit, floor, history_run, references, scale_out
from bench.fair_peer_latency import run_peer_latency
from bench.fair_peer_run import run_fair_peer
from bench.latency import run_pipeline_latency
from bench.pipeline import free_port, run_pipeline
from bench.replay import run as run_replay
from infra.redis import external
from infra.redis_server import EmbeddedRedis, resolve_redis
from infra.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results.json"

#: The targets of issue 7 (the benchmark reports them; tests time nothing).
TARGETS = {
    "pipeline_vs_fair_peer": 3.0,  # issue 18 (moonshot 10x)
    "pipeline_vs_naive": 3.0,
    "pipeline_vs_batched": 0.5,
    "replay_vs_raw_scan": 0.6,
    "replay_peak_rss_mb": 250.0,
    "audit_p99_ms": 20.0,
    "referral_answer_p99_ms_at_50_per_s": 100.0,  # issue 18
    "scale_out_speedup": 1.0,
}


PARTS = ("references", "pipeline", "fair-peer", "latency", "scale-out", "replay", "audit",
         "history")  # fmt: skip


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--referrals", type=int, default=None,
                        help="N: referrals through the pipeline, and messages through each "
                             "reference (default 30000; --quick 400)")  # fmt: skip
    parser.add_argument("--peer-referrals", type=int, default=None,
                        help="referrals through the fair peer, which stores one message at a "
                             "time (default 5000; --quick 100)")  # fmt: skip
    parser.add_argument(
        "--latency-seconds",
        type=float,
        default=None,
        help="seconds of sending per latency level (default 20; --quick 1)",
    )
    parser.add_argument("--latency-cap", type=int, default=None,
                        help="at most this many sends per latency level (default 5000; "
                             "--quick 100)")  # fmt: skip
    parser.add_argument(
        "--replay-events",
        type=int,
        default=None,
        help="events stored in billing for the replay (default 1000000; --quick 5000)",
    )
    parser.add_argument(
        "--audit-events",
        type=int,
        default=None,
        help="events stored in intake for the audit (default 1000000; --quick 5000)",
    )
    parser.add_argument("--history-per-month", type=int, default=None,
                        help="referrals a month in the history part's one and ten years "
                             "(default 100; --quick 2)")  # fmt: skip
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short smoke run: small numbers, every part still run",
    )
    parser.add_argument("--only", action="append", default=None,
                        choices=["references", "pipeline", "fair-peer", "latency", "scale-out",
                                 "replay", "audit", "history"],
                        help="run only these parts (repeatable)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="directory for the stores (default: a temporary directory)",
    )
    parser.add_argument("--profile", type=Path, default=None,
                        help="record py-spy profiles of every service process during the "
                             "pipeline's timed segments into this directory")  # fmt: skip
    return with_defaults(parser.parse_args(argv))


def with_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """Every size not given: the full run's, or ``--quick``'s small one."""
    quick = args.quick
    args.referrals = args.referrals or (400 if quick else 30_000)
    args.peer_referrals = args.peer_referrals or (100 if quick else 5_000)
    args.latency_seconds = args.latency_seconds or (1.0 if quick else 20.0)
    args.latency_cap = args.latency_cap or (100 if quick else 5_000)
    args.replay_events = args.replay_events or (5_000 if quick else 1_000_000)
    args.audit_events = args.audit_events or (5_000 if quick else 1_000_000)
    args.history_per_month = args.history_per_month or (2 if quick else 100)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    parts = set(args.only or [*PARTS])
    settings = Settings(log_level="WARNING")
    if args.work is not None:
        Path(args.work).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="lots-bench-", dir=args.work))
    url, embedded = bench_redis(settings, work)
    started = time.monotonic()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(url),
        "parameters": {
            "referrals": args.referrals,
            "peer_referrals": args.peer_referrals,
            "latency_seconds_per_level": args.latency_seconds,
            "latency_cap_per_level": args.latency_cap,
            "replay_events": args.replay_events,
            "audit_events": args.audit_events,
            "quick": args.quick,
        },
        "targets": TARGETS,
    }
    try:
        run_parts(args, parts, url, work, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if embedded is not None:
            embedded.stop()
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["ratios"] = ratios(results)
    results["targets_met"] = verdicts(results)
    results["seconds"] = round(time.monotonic() - started, 1)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    parts_taken = ", ".join(f"{k} {v:.0f}" for k, v in results.get("part_seconds", {}).items())
    print(f"\nwrote {args.out} ({results['seconds']:.0f} s; {parts_taken})")
    return results


def bench_redis(settings: Settings, work: Path) -> tuple[str, EmbeddedRedis | None]:
    """The Redis the benchmark runs on: the one ``LOTS_REDIS_URL`` names, else a Redis of its
    own on a free port under ``work``, without the ACL (the benchmark's client reads and
    deletes streams as ``default``), named to every part and service process through
    ``LOTS_REDIS_URL``: never the developer's embedded Redis or its data in ``var/redis``."""
    if external(settings):
        return resolve_redis(settings, acl=False)
    own = EmbeddedRedis(free_port(), work / "redis")
    own.start()
    os.environ["LOTS_REDIS_URL"] = own.url
    return own.url, own


def run_parts(
    args: argparse.Namespace, parts: set[str], url: str, work: Path, results: dict[str, Any]
) -> None:
    """Run the chosen parts in order into ``results``; each part's wall time goes into
    ``results["part_seconds"]`` (to keep ``--quick`` near a minute)."""
    say = _echo
    spent: dict[str, float] = results.setdefault("part_seconds", {})
    clock = time.monotonic()

    def lap(part: str) -> None:
        nonlocal clock
        spent[part] = round(time.monotonic() - clock, 1)
        clock = time.monotonic()

    if "references" in parts:
        say(f"references: {args.referrals} messages over three hops")
        results["references"] = run_references(url, args.referrals, work)
        lap("references")
    if "pipeline" in parts:
        say(f"pipeline: {args.referrals} referrals, one process per service")
        one = run_pipeline(url, args.referrals, work, instances=1, profile=args.profile,
                           echo=say)  # fmt: skip
        results["pipeline"] = one.as_dict()
        results["floor"] = run_floor(work / "floor", quick=args.quick)
        lap("pipeline")
    if "fair-peer" in parts:
        say(f"fair peer: {args.peer_referrals} referrals, one save per message")
        results["fair_peer"] = run_fair_peer(url, args.peer_referrals, work, echo=say)
        lap("fair-peer")
    if "latency" in parts:
        results["latency"] = run_latency(url, work, args, results)
        lap("latency")
    if "scale-out" in parts:
        say(f"scale-out: {args.referrals} referrals on PostgreSQL, 1 then 2 per service")
        results["scale_out"] = scale_out.run(url, args.referrals, work, profile=args.profile,
                                             echo=say)  # fmt: skip
        lap("scale-out")
    if "replay" in parts:
        say(f"replay: billing's store filled to {args.replay_events} events")
        results["replay"] = run_replay(work / "replay", args.replay_events, echo=say,
                                       rounds=1 if args.quick else 3)  # fmt: skip
        lap("replay")
    if "audit" in parts:
        say(f"audit: intake's store filled to {args.audit_events} events")
        (work / "audit").mkdir()
        results["audit"] = audit.run(work / "audit", args.audit_events)
        lap("audit")
    if "history" in parts:
        say(f"history: one year and ten years of {args.history_per_month} referrals a month")
        results["history"] = history_run.run(work / "history", args.history_per_month, url,
                                             echo=say, repeats=1 if args.quick else 3,
                                             idle_seconds=0.5 if args.quick else 2.0)  # fmt: skip
        lap("history")


def _echo(line: str) -> None:
    print(line, flush=True)


def machine(url: str) -> dict[str, Any]:
    client = redis.Redis.from_url(url)
    try:
        info = client.info("server")
    finally:
        client.close()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "redis": str(info.get("redis_version")),
        "redis_url": url,
        # Another busy process skews a 2-core machine: the 1, 5 and 15 minute load averages.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run_references(url: str, count: int, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    runs: dict[str, Callable[[], Any]] = {
        "raw": lambda: references.raw(url, count),
        "batched": lambda: references.batched(url, count, work),
        "naive": lambda: references.naive(url, count),
    }
    for name, make in runs.items():
        rate = asyncio.run(make())
        out[name] = {"messages": count, "per_second": round(rate, 1)}
        _echo(f"  {name}: {rate:,.0f} messages/s")
    return out


def run_latency(
    url: str, work: Path, args: argparse.Namespace, results: dict[str, Any]
) -> dict[str, Any]:
    """Open-loop latency at 50/s and at 80 % of the maxima this run measured (the pipeline's
    segments; the fair peer's first segment); without a pipeline run, one is made first."""
    if "pipeline" not in results:
        _echo(f"latency: measuring the maximum first ({args.referrals} referrals)")
        results["pipeline"] = run_pipeline(url, args.referrals, work, echo=_echo).as_dict()
    run = results["pipeline"]
    _echo(f"latency: open loop, {args.latency_seconds:g} s per level")
    seconds, cap = args.latency_seconds, args.latency_cap
    lots = run_pipeline_latency(url, work, referral_max=run["segment1_per_second"],
                                held_max=run["segment2_per_second"], seconds=seconds, cap=cap,
                                echo=_echo)  # fmt: skip
    out: dict[str, Any] = {"lots": lots}
    peer = results.get("fair_peer")
    if peer is not None:
        out["fair_peer"] = run_peer_latency(url, work, referral_max=peer["segment1_per_second"],
                                            seconds=seconds, cap=cap, echo=_echo)  # fmt: skip
    return out


def run_floor(var: Path, *, quick: bool) -> dict[str, Any]:
    """The library's save path alone for a referral's events: the best of three runs (one
    with ``quick``)."""
    runs = [floor.run(var / str(n), referrals=600 if quick else 6_000)
            for n in range(1 if quick else 3)]  # fmt: skip
    best = min(runs, key=lambda r: r["cpu_us_per_referral"])
    cpus = os.cpu_count() or 1
    ceiling = cpus / (best["cpu_us_per_referral"] / 1e6)
    _echo(
        f"  event store floor: {best['cpu_us_per_referral']} µs of CPU per referral "
        f"({best['cpu_us_per_event']} µs per event): at most {ceiling:,.0f} referrals/s "
        f"on {cpus} cores"
    )
    return {**best, "runs": runs, "cpus": cpus, "ceiling_referrals_per_second": round(ceiling)}


def ratios(results: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    refs = results.get("references", {})
    for key in ("pipeline", "scale_out_one", "scale_out", "fair_peer"):
        run = run_of(results, key)
        if run is None:
            continue
        for ref in ("naive", "batched", "raw"):
            if ref in refs:
                out[f"{key}_vs_{ref}"] = round(
                    run["referrals_per_second"] / refs[ref]["per_second"], 3
                )
    peer = results.get("fair_peer")
    for key in ("pipeline", "scale_out_one", "scale_out"):
        run = run_of(results, key)
        if peer is not None and run is not None:
            out[f"{key}_vs_fair_peer"] = round(
                run["referrals_per_second"] / peer["referrals_per_second"], 3
            )
    if "speedup" in results.get("scale_out", {}):  # on PostgreSQL, 2 against 1 per service
        out["scale_out_speedup"] = results["scale_out"]["speedup"]
    if "replay" in results:
        out["replay_vs_raw_scan"] = results["replay"]["ratio"]
    if "floor" in results and "naive" in refs:
        out["floor_ceiling_vs_naive"] = round(
            results["floor"]["ceiling_referrals_per_second"] / refs["naive"]["per_second"], 3
        )
    return out


def _times(ratios: dict[str, float], key: str) -> str:
    """A ratio for the table; ``-`` when what it compares with did not run (``--only``)."""
    return f"{ratios[key]:.2f}" if key in ratios else "-"


def run_of(results: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A pipeline run by its key: the scale-out's two (``scale_out_one``, ``scale_out``) are
    inside its part's result."""
    if key in ("scale_out_one", "scale_out"):
        found = results.get("scale_out", {}).get("one" if key == "scale_out_one" else "two")
    else:
        found = results.get(key)
    return None if found is None else dict(found)


def verdicts(results: dict[str, Any]) -> dict[str, bool]:
    r = results["ratios"]
    met: dict[str, bool] = {}
    if "pipeline_vs_fair_peer" in r:
        target = TARGETS["pipeline_vs_fair_peer"]
        met["pipeline_vs_fair_peer"] = r["pipeline_vs_fair_peer"] >= target
        # issue 18: never below the naive relay
        if "pipeline_vs_naive" in r:
            met["pipeline_not_below_naive"] = r["pipeline_vs_naive"] >= 1.0
    if "pipeline_vs_naive" in r:
        met["pipeline_vs_naive"] = r["pipeline_vs_naive"] >= TARGETS["pipeline_vs_naive"]
    if "pipeline_vs_batched" in r:
        met["pipeline_vs_batched"] = r["pipeline_vs_batched"] >= TARGETS["pipeline_vs_batched"]
    if "scale_out_speedup" in r:
        met["scale_out_faster"] = r["scale_out_speedup"] > TARGETS["scale_out_speedup"]
    if "replay" in results:
        met["replay_vs_raw_scan"] = r["replay_vs_raw_scan"] >= TARGETS["replay_vs_raw_scan"]
        rss = results["replay"]["replay"]["peak_rss_mb"]
        met["replay_peak_rss"] = rss <= TARGETS["replay_peak_rss_mb"]
    steady = results.get("latency", {}).get("lots", {}).get("referral_to_answer", {})
    if "steady_50_per_s" in steady:
        met["referral_answer_p99_at_50_per_s"] = (
            steady["steady_50_per_s"]["p99_ms"] <= TARGETS["referral_answer_p99_ms_at_50_per_s"]
        )
    if "audit" in results:
        met["audit_p99"] = results["audit"]["p99_ms"] <= TARGETS["audit_p99_ms"]
    if "history" in results:
        met["history_ten_over_one"] = results["history"]["target_met"]
    return met


def table(results: dict[str, Any]) -> str:
    m = results["machine"]
    rows = [
        "",
        f"lots benchmark, {results['started_at']}: Python {m['python']}, {m['cpus']} CPUs, "
        f"Redis {m['redis']}",
    ]
    met = results["targets_met"]

    def verdict(key: str) -> str:
        return "" if key not in met else ("met" if met[key] else "MISSED")

    if any(part in results for part in ("references", "pipeline", "fair_peer", "scale_out")):
        rows += pipeline_rows(results, verdict)
    if "latency" in results:
        rows += latency_rows(results, verdict)
    if "replay" in results:
        rp = results["replay"]
        rows += [
            "",
            f"Replay of {rp['month']} over {rp['events_in_store']:,} stored events",
            f"  settlement replay {rp['replay']['events_per_second']:>10,} events/s "
            f"in {rp['replay']['seconds']:.1f} s, peak RSS {rp['replay']['peak_rss_mb']:.0f} MB",
            f"  raw scan + json   {rp['raw_scan']['events_per_second']:>10,} events/s "
            f"in {rp['raw_scan']['seconds']:.1f} s",
            f"  ratio {rp['ratio']:.2f} (target >= {TARGETS['replay_vs_raw_scan']}) "
            f"{verdict('replay_vs_raw_scan')}; peak RSS target <= "
            f"{TARGETS['replay_peak_rss_mb']:.0f} MB {verdict('replay_peak_rss')}",
        ]
    if "audit" in results:
        a = results["audit"]
        rows += [
            "",
            f"Audit: a case of {a['case_events']} events in a store of "
            f"{a['events_in_store']:,} events",
            f"  p50 {a['p50_ms']:.2f} ms, p99 {a['p99_ms']:.2f} ms "
            f"(target p99 <= {TARGETS['audit_p99_ms']:.0f} ms) {verdict('audit_p99')}",
        ]
    if "history" in results:
        rows += history_run.rows(results["history"])
    return "\n".join(rows)


def pipeline_rows(results: dict[str, Any], verdict: Callable[[str], str]) -> list[str]:
    """The pipeline's part of the table: lots, the fair peer, the references, the floor."""
    refs = results.get("references", {})
    r = results["ratios"]
    n = results["parameters"]["referrals"]
    rows = ["", f"Pipeline: {n:,} referrals (references: {n:,} messages; fair peer: "
            f"{results['parameters'].get('peer_referrals', 0):,} referrals), three hops",
            f"  {'':42} {'per s':>9} {'x peer':>7} {'x naive':>8} {'x batched':>10} "
            f"{'x raw':>7}"]  # fmt: skip
    for key, label in (("pipeline", "lots, 1 process per service"),
                       ("scale_out_one", "PostgreSQL, 1 process per service"),
                       ("scale_out", "PostgreSQL, 2 processes per service"),
                       ("fair_peer", "fair peer: FastStream + eventsourcing")):  # fmt: skip
        run = run_of(results, key)
        if run is None:
            continue
        rows.append(
            f"  {label:42} {run['referrals_per_second']:>9,.0f} "
            f"{'1.00' if key == 'fair_peer' else _times(r, f'{key}_vs_fair_peer'):>7} "
            f"{_times(r, f'{key}_vs_naive'):>8} {_times(r, f'{key}_vs_batched'):>10} "
            f"{_times(r, f'{key}_vs_raw'):>7}"
        )
        rows.append(
            f"    referrals → cases {run['segment1_referrals_to_cases_seconds']:.1f} s "
            f"({run['segment1_per_second']:,.0f}/s), held meetings → sessions "
            f"{run['segment2_held_to_sessions_seconds']:.1f} s "
            f"({run['segment2_per_second']:,.0f}/s); exactly once: "
            f"{run['checks']['exactly_once']}"
        )
    for name, label in (("naive", "naive FastStream relay (no store)"),
                        ("batched", "batched relay, one save per batch"),
                        ("raw", "raw redis-py, pipelined (the limit)")):  # fmt: skip
        if name in refs:
            rows.append(f"  {label:42} {refs[name]['per_second']:>9,.0f}")
    return rows + target_rows(results, verdict)


def target_rows(results: dict[str, Any], verdict: Callable[[str], str]) -> list[str]:
    """The pipeline's targets, the scale-out's and the event store's floor, under its table."""
    r = results["ratios"]
    rows = []
    if "pipeline_vs_fair_peer" in r:
        rows.append(
            f"  targets: >= {TARGETS['pipeline_vs_fair_peer']}x the fair peer (moonshot 10x) "
            f"{verdict('pipeline_vs_fair_peer')}, never below naive "
            f"{verdict('pipeline_not_below_naive')}"
        )
    if "pipeline_vs_naive" in r:
        rows.append(
            f"  targets: >= {TARGETS['pipeline_vs_naive']}x naive {verdict('pipeline_vs_naive')}"
            f", >= {TARGETS['pipeline_vs_batched']}x batched {verdict('pipeline_vs_batched')}"
        )
    if "scale_out_speedup" in r:
        rows.append(
            f"  scale-out on PostgreSQL: 2 processes per service {r['scale_out_speedup']:.2f}x "
            f"one (target: faster) {verdict('scale_out_faster')}; the same digest "
            f"{results['scale_out']['digest']}"
        )
        scaled = results["scale_out"]
        rows.append(
            f"    one process per service kept {scaled['busy_cores_one']:.1f} of this machine's "
            f"{scaled['cores']} cores busy (its services' CPU over the timed segments; Redis and "
            "PostgreSQL on top): a second process per service is faster only with cores to spare"
        )
    elif "skipped" in results.get("scale_out", {}):
        rows.append(f"  scale-out on PostgreSQL: skipped, {results['scale_out']['skipped']}")
    if "floor" in results:
        f = results["floor"]
        versus = r.get("floor_ceiling_vs_naive")
        rows.append(
            f"  event store floor: {f['cpu_us_per_referral']:,} µs CPU per referral "
            f"(16 events, eventsourcing + SQLite alone) -> at most "
            f"{f['ceiling_referrals_per_second']:,}/s on {f['cpus']} cores"
            + (f" = {versus:.2f}x naive" if versus is not None else "")
        )
        if "pipeline" in results:
            share = results["pipeline"]["referrals_per_second"] / f["ceiling_referrals_per_second"]
            rows.append(f"    the pipeline runs at {share:.2f} of that ceiling")
    return rows


def latency_rows(results: dict[str, Any], verdict: Callable[[str], str]) -> list[str]:
    """The latency part of the table: each path, system and level."""
    p = results["parameters"]
    rows = ["", f"Latency, open loop: {p['latency_seconds_per_level']:g} s of sending per level "
            f"(at most {p['latency_cap_per_level']:,}), from the scheduled send to the answer "
            "on Redis",
            f"  {'':46} {'rate/s':>7} {'answered/s':>10} {'p50 ms':>8} {'p99 ms':>8}"]  # fmt: skip
    paths = (("lots", "referral_to_answer", "referral → answer, lots"),
             ("lots", "held_to_session", "held (HTTP) → session, lots"),
             ("fair_peer", "referral_to_answer", "referral → answer, fair peer"))  # fmt: skip
    for system, path, label in paths:
        for level, name in (("steady_50_per_s", "50/s"), ("at_80_percent_of_max", "80 % max")):
            got = results["latency"].get(system, {}).get(path, {}).get(level)
            if got is None:
                continue
            answered = got["answered_per_second"] or 0
            rows.append(
                f"  {label + ', ' + name:46} {got['rate_per_second']:>7,.0f} {answered:>10,.0f} "
                f"{got['p50_ms']:>8,.0f} {got['p99_ms']:>8,.0f}"
            )
            part = got.get("meeting_held_published_to_session")
            if part is not None:
                rows.append(f"    {'of which MeetingHeld on Redis → session':55} "
                            f"{part['p50_ms']:>8,.0f} {part['p99_ms']:>8,.0f}")  # fmt: skip
    target = TARGETS["referral_answer_p99_ms_at_50_per_s"]
    rows.append(
        f"  target: referral → answer p99 <= {target:.0f} ms at 50/s "
        f"{verdict('referral_answer_p99_at_50_per_s')}"
    )
    return rows


if __name__ == "__main__":
    main()
