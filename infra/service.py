"""Serving one service: its HTTP API (FastAPI, OpenAPI at /docs) around its runtime.

``serve()`` is what ``python -m services.<name>`` runs: it finds Redis (starting the embedded
one if allowed and needed), builds the service's application and runtime, and serves HTTP with
uvicorn. The runtime starts with the app's lifespan and stops, in order, on SIGTERM/SIGINT.
Every service has ``/health/live``, ``/health/ready`` and ``/counters``; a service adds its own
routers for its commands and queries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from infra.application import ServiceApplication
from infra.logging import configure
from infra.process import tune_gc
from infra.redis import login, resolve_redis
from infra.runtime import Periodic, Runtime
from infra.settings import ServiceName, Settings

RouterFactory = Callable[[ServiceApplication, Runtime], Sequence[APIRouter]]
PeriodicFactory = Callable[[ServiceApplication, Settings], Sequence[Periodic]]


def build_http(runtime: Runtime, routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The service's ASGI app: health, counters and the service's own routes."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    http = FastAPI(
        title=f"lots {runtime.service}",
        description=f"The {runtime.service} service of lots.",
        version="1",
        lifespan=lifespan,
    )

    @http.get("/health/live", tags=["health"])
    async def live() -> dict[str, Any]:
        """The process is up."""
        return {"service": runtime.service, "live": True}

    @http.get("/health/ready", tags=["health"], responses={503: {"description": "not ready"}})
    async def ready() -> JSONResponse:
        """Redis and the store answer and the consuming, reclaiming and relaying loops run."""
        checks = await runtime.readiness()
        return JSONResponse(
            {"service": runtime.service, **checks}, status_code=200 if checks["ready"] else 503
        )

    @http.get("/counters", tags=["health"])
    async def counters() -> dict[str, Any]:
        """What this process has moved since it started."""
        c = runtime.counters
        return {
            "service": runtime.service,
            "processed": c.processed,
            "dead_lettered": c.dead_lettered,
            "published": c.published,
            "reclaimed": c.reclaimed,
            "recoveries": c.recoveries,
            "failing": len(c.errors),
        }

    @http.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        """Prometheus exposition: counters, batch times, backlog, lag, pending, dead letters."""
        body = await runtime.metrics.render(runtime)
        return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        http.include_router(router)
    return http


def serve(
    service: ServiceName,
    make_app: Callable[[Settings], ServiceApplication],
    routers: RouterFactory | None = None,
    settings: Settings | None = None,
    periodic: PeriodicFactory | None = None,
) -> None:
    settings = settings or Settings()
    configure(settings.log_level, json=settings.log_json)
    url, embedded = resolve_redis(settings)
    settings = login(settings, url, service)  # its own ACL user on the embedded Redis
    try:
        app = make_app(settings)
        jobs = periodic(app, settings) if periodic else ()
        tune_gc()
        runtime = Runtime(service, app, settings, url, periodic=jobs)
        http = build_http(runtime, routers(app, runtime) if routers else ())
        uvicorn.run(
            http,
            host=settings.http_host,
            port=settings.port_of(service),
            log_level="warning",
            lifespan="on",
        )
        app.close()
    finally:
        if embedded is not None:
            embedded.stop()
