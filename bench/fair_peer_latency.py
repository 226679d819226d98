"""The fair peer's referral → answer latency, open loop, as :mod:`bench.latency` measures the
pipeline's: a steady 50/s and 80 % of the peer's own measured maximum."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.fair_peer_run import Peers, open_run
from bench.latency import levels, measure, send_referrals
from bench.pipeline import Calendar, forget, last_id, referral, wait
from infra.monitor import drained
from infra.topology import INTAKE_EVENTS, REFERRALS


def run_peer_latency(
    redis_url: str,
    work: Path,
    *,
    referral_max: float,
    seconds: float,
    cap: int,
    seed: int = 2026,
    timeout: float = 600.0,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The fair peer's referral → answer at both load levels."""
    run, prefix, var, client = open_run(redis_url, work, "peer-latency")
    calendar = Calendar.last_month()
    rng = random.Random(seed)
    out: dict[str, Any] = {"seconds_per_level": seconds, "referral_to_answer": {}}
    peers = Peers(redis_url, prefix, var, var / "peer.log")
    try:
        peers.start(("intake", "scheduling", "billing"))
        offset = 0
        for name, rate, count in levels(referral_max, seconds, cap):
            echo(f"  latency, fair peer referral → answer: {count} referrals at {rate:,.0f}/s")
            entries = [referral(offset + n, run, calendar.opening, rng) for n in range(count)]
            offset += count
            after = last_id(client, prefix + INTAKE_EVENTS)
            sent = send_referrals(client, prefix + REFERRALS, entries, rate)
            result = measure(client, prefix + INTAKE_EVENTS, ("ReferralReceived",),
                             "referral_id", sent, after, timeout)  # fmt: skip
            out["referral_to_answer"][name] = {"rate_per_second": round(rate, 1), **result}
            wait(lambda: drained(client, prefix), timeout, "peer referrals consumed", every=0.1)
    finally:
        peers.stop()
        forget(client, prefix)
        client.close()
    shutil.rmtree(var, ignore_errors=True)
    return out
