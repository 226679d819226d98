"""What every service's HTTP API does with what a client sends, around its routes.

* A JSON body that FastAPI would parse for a route is first read strictly
  (:mod:`events.strictjson`): ``NaN``, ``Infinity``, numbers out of range, integers of more
  than 4,300 digits and any other text that is not JSON are answered 422 ``json_invalid``,
  in the shape of every other validation error (:class:`StrictBodies`). A route that reads its
  body itself (intake's ``POST /referrals``) reads it with the same reader.
* A validation error is answered 422 with each error's ``type``, ``loc`` and ``msg``, never the
  input (:func:`validation_failed`). FastAPI's own handler echoes the input; a ``NaN`` in it
  cannot be serialised, which was a 500 whose traceback held the whole input.
* A client that goes away before its request body has arrived is one ``info`` line, without
  a traceback and without the path (it may hold ids a client chose).
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.requests import ClientDisconnect
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.strictjson import NotJson, loads

log = structlog.get_logger(__name__)

#: (path pattern, methods) of the routes whose JSON body FastAPI parses into a model.
ParsedRoutes = Sequence[tuple[re.Pattern[str], frozenset[str]]]


def install(http: FastAPI) -> None:
    """Add the strict reading and the no-echo answers to ``http``, once its routes are added
    (and before the body limit, which must stay outside: it refuses a body too large unread)."""
    http.add_exception_handler(RequestValidationError, validation_failed)
    http.add_middleware(StrictBodies, routes=parsed_routes(http))


def parsed_routes(http: FastAPI) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    found = []
    for context in iter_route_contexts(http.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.body_field is not None and context.path:
            methods = frozenset(context.methods or route.methods or ())
            found.append((compile_path(context.path)[0], methods))
    return found


def _public(error: dict[str, Any]) -> dict[str, Any]:
    """One validation error without its input: no ``input``, ``ctx`` (which may hold the
    exception a validator raised, with the value in its text) or ``url``; an extra field's own
    name is input too, so its location stops at the object it was found in."""
    loc = list(error.get("loc", ()))
    if error.get("type") == "extra_forbidden" and loc:
        loc = loc[:-1]
    return {"type": str(error.get("type", "")), "loc": loc, "msg": str(error.get("msg", ""))}


def refusal(errors: Sequence[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": [_public(e) for e in errors]}, status_code=422)


async def validation_failed(request: Request, exc: Exception) -> JSONResponse:
    """422 with every error's type, location and message; never an input value."""
    assert isinstance(exc, RequestValidationError)
    return refusal(exc.errors())


def not_json(problem: NotJson) -> JSONResponse:
    where: list[Any] = ["body"] if problem.position is None else ["body", problem.position]
    return refusal(
        [{"type": "json_invalid", "loc": where, "msg": f"the body is not JSON: {problem}"}]
    )


def _json_typed(scope: Scope) -> bool:
    """The body is JSON by its Content-Type, exactly when FastAPI parses it as JSON (strict
    content type: a body without one is not)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            message = email.message.Message()
            message["content-type"] = value.decode("latin-1")
            subtype = message.get_content_subtype()
            return message.get_content_maintype() == "application" and (
                subtype == "json" or subtype.endswith("+json")
            )
    return False


async def _read_all(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class StrictBodies:
    """Reads the JSON body of a route FastAPI parses, refuses it unless it is strict JSON, and
    hands the route the same bytes; logs a client's disconnect in one calm line."""

    def __init__(self, app: ASGIApp, routes: ParsedRoutes) -> None:
        self.app = app
        self.routes = routes

    def _parses(self, scope: Scope) -> bool:
        path, method = scope["path"], scope["method"]
        return any(method in methods and p.match(path) for p, methods in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            if _json_typed(scope) and self._parses(scope):
                body = await _read_all(receive)
                if body:
                    try:
                        loads(body)
                    except NotJson as problem:
                        await not_json(problem)(scope, receive, send)
                        return
                receive = _Replay(body, receive)
            await self.app(scope, receive, send)
        except ClientDisconnect:
            log.info("client disconnected before its request body arrived", method=scope["method"])


class _Replay:
    """A receive that gives ``body`` once, then whatever the client sends next (a disconnect)."""

    def __init__(self, body: bytes, receive: Receive) -> None:
        self.body: bytes | None = body
        self.receive = receive

    async def __call__(self) -> Message:
        if self.body is None:
            return await self.receive()
        body, self.body = self.body, None
        return {"type": "http.request", "body": body, "more_body": False}
