"""Serving one service: its HTTP API (FastAPI, OpenAPI at /docs) around its runtime.

``serve()`` is what ``python -m services.<name>`` runs: it finds Redis (the one
``LOTS_REDIS_URL`` names, else the embedded one, started if need be) and says which in its log,
builds the service's application and runtime, and serves HTTP with uvicorn. The runtime starts
with the app's lifespan and stops, in order, on SIGTERM/SIGINT.
Every service has ``/health/live``, ``/health/ready`` (open to anyone), ``/counters`` and
``/metrics`` (operators); a service adds its own routers for its commands and queries, each route
declaring the roles that may call it (:mod:`infra.auth`).
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.application import ServiceApplication
from infra.auth import OPERATOR, TokenRegistry, secure
from infra.docs_ui import hoist_definitions, serve_docs
from infra.http import answer_refusals
from infra.http_input import install
from infra.logging import configure
from infra.process import tune_gc
from infra.redis_guard import announce, check
from infra.redis_passwords import login
from infra.redis_server import resolve_redis
from infra.runtime import Periodic, Runtime
from infra.settings import ServiceName, Settings

RouterFactory = Callable[[ServiceApplication, Runtime], Sequence[APIRouter]]
PeriodicFactory = Callable[[ServiceApplication, Settings], Sequence[Periodic]]


class BodyLimit:
    """Answer 413 to a request whose body is larger than ``limit`` bytes, before a route reads
    it whole: by its Content-Length when it has one, else by counting what arrives."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"the request body is larger than {self.limit} bytes"}, status_code=413
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(k, v) for k, v in response.raw_headers],
            }
        )
        await send({"type": "http.response.body", "body": response.body})


class _TooLarge(Exception):
    pass


def build_http(
    runtime: Runtime, routers: Sequence[APIRouter] = (), registry: TokenRegistry | None = None
) -> FastAPI:
    """The service's ASGI app: health, counters, metrics and the service's own routes, each
    behind the roles it declares (the tokens: ``registry``, else from the settings)."""
    registry = registry or TokenRegistry.from_settings(runtime.settings)
    http = FastAPI(
        title=f"lots {runtime.service}",
        description=f"The {runtime.service} service of lots.",
        version="1",
        lifespan=_lifespan(runtime),
        docs_url=None,  # served from the package by serve_docs, not from a CDN
        redoc_url=None,
    )
    _add_health(http, runtime)
    _add_operations(http, runtime)
    for router in routers:
        http.include_router(router)
    serve_docs(http)
    answer_refusals(http)  # each refusal answered with its class's status
    install(http)  # strict JSON, no echo of input in errors: inside the body limit
    http.add_middleware(BodyLimit, limit=runtime.settings.http_max_body_bytes)
    _document_bodies(http, runtime.settings.http_max_body_bytes)
    hoist_definitions(http)
    secure(http, registry)  # its gate is the outermost: no token, no further reading
    return http


def _lifespan(runtime: Runtime) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The runtime starts with the app and stops with it."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    return lifespan


def _add_health(http: FastAPI, runtime: Runtime) -> None:
    """``/health/live`` and ``/health/ready``, open to anyone."""

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


def _add_operations(http: FastAPI, runtime: Runtime) -> None:
    """``/counters`` and ``/metrics``, for operators."""

    @http.get("/counters", tags=["operations"], dependencies=OPERATOR)
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
            "loop_failures": c.loop_failures,
            "failing_loops": sorted(runtime.failing_loops),
        }

    @http.get(
        "/metrics",
        tags=["operations"],
        response_class=PlainTextResponse,
        dependencies=OPERATOR,
    )
    async def metrics() -> PlainTextResponse:
        """Prometheus exposition: counters, batch times, backlog, lag, pending, dead letters."""
        body = await runtime.metrics.render(runtime)
        return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)


def _document_bodies(http: FastAPI, limit: int) -> None:
    """Every operation that takes a body documents the answers to one it cannot read."""
    generate = http.openapi
    answers = {
        "400": {"description": "the body could not be read (not UTF-8, not parseable)"},
        "413": {"description": f"the body is larger than {limit} bytes"},
    }

    def openapi() -> dict[str, Any]:
        schema = generate()
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    for status, documented in answers.items():
                        operation.setdefault("responses", {}).setdefault(status, documented)
        return schema

    http.openapi = openapi  # type: ignore[method-assign]


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(
    service: ServiceName,
    make_app: Callable[[Settings], ServiceApplication],
    routers: RouterFactory | None = None,
    settings: Settings | None = None,
    periodic: PeriodicFactory | None = None,
) -> None:
    settings = settings or Settings()
    configure(settings.log_level, json=settings.log_json, service=service)
    registry = TokenRegistry.from_settings(settings)  # production without tokens stops here
    url, embedded = resolve_redis(settings)
    settings = login(settings, url, service)  # its own ACL user on the embedded Redis
    try:
        # production refuses a Redis anyone may write to; every start says which Redis it is
        announce(settings, url, check(settings, url, warn=False))
        app = make_app(settings)
        jobs = periodic(app, settings) if periodic else ()
        tune_gc()
        runtime = Runtime(service, app, settings, url, periodic=jobs)
        http = build_http(runtime, routers(app, runtime) if routers else (), registry)
        # uvicorn stops gracefully on SIGTERM, then raises it again once its own handler is
        # gone: without one of ours the process died there, leaving the embedded Redis it
        # started running, orphaned. Ours ends the process through the ``finally`` below.
        signal.signal(signal.SIGTERM, _stopped)
        try:
            uvicorn.run(
                http,
                host=settings.http_host,
                port=settings.port_of(service),
                log_config=None,  # its lines through ours (infra/logging.py): named, no polling
                lifespan="on",
            )
        finally:
            app.close()
    finally:
        if embedded is not None:
            embedded.stop()
