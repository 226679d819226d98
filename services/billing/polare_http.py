"""Billing's routes for polare fees (seed 004): the dated rate table and the monthly report of
the fees as the provider's cost against the field-work budget."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import Field

from events.billing import PolareRate
from infra.auth import READ, STAFF
from services.billing import polare_commands
from services.billing.application import Billing
from services.billing.http_edge import ERRORS, Body, Name
from services.billing.polare_rates import check_rates
from services.billing.tariff_entries import TariffError


class RecordRates(Body):
    effective_from: date
    rates: Annotated[list[PolareRate], Field(min_length=1, max_length=200)]
    #: The written decision the table rests on.
    reference: Name
    recorded_by: Name | None = None
    table_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] | None = None


#: Who may call a route (docs/security.md): staff record rate tables; auditors read the fees.


def router_for(app: Billing) -> APIRouter:
    r = APIRouter(
        prefix="/polare",
        tags=["polare fees"],
        responses={
            **ERRORS,
            422: {"description": "a rate table the rules refuse (overlapping rows); says which"},
        },
    )

    @r.post("/rates", status_code=201, dependencies=STAFF)
    def record_rates(body: RecordRates) -> dict[str, Any]:
        """Record the fee per night walk by age and years in the activity, from a date (öre).
        Walks waiting for a rate are priced at once when this table prices them."""
        try:
            check_rates(body.rates)
        except TariffError as exc:
            raise HTTPException(422, str(exc)) from exc
        return polare_commands.record_rates(
            app, **body.model_dump(exclude={"rates"}), rates=body.rates
        )

    @r.get("/rates", dependencies=READ)
    def rates() -> list[dict[str, Any]]:
        """Every rate table recorded, in recording order."""
        return polare_commands.rate_tables(app)

    @r.get("/fees/{month}", dependencies=READ)
    def fees(month: str) -> dict[str, Any]:
        """The month's polare fees (by the walks' dates), the year to date and the field-work
        budget they are paid from; walks waiting for a rate and polare not paid, with why."""
        return polare_commands.month_report(app, month)

    return r
