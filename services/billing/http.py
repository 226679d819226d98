"""Billing's HTTP routes (OpenAPI at /docs), one router per resource: sessions
(``session_http.py``), the tariff book (``tariff_http.py``), settlements and caps
(``settlement_http.py``); what they share is in ``http_edge.py``.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.billing.application import Billing
from services.billing.http_edge import ERRORS
from services.billing.session_http import session_routes
from services.billing.settlement_http import adjustment_routes, cap_routes, settlement_routes
from services.billing.tariff_http import price_routes, tariff_routes


def router_for(app: Billing) -> APIRouter:
    """Every route of billing's own, tagged ``billing`` and documented with its refusals."""
    router = APIRouter(tags=["billing"], responses=ERRORS)
    for part in (session_routes, tariff_routes, price_routes, adjustment_routes, cap_routes,
                 settlement_routes):  # fmt: skip
        router.include_router(part(app))
    return router
