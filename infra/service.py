"""Serving one service: the FastStream ASGI app with health routes around its runtime.

``serve()`` is what ``python -m services.<name>`` runs: it finds Redis (starting the embedded
one if allowed and needed), builds the service's application, starts the runtime when the ASGI
app starts, and shuts everything down in order on SIGTERM/SIGINT.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.redis import RedisBroker

from infra.application import ServiceApplication
from infra.logging import configure
from infra.redis import resolve_redis
from infra.runtime import Runtime
from infra.settings import ServiceName, Settings


def _json(body: dict[str, Any], status: int = 200) -> AsgiResponse:
    return AsgiResponse(
        json.dumps(body).encode(), status_code=status, headers={"content-type": "application/json"}
    )


def build_asgi(
    runtime: Runtime, redis_url: str, extra_routes: Sequence[tuple[str, Any]] = ()
) -> AsgiFastStream:
    """The service's ASGI app: its broker, liveness, readiness and any routes of its own."""

    @get
    async def live(scope: Any) -> AsgiResponse:
        return _json({"service": runtime.service, "live": True})

    @get
    async def ready(scope: Any) -> AsgiResponse:
        checks = await runtime.readiness()
        return _json({"service": runtime.service, **checks}, 200 if checks["ready"] else 503)

    @get
    async def counters(scope: Any) -> AsgiResponse:
        c = runtime.counters
        return _json(
            {
                "service": runtime.service,
                "processed": c.processed,
                "dead_lettered": c.dead_lettered,
                "published": c.published,
                "reclaimed": c.reclaimed,
                "recoveries": c.recoveries,
                "failing": len(c.errors),
            }
        )

    return AsgiFastStream(
        RedisBroker(redis_url),
        asgi_routes=[
            ("/health/live", live),
            ("/health/ready", ready),
            ("/counters", counters),
            *extra_routes,
        ],
        on_startup=[runtime.start],
        after_shutdown=[runtime.stop],
    )


def serve(
    service: ServiceName,
    make_app: Callable[[Settings], ServiceApplication],
    settings: Settings | None = None,
    **runtime_options: Any,
) -> None:
    settings = settings or Settings()
    configure(settings.log_level, json=settings.log_json)
    url, embedded = resolve_redis(settings)
    try:
        app = make_app(settings)
        runtime = Runtime(service, app, settings, url, **runtime_options)
        asgi = build_asgi(runtime, url)
        uvicorn.run(
            asgi,
            host=settings.http_host,
            port=settings.port_of(service),
            log_level="warning",
            lifespan="on",
        )
        app.close()
    finally:
        if embedded is not None:
            embedded.stop()
