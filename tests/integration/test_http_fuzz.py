"""Every operation of every service's OpenAPI document, fuzzed in-process with schemathesis.

Valid and invalid requests are generated from each document and sent with a token of a role
the operation allows, over the real stores. Every answer must be documented and conform to the
document (never a 5xx, never an unhandled exception), and a refused request must store nothing:
the store's notification log only grows on an accepted command (and on intake's recorded
rejection of a referral, which is an answer kept for its idempotency). Afterwards every store's
hash chain is intact. Deterministic (a fixed seed per operation, no example database) and
bounded: ``FUZZ_EXAMPLES`` per operation, in both modes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.application import ServiceApplication
from infra.auth import Role, route_roles
from infra.integrity import verify
from infra.runtime import Runtime
from infra.service import build_http
from infra.settings import ServiceName, Settings
from tests.support.auth import MAKE_APP, ROUTERS, headers

FUZZ_EXAMPLES = int(os.environ.get("LOTS_FUZZ_EXAMPLES", "4"))
#: The role each fuzzed request presents: the one that normally calls the operation.
PREFERRED = (Role.PUBLISHER, Role.STAFF, Role.OPERATOR, Role.AUDITOR)
#: No 5xx, every answer documented and conforming to the document. Not schemathesis's "schema-
#: valid data is accepted": a well-formed command can still break a rule (a closed month, a
#: taken time) and is refused with its documented 4xx; nor "invalid data is rejected": unknown
#: query parameters are ignored, as HTTP APIs do (what must not happen to a refused request,
#: storing anything, is checked below for every answer).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Where the fuzzed publisher may submit, so that referrals get past the source check.
OWN_SOURCE = "linkoping.elevhalsa"


class Fuzzed:
    def __init__(self, settings: Settings, service: ServiceName) -> None:
        self.settings = settings
        self.app: ServiceApplication = MAKE_APP[service](settings)
        runtime = Runtime(service, self.app, settings, settings.redis_url)
        self.http: FastAPI = build_http(runtime, ROUTERS[service](self.app, runtime))
        self.roles = route_roles(self.http)

    def token_for(self, method: str, path: str) -> dict[str, str]:
        allowed = self.roles[(method.upper(), path)]
        if allowed is None:
            return {}
        role = next(r for r in PREFERRED if r in allowed)
        return headers(self.settings, role)

    def stored(self) -> int:
        return self.app.recorder.max_notification_id() or 0


@pytest.fixture(params=["intake", "scheduling", "billing"])
def fuzzed(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Fuzzed]:
    service = Fuzzed(settings, request.param)
    yield service
    verdict = verify(service.app.store)
    service.app.close()
    assert verdict.intact, verdict.problem


def _without_lifespan(http: FastAPI) -> Any:
    """The app with its lifespan answered at once: the fuzzed requests reach the routes and the
    stores, while the runtime (Redis consumers, relay, periodic jobs) stays off, so nothing but
    the requests changes the stores."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await http(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return app


def _recorded_rejection(path: str, status: int, body: Any) -> bool:
    """Intake keeps its answer to a referral it could read the sender of, rejections too (and
    its refusal of a different referral under a used key, 409)."""
    return (
        path == "/referrals"
        and status in (409, 422)
        and isinstance(body, dict)
        and body.get("status") == "rejected"
        and body.get("referral_id") is not None
    )


def test_no_operation_answers_5xx_undocumented_or_stores_a_refused_request(
    fuzzed: Fuzzed,
) -> None:
    api = schemathesis.openapi.from_asgi("/openapi.json", _without_lifespan(fuzzed.http))
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == len(fuzzed.roles)
    for operation in operations:
        inputs = (operation.path_parameters, operation.query, operation.headers, operation.body)
        modes = [GenerationMode.POSITIVE]
        if any(len(given) for given in inputs):  # else there is nothing to make invalid
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=FUZZ_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case: Any) -> None:
                exercise(fuzzed, case)

            fuzz()


def exercise(fuzzed: Fuzzed, case: Any) -> None:
    claimed = case.body.get("source") if isinstance(case.body, dict) else None
    if case.path == "/referrals" and isinstance(claimed, str):
        case.body["source"] = OWN_SOURCE
    before = fuzzed.stored()
    response = case.call(headers=fuzzed.token_for(case.method, case.path))
    if case.path == "/health/ready":  # its documented 503: the runtime is off on purpose
        case.validate_response(response, checks=CHECKS[1:])
        assert response.status_code == 503
        return
    case.validate_response(response, checks=CHECKS)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not _recorded_rejection(case.path, response.status_code, body):
            assert fuzzed.stored() == before, (case.method, case.path, response.status_code)
