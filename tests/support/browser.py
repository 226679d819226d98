"""Pages in a real headless browser (Debian's chromium, ``make browser``), and an app of ours
served over real HTTP in a thread so that the browser can reach it."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp

from tests.conftest import free_port
from tests.support.flow import wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (make test installs it when run as root)",
)


def browse(url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Chromium on ``url`` with no network but the page's own host: ``--dump-dom`` or
    ``--screenshot=...`` in ``args``."""
    assert CHROMIUM is not None, "chromium is required in CI"
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp / 'profile'}", "--window-size=1280,1400",
        "--virtual-time-budget=6000", *args, url,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp)


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """``app`` on a free local port (no lifespan), its base URL while the block runs."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="test-http", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
