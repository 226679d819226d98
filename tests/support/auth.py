"""Tokens for tests: the development tokens of the test's own var directory.

Every test has its own ``var_dir``, so its services make their own development tokens there
(:func:`infra.dev_tokens.dev_tokens`) and the test reads the same file. :class:`ByRoute` is for
clients that play everyone at once: it presents the publisher's token to the referral routes
and staff's to the others, as the people who normally call them would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from infra.application import ServiceApplication
from infra.auth import Role, TokenRegistry, secure
from infra.dev_tokens import bearer_headers, dev_tokens
from infra.http import answer_refusals
from infra.runtime import Runtime
from infra.service import build_http
from infra.settings import ServiceName, Settings
from services.billing.app import make_app as make_billing
from services.billing.app import routers as billing_routers
from services.intake.app import make_app as make_intake
from services.intake.http import routers as intake_routers
from services.scheduling.app import make_app as make_scheduling
from services.scheduling.http import routers as scheduling_routers


def token(settings: Settings, role: Role) -> str:
    return dev_tokens(settings)[role]


def headers(settings: Settings, role: Role) -> dict[str, str]:
    return bearer_headers(token(settings, role))


def api(settings: Settings, routers: Sequence[APIRouter]) -> FastAPI:
    """A service's routes alone (no runtime), behind the settings' tokens as when served."""
    app = FastAPI()
    for router in routers:
        app.include_router(router)
    answer_refusals(app)
    secure(app, TokenRegistry.from_settings(settings))
    return app


class ByRoute(httpx.Auth):
    """The publisher's token on ``/referrals...``, staff's everywhere else, unless the request
    carries an Authorization header of its own."""

    def __init__(self, settings: Settings) -> None:
        self.tokens = dev_tokens(settings)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" not in request.headers:
            publishing = request.url.path.startswith("/referrals")
            role = Role.PUBLISHER if publishing else Role.STAFF
            request.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        yield request


ROUTERS: dict[ServiceName, Callable[[ServiceApplication, Runtime], Sequence[APIRouter]]] = {
    "intake": intake_routers,
    "scheduling": scheduling_routers,
    "billing": billing_routers,
}
MAKE_APP: dict[ServiceName, Callable[[Settings], ServiceApplication]] = {
    "intake": make_intake,
    "scheduling": make_scheduling,
    "billing": make_billing,
}


@asynccontextmanager
async def served(
    settings: Settings, service: ServiceName, *, start: bool = False
) -> AsyncIterator[tuple[FastAPI, ServiceApplication]]:
    """A service's whole HTTP app as ``python -m services.<service>`` serves it, over a real
    store; its runtime (Redis consumers, relay) runs only when ``start`` is given."""
    app = MAKE_APP[service](settings)
    runtime = Runtime(service, app, settings, settings.redis_url)
    http = build_http(runtime, ROUTERS[service](app, runtime))
    if start:
        await runtime.start()
    try:
        yield http, app
    finally:
        if start:
            await runtime.stop()
        else:
            await runtime.redis.aclose()
        app.close()


def client(http: FastAPI, settings: Settings | None = None, role: Role | None = None) -> Any:
    """An httpx client of ``http`` in this process, with ``role``'s token if given."""
    given = headers(settings, role) if settings is not None and role is not None else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=http), base_url="http://lots", headers=given
    )
