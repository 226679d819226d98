"""The services' clock: real time, or in development a simulated time that runs from a start.

``LOTS_SIMULATED_START`` lets the demo (and a person trying the system) live through a past
month: the clock starts there when the process starts and runs at the normal pace. Production
refuses it. Business rules never read a clock themselves; applications pass them the time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from infra.settings import Settings

Clock = Callable[[], datetime]


def real_clock() -> datetime:
    return datetime.now(UTC)


def make_clock(settings: Settings) -> Clock:
    start = settings.simulated_start
    if start is None:
        return real_clock
    began = time.monotonic()

    def simulated() -> datetime:
        return (start + timedelta(seconds=time.monotonic() - began)).astimezone(UTC)

    return simulated
