"""The one refusal handler of :mod:`infra.http`: a refusal raised by any route is answered with
the status its class carries and its ``detail``, in the app ``serve()`` builds and in the tests'
``api()`` alike — never a 500, and no route translates for itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from infra.auth import READ, Role
from infra.refusals import Refused
from infra.runtime import Runtime
from infra.service import build_http
from infra.settings import Settings
from tests.support.auth import MAKE_APP, api, client


class Gone(Refused):
    status = 410


class Coded(Refused):
    """A refusal whose status and detail depend on the case, as intake's polar register's do."""

    def __init__(self, code: str) -> None:
        super().__init__(f"refused: {code}")
        self.code = code

    def http_status(self) -> int:
        return 409 if self.code == "busy" else 422

    def detail(self) -> Any:
        return {"code": self.code, "message": str(self)}


def refusing() -> APIRouter:
    r = APIRouter()

    @r.get("/gone", dependencies=READ)
    def gone() -> None:
        raise Gone("that was removed")

    @r.get("/coded/{code}", dependencies=READ)
    async def coded(code: str) -> None:
        raise Coded(code)

    return r


async def asked(http: Any, settings: Settings) -> None:
    async with client(http, settings, Role.STAFF) as c:
        gone = await c.get("/gone")
        assert (gone.status_code, gone.json()) == (410, {"detail": "that was removed"})
        busy = await c.get("/coded/busy")
        assert busy.status_code == 409
        assert busy.json() == {"detail": {"code": "busy", "message": "refused: busy"}}
        assert (await c.get("/coded/erased")).status_code == 422


async def test_a_refusal_is_answered_with_its_class_status_by_the_served_app(
    settings: Settings,
) -> None:
    app = MAKE_APP["scheduling"](settings)
    runtime = Runtime("scheduling", app, settings, settings.redis_url)
    try:
        await asked(build_http(runtime, [refusing()]), settings)
    finally:
        await runtime.redis.aclose()
        app.close()


async def test_the_tests_api_answers_refusals_as_the_served_app_does(settings: Settings) -> None:
    await asked(api(settings, [refusing()]), settings)
