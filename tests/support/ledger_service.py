"""``python -m tests.support.ledger_service``: one ledger hop as its own process.

LEDGER_NAME, LEDGER_INPUT and LEDGER_OUTPUT say which hop; the rest is ordinary LOTS_ settings.
"""

from __future__ import annotations

import asyncio
import os
import signal

from infra.logging import configure
from infra.runtime import Runtime
from infra.settings import Settings
from tests.support.ledger import make_ledger


async def main() -> None:
    settings = Settings()
    configure(settings.log_level)
    name = os.environ["LEDGER_NAME"]
    app = make_ledger(settings, name, os.environ["LEDGER_OUTPUT"])
    runtime = Runtime(
        "billing",
        app,
        settings,
        settings.redis_url,
        consumes=(os.environ["LEDGER_INPUT"],),
        publishes=os.environ["LEDGER_OUTPUT"],
        group=name,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    await stop.wait()
    await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main())
