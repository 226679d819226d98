"""Who may call what over HTTP: bearer tokens with a role, checked on every route.

Four roles (docs/security.md has the table of which role may call which route):

* ``publisher``: a municipal system; bound to one or more referral ``source`` values, it may
  submit referrals as those sources only and read their answers.
* ``staff``: the people working cases, bookings and billing, day to day.
* ``auditor``: read-only views of cases, meetings, sessions, tariffs and settlements.
* ``operator``: ``/counters``, ``/metrics`` and the status page's data.

A token is a random string of 256 bits; the settings (``LOTS_API_TOKENS``) keep only its
SHA-256 with its role (:mod:`infra.tokens`). The presented token is hashed and compared with
every configured hash in constant time (:class:`TokenRegistry`).

With no tokens configured, development uses tokens of its own, one per role
(:mod:`infra.dev_tokens`); production refuses to start.

A route declares its roles with one of the shared guards, ``dependencies=STAFF`` (``READ``,
``OPERATOR``), or ``dependencies=allow(Role.STAFF, ...)`` for another set (or a parameter
annotated with ``Security(guard(...))`` when it needs to know the caller). :func:`secure`
installs the tokens on an app and refuses an app with a route that declares no role and is not
one of the open ones, so that a new route cannot be left unprotected by accident.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Request, Security, params
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from infra.dev_tokens import dev_entries
from infra.settings import Role, Settings, SettingsError, TokenEntry
from infra.tokens import Principal

__all__ = [
    "OPERATOR",
    "READ",
    "STAFF",
    "Role",
    "TokenEntry",
    "TokenRegistry",
    "allow",
    "guard",
    "secure",
]


#: Routes anyone may call: liveness and readiness (load balancers, compose health checks).
HEALTH = frozenset({"/health/live", "/health/ready"})

DENIED: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "no valid bearer token",
        "headers": {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    },
    403: {"description": "the token's role may not do this"},
}


class TokenRegistry:
    """The configured tokens, by hash; :meth:`identify` compares in constant time."""

    def __init__(self, entries: Iterable[TokenEntry]) -> None:
        self.entries = tuple(entries)
        if not self.entries:
            raise SettingsError("no API tokens: every HTTP route but health needs one")
        if len({e.sha256 for e in self.entries}) < len(self.entries):
            raise SettingsError("LOTS_API_TOKENS lists the same token (sha256) twice")
        self._hashes = [(bytes.fromhex(e.sha256), e) for e in self.entries]

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenRegistry:
        """The configured tokens; in development without any, the development tokens."""
        if settings.api_tokens:
            return cls(settings.api_tokens)
        if settings.env == "production":
            raise SettingsError(
                "LOTS_API_TOKENS is not set: every HTTP route but health needs a bearer token. "
                "Make one per caller with `lots token new --role ROLE [--source SOURCE]` and set "
                "LOTS_API_TOKENS to the JSON list of the entries it prints"
            )
        return cls(dev_entries(settings))

    def identify(self, token: str) -> Principal | None:
        presented = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found: TokenEntry | None = None
        for stored, entry in self._hashes:  # every hash is compared: no early exit
            if hmac.compare_digest(presented, stored):
                found = entry
        if found is None:
            return None
        return Principal(found.role, found.sources, found.name)


# --- checking requests ----------------------------------------------------------------------

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A token made by `lots token new`; its role decides what it may call.",
)


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def authorize(registry: TokenRegistry, token: str | None, allowed: frozenset[Role]) -> Principal:
    """The caller ``token`` stands for if its role is one of ``allowed``; else 401 or 403."""
    if not token:
        raise _unauthorized("a bearer token is required")
    principal = registry.identify(token)
    if principal is None:
        raise _unauthorized("the bearer token is not valid", "invalid_token")
    if principal.role not in allowed:
        names = ", ".join(sorted(allowed))
        raise HTTPException(403, f"a {principal.role} token may not do this (needs {names})")
    return principal


def guard(*roles: Role) -> Callable[..., Any]:
    """A dependency that lets callers with one of ``roles`` through and returns who they are."""
    if not roles:
        raise ValueError("a guard needs at least one role")
    allowed = frozenset(roles)

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> Principal:
        registry = getattr(request.app.state, "tokens", None)
        if not isinstance(registry, TokenRegistry):
            raise RuntimeError("infra.auth.secure() was not called on this app")
        principal = authorize(registry, credentials.credentials if credentials else None, allowed)
        request.state.principal = principal
        return principal

    check.roles = allowed  # type: ignore[attr-defined]
    return check


class Gate:
    """Checks the token and its role before anything else runs, so that a request without a
    valid token is answered 401 (and one of the wrong role 403) even when its body is malformed
    or too large; the routes' own guards check again and document the scheme in OpenAPI."""

    def __init__(
        self,
        app: ASGIApp,
        registry: TokenRegistry,
        routes: Sequence[tuple[re.Pattern[str], frozenset[str], frozenset[Role]]],
    ) -> None:
        self.app = app
        self.registry = registry
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            allowed = next(
                (
                    roles
                    for pattern, methods, roles in self.routes
                    if method in methods and pattern.match(path)
                ),
                None,
            )
            if allowed is not None:
                header = Headers(scope=scope).get("authorization", "")
                scheme, _, token = header.partition(" ")
                presented = token.strip() if scheme.lower() == "bearer" else None
                try:
                    authorize(self.registry, presented, allowed)
                except HTTPException as refused:
                    response = JSONResponse(
                        {"detail": refused.detail}, refused.status_code, refused.headers
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def allow(*roles: Role) -> list[params.Depends]:
    """``dependencies=allow(Role.STAFF, ...)`` on a route: only those roles may call it."""
    return [Security(guard(*roles))]


#: The route guards every service shares: staff change things, staff and auditors read, and
#: operators look at the counters and the status page (docs/security.md).
STAFF = allow(Role.STAFF)
READ = allow(Role.STAFF, Role.AUDITOR)
OPERATOR = allow(Role.OPERATOR)


def _roles_in(dependant: Dependant) -> frozenset[Role] | None:
    found: frozenset[Role] | None = getattr(dependant.call, "roles", None)
    for sub in dependant.dependencies:
        inner = _roles_in(sub)
        if inner is not None:
            found = inner if found is None else found & inner
    return found


def roles_of(route: APIRoute) -> frozenset[Role] | None:
    """The roles that may call ``route``; None for a route without a guard."""
    return _roles_in(route.dependant)


def _api_routes(app: FastAPI) -> Iterator[tuple[str, frozenset[str], APIRoute]]:
    """Every API route with its full path and methods, those of included routers too."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            yield context.path, frozenset(context.methods or route.methods or ()), route


def route_roles(app: FastAPI) -> dict[tuple[str, str], frozenset[Role] | None]:
    """(method, path) of every route to the roles that may call it; None for an open one.
    Paths read as in the OpenAPI document: ``{referral_id}``, not ``{referral_id:path}``."""
    return {
        (method, re.sub(r"\{(\w+):\w+\}", r"{\1}", path)): roles_of(route)
        for path, methods, route in _api_routes(app)
        for method in sorted(methods)
    }


def secure(app: FastAPI, registry: TokenRegistry, open_paths: Collection[str] = HEALTH) -> None:
    """Install ``registry`` on ``app``, check tokens before anything else (:class:`Gate`) and
    document 401/403 on every guarded operation. Call it once all routes are added; it refuses an
    app with a route that has no guard and is not in ``open_paths``.
    """
    app.state.tokens = registry
    guarded: list[tuple[re.Pattern[str], frozenset[str], frozenset[Role]]] = []
    for path, methods, route in _api_routes(app):
        roles = roles_of(route)
        if roles is None and path not in open_paths:
            raise RuntimeError(f"{' '.join(sorted(methods))} {path} declares no role")
        if roles is not None:
            guarded.append((compile_path(path)[0], methods, roles))
    app.add_middleware(Gate, registry=registry, routes=guarded)
    _document_refusals(app)


def _document_refusals(app: FastAPI) -> None:
    """Every operation that needs a token documents its 401 and 403 answers."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and operation.get("security"):
                    answers = operation.setdefault("responses", {})
                    for status, documented in DENIED.items():
                        answers.setdefault(str(status), documented)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
