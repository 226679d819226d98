"""Tokens for tests: the development tokens of the test's own var directory.

Every test has its own ``var_dir``, so its services make their own development tokens there
(:func:`infra.auth.dev_tokens`) and the test reads the same file. :class:`ByRoute` is for
clients that play everyone at once: it presents the publisher's token to the referral routes
and staff's to the others, as the people who normally call them would.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

import httpx
from fastapi import APIRouter, FastAPI

from infra.auth import Role, TokenRegistry, bearer_headers, dev_tokens, secure
from infra.settings import Settings


def token(settings: Settings, role: Role) -> str:
    return dev_tokens(settings)[role]


def headers(settings: Settings, role: Role) -> dict[str, str]:
    return bearer_headers(token(settings, role))


def api(settings: Settings, routers: Sequence[APIRouter]) -> FastAPI:
    """A service's routes alone (no runtime), behind the settings' tokens as when served."""
    app = FastAPI()
    for router in routers:
        app.include_router(router)
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
