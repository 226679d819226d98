"""Intake's HTTP API, for systems that cannot reach Redis and for the people working cases.

``POST /referrals`` takes exactly the ``SubmitReferral`` JSON of the stream and gives the same
answer with the same idempotency: 202 with the case id, or 422 with every reason; 429 with
``Retry-After`` when the source is over its rate limit (the same limit as on the stream); 409
(``conflicting_resubmission``) for a different referral under a ``(source, referral_id)``
already used; 413 for a body over the stream's 256 KiB limit on ``data``. Only a publisher
token may submit, and only as one of its own sources (403 otherwise, nothing stored).

One router per resource: referrals, residency exceptions (``referral_http.py``), cases
(``case_http.py``), the quality and follow-up registers (``registers_http.py``), the polar
register (``polare_http.py``) and the eligibility rule (``eligibility_http.py``).
"""

from __future__ import annotations

from fastapi import APIRouter

from infra.application import ServiceApplication
from infra.runtime import Runtime
from services.intake import eligibility_http, polare_http
from services.intake.application import Intake
from services.intake.case_http import case_routes
from services.intake.referral_http import referral_routes, residency_routes
from services.intake.registers_http import registers_router


def routers(app: ServiceApplication, runtime: Runtime) -> list[APIRouter]:
    """Intake's routes, for :func:`infra.service.serve`: its own tagged ``intake``, then the
    registers'."""
    assert isinstance(app, Intake)
    router = APIRouter(tags=["intake"])
    for part in (referral_routes, residency_routes, case_routes):
        router.include_router(part(app, runtime))
    return [
        router,
        registers_router(app, runtime),
        polare_http.router_for(app, runtime),
        eligibility_http.router_for(app),
    ]
