"""Settings of a long-running lots process itself (not of its work): how it collects garbage.

A service holds many long-lived objects (cached aggregates, a month's settlement with every
session booked on it, the queue's view) and makes short-lived ones by the thousand per batch.
With Python's default thresholds the collector ran a young collection every 700 allocations
and traversed the old objects again and again: 15-60 % of a batch's CPU time in the services,
about 10 % of a settlement replay (``docs/performance.md``). Collecting less often, with what
was loaded at start-up frozen out of the collector's way, gives that time back; garbage that
forms cycles lives a little longer.
"""

from __future__ import annotations

import gc

#: Young collections every 50,000 net allocations (not 700); the older generations as before.
THRESHOLDS = (50_000, 50, 100)


def tune_gc() -> None:
    """Freeze what start-up made and collect garbage less often (once per process)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
