"""Billing's routes for the tariff book: prices and contract terms, indexations, extensions,
notices of termination, and call-offs beyond the yearly cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field

from events.types import Programme
from infra.auth import READ, STAFF
from services.billing.application import Billing
from services.billing.http_edge import Name, Recorded, Series, Year
from services.billing.tariff_entries import (
    ClientFee,
    ContractTerm,
    FixedPayment,
    HourlyRate,
    Posts,
    YearlyCap,
)


class RecordIndexation(Recorded):
    series: Series
    year: Year
    percent: Annotated[Decimal, Field(ge=-50, le=100, decimal_places=4)]
    applies_from: date


class RecordExtension(Recorded):
    contract: Name


class Dated(Recorded):
    valid_from: date
    valid_to: date | None = None


class RecordRate(Dated):
    programme: Programme
    #: Bounded so that every price computed from it stays exact in Decimal's 28 digits.
    sek_per_hour: Annotated[Decimal, Field(gt=0, le=1_000_000, decimal_places=2)]
    price_level_year: Year
    indexed_by: Series | None = None


class RecordFee(Dated):
    programme: Programme
    ore_per_visit: Annotated[int, Field(ge=0, le=10_000_000)]
    price_level_year: Year
    indexed_by: Series | None = None


class RecordCap(Dated):
    programme: Programme
    hours: Annotated[int, Field(gt=0, le=1_000_000)]


class RecordFixedPayment(Dated):
    contract: Name
    amount_ore: Annotated[int, Field(ge=0, le=10**13)]
    per: Literal["year", "term"]
    price_level_year: Year
    indexed_by: Series | None = None


class RecordTerm(Dated):
    contract: Name
    programmes: Annotated[list[Programme], Field(min_length=1)]
    billing: Literal["fixed", "hourly"]
    extension_years: Annotated[int, Field(ge=1, le=10)] | None = None


class RecordPosts(Dated):
    contract: Name
    #: The full-time posts (årsarbetare) agreed from ``valid_from``.
    ftes: Annotated[Decimal, Field(ge=0, le=1000, decimal_places=2)]
    #: The posts the contract's fixed payment is for (002: 2.8 MSEK "motsvarar 4 årsarbetare").
    payment_ftes: Annotated[Decimal, Field(gt=0, le=1000, decimal_places=2)]


class RecordTermination(Recorded):
    contract: Name
    #: The day the written notice was given.
    given_on: date
    #: Another end the parties agreed (a month's last day); by default as terms.py says.
    ends_on: date | None = None


class RecordCallOff(Recorded):
    programme: Programme
    year: Year
    #: At most the hours of a year (a larger number is a typing error, and beyond Decimal's
    #: 28 digits the quarter-hour check cannot be computed).
    hours: Annotated[Decimal, Field(gt=0, le=8784, decimal_places=2)]
    effective_from: date | None = None


def tariff_routes(app: Billing) -> APIRouter:
    """The tariff book, and the records that change contracts: indexations, extensions,
    notices of termination, call-offs."""
    router = APIRouter()

    @router.get("/tariffs", dependencies=READ)
    def tariffs() -> dict[str, Any]:
        """Every recorded tariff entry and call-off, and the tariff book's version."""
        return app.tariffs()

    @router.post("/tariffs/indexations", status_code=201, dependencies=STAFF)
    def record_indexation(body: RecordIndexation) -> dict[str, Any]:
        """Record a year's indexation (OPI, the uplift model, the fee revision) from a date."""
        return app.record_indexation(**body.model_dump())

    @router.post("/tariffs/extensions", status_code=201, dependencies=STAFF)
    def record_extension(body: RecordExtension) -> dict[str, Any]:
        """Record an extension of a contract's term by its extension period."""
        return app.record_extension(**body.model_dump())

    @router.post("/tariffs/terminations", status_code=201, dependencies=STAFF)
    def record_termination(body: RecordTermination) -> dict[str, Any]:
        """Record a written notice of termination (12 months; 002, 003 §1.1, 004)."""
        return app.record_termination(**body.model_dump())

    @router.post("/call-offs", status_code=201, dependencies=STAFF)
    def record_call_off(body: RecordCallOff) -> dict[str, Any]:
        """Record a written call-off of hours beyond the yearly cap."""
        return app.record_call_off(**body.model_dump())

    return router


def price_routes(app: Billing) -> APIRouter:
    """New prices and terms: hourly rates, client fees, yearly caps, fixed payments, contract
    terms, agreed posts."""
    router = APIRouter()

    @router.post("/tariffs/rates", status_code=201, dependencies=STAFF)
    def record_rate(body: RecordRate) -> dict[str, Any]:
        entry = HourlyRate(entry_id=f"{body.programme}-rate-{body.valid_from}", **_price(body))
        return app.record_price(entry, **_who(body))

    @router.post("/tariffs/fees", status_code=201, dependencies=STAFF)
    def record_fee(body: RecordFee) -> dict[str, Any]:
        entry = ClientFee(entry_id=f"{body.programme}-fee-{body.valid_from}", **_price(body))
        return app.record_price(entry, **_who(body))

    @router.post("/tariffs/caps", status_code=201, dependencies=STAFF)
    def record_cap(body: RecordCap) -> dict[str, Any]:
        entry = YearlyCap(entry_id=f"{body.programme}-cap-{body.valid_from}", **_price(body))
        return app.record_price(entry, **_who(body))

    @router.post("/tariffs/fixed-payments", status_code=201, dependencies=STAFF)
    def record_fixed_payment(body: RecordFixedPayment) -> dict[str, Any]:
        entry = FixedPayment(entry_id=f"{body.contract}-payment-{body.valid_from}", **_price(body))
        return app.record_price(entry, **_who(body))

    @router.post("/tariffs/terms", status_code=201, dependencies=STAFF)
    def record_term(body: RecordTerm) -> dict[str, Any]:
        """Record a new contract's term (its programmes, how it is paid, its dates)."""
        fields = _price(body) | {"programmes": tuple(body.programmes)}
        entry = ContractTerm(entry_id=f"{body.contract}-term", **fields)
        return app.record_price(entry, **_who(body))

    @router.post("/tariffs/posts", status_code=201, dependencies=STAFF)
    def record_posts(body: RecordPosts) -> dict[str, Any]:
        """Record the full-time posts agreed for a fixed payment's contract from a month."""
        entry = Posts(entry_id=f"{body.contract}-posts-{body.valid_from}", **_price(body))
        return app.record_price(entry, **_who(body))

    return router


def _price(body: Dated) -> dict[str, Any]:
    return body.model_dump(exclude={"reference", "recorded_by"})


def _who(body: Recorded) -> dict[str, Any]:
    return {"reference": body.reference, "recorded_by": body.recorded_by}
