"""The HTTP edge every service shares: one error -> status mapping, registered once.

Each refusal class carries its own status (:class:`infra.refusals.Refused`), so routes raise
and do not translate. :func:`answer_refusals` is called by :func:`infra.service.build_http`
and by the tests' ``api()``, so tests answer as production does.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from infra.refusals import Refused


async def refused(_: Request, exc: Exception) -> Response:
    """A refusal answered with its class's status and its ``detail``, never a 500."""
    assert isinstance(exc, Refused)
    return JSONResponse({"detail": exc.detail()}, status_code=exc.http_status())


def answer_refusals(app: FastAPI) -> None:
    """Register the one refusal handler on ``app``."""
    app.add_exception_handler(Refused, refused)
