"""The status page of the embedded default: one HTML page that refreshes itself.

``lots up`` serves it (``LOTS_STATUS_PORT``, 8100): the services' health, stores and outboxes,
the streams with lag, pending entries and dead letters, the Redis master with its replicas' lag
and the last failover, the service-level figures (the queue and
wait times among them), and charts over time of throughput, lag and the service levels. A sampler
thread reads :func:`lots.status.collect` every few seconds and keeps the last hour in memory; the
page fetches ``/status.json`` and draws with inline SVG: no external resources. The charts have
a time axis, and every time is shown in Stockholm time with the zone named; counts and
percentages are drawn apart. When Redis does not answer, the page says so where the streams
would be.

The page itself holds no data and is open; ``/status.json`` needs an operator token, which the
page takes from the link's fragment (``#token=...``, never sent to the server) or from a form
on the page, and keeps in the browser tab's session storage only. ``lots up`` prints the link
with the development operator token.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from infra.auth import OPERATOR, Role, TokenRegistry, secure
from infra.dev_tokens import client_token
from infra.settings import Settings
from lots.status import collect

log = structlog.get_logger(__name__)
PAGE = Path(__file__).with_name("statuspage.html")


class Sampler:
    """Keeps the latest status and a time series of throughput, lag and service levels."""

    def __init__(self, settings: Settings, interval: float = 5.0, keep: int = 720) -> None:
        self.settings = settings
        self.interval = interval
        self.latest: dict[str, Any] = {}
        self.series: deque[dict[str, Any]] = deque(maxlen=keep)
        self._stop = threading.Event()
        self._previous: tuple[float, dict[str, int]] | None = None

    def sample(self) -> None:
        report = collect(self.settings)
        now = time.time()
        stored = {s: v["events_stored"] for s, v in report["services"].items()}
        throughput = {s: 0.0 for s in stored}
        if self._previous is not None:
            then, before = self._previous
            elapsed = max(now - then, 1e-6)
            throughput = {s: max(0, n - before.get(s, 0)) / elapsed for s, n in stored.items()}
        self._previous = (now, stored)
        lag = {
            f"{r['group']} ← {r['stream']}": r["lag"] + r["pending"]
            for r in report["streams"]
            if r.get("exists")
        }
        levels = report["service_levels"]
        self.series.append(
            {
                "t": now,
                "throughput": throughput,
                "lag": lag,
                # counts and percentages on charts of their own: one axis cannot show both
                "counts": {k: v for k, v in levels.items() if not k.endswith("_percent")},
                "percentages": {k: v for k, v in levels.items() if k.endswith("_percent")},
            }
        )
        self.latest = report

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample()
            except Exception:
                log.exception("status sample failed")
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()


def build(sampler: Sampler, registry: TokenRegistry) -> FastAPI:
    page = FastAPI(title="lots status", docs_url=None, redoc_url=None)

    @page.get("/", response_class=HTMLResponse)
    def index() -> str:
        return PAGE.read_text(encoding="utf-8")

    @page.get("/status.json", dependencies=OPERATOR)
    def status_json() -> dict[str, Any]:
        return {"latest": sampler.latest, "series": list(sampler.series)}

    secure(page, registry, open_paths={"/"})
    return page


class StatusPage:
    """The sampler and the page's HTTP server, each in a thread of the calling process."""

    def __init__(self, settings: Settings, port: int, interval: float = 5.0) -> None:
        self.sampler = Sampler(settings, interval)
        page = build(self.sampler, TokenRegistry.from_settings(settings))
        config = uvicorn.Config(  # its errors through our logging; its requests are polling
            page, host=settings.http_host, port=port, log_level="warning", log_config=None,
            access_log=False,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.url = f"http://{settings.http_host}:{port}/"
        #: The page's address with the development operator token (in the fragment), or
        #: without one when tokens are configured: the page then asks for one.
        self.link = self.url
        if not settings.api_tokens and settings.env != "production":
            self.link = f"{self.url}#token={client_token(settings, Role.OPERATOR)}"
        self._threads = [
            threading.Thread(target=self.sampler.run, name="status-sampler", daemon=True),
            threading.Thread(target=self.server.run, name="status-page", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.sampler.stop()
        self.server.should_exit = True
        for thread in self._threads:
            thread.join(timeout=10)
