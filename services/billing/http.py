"""Billing's HTTP routes: people's commands and queries (OpenAPI at /docs).

Every route answers bad input with a 4xx and a message that says what was wrong: 400 for a
value the rules refuse, 404 for an unknown case, session or month, 409 when the command
contradicts what is recorded (a closed month, a decision already taken, a duplicate tariff),
422 for a body that does not match its schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Header, HTTPException, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from events.types import Programme
from infra.auth import READ, STAFF
from services.billing.application import Billing
from services.billing.domain import BillingError, Conflict, NotFound
from services.billing.pricing import PricingError
from services.billing.replay import replay_month
from services.billing.settlement import SettlementError
from services.billing.statement import to_csv, to_html
from services.billing.tariffs import (
    ClientFee,
    ContractTerm,
    FixedPayment,
    HourlyRate,
    Posts,
    PriceNotKnown,
    TariffError,
    YearlyCap,
)

#: Who may call a route (docs/security.md): staff record and settle; auditors read the records.

Name = Annotated[str, Field(min_length=1, max_length=200)]
Year = Annotated[int, Field(ge=2000, le=2100)]
#: The indexation series of :mod:`services.billing.tariffs` (OPI, UPLIFT, FEE_REVISION).
Series = Literal["OPI", "linkoping-uplift", "counselling-fee-revision"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LogTime(Body):
    case_id: UUID
    minutes: Annotated[int, Field(ge=1, le=720)]
    performed_on: date
    activity: Literal["preparation", "follow_up"]
    provider: Name = "leanlink"
    programme: Programme | None = None
    #: A key of the client's own: the same entry sent again logs nothing new.
    entry_id: UUID | None = None
    logged_by: Name | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class Decide(Body):
    decision: Literal["bill_as_ordinary_time", "bill_as_group", "not_billable"]
    decided_by: Name
    note: Annotated[str, Field(max_length=2000)] | None = None


class Dismiss(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    decided_by: Name


class Recorded(Body):
    #: The written decision or agreement (diarienummer, avrop, ...).
    reference: Name
    recorded_by: Name | None = None


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


class RecordSeparately(Recorded):
    kind: Literal["premises_share", "state_grant"]
    programme: Programme
    #: The month whose statement shows it (an open month).
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
    amount_ore: Annotated[int, Field(ge=0, le=10**13)]
    period_from: date
    period_to: date
    note: Annotated[str, Field(max_length=2000)] | None = None


class Adjust(Body):
    programme: Programme
    #: Öre, negative to credit the municipality; never 0.
    amount_ore: Annotated[int, Field(ge=-(10**13), le=10**13)]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    #: The written decision or agreement the adjustment rests on.
    reference: Name
    #: The month it corrects (default: the month it is booked on); never a later month.
    corrects: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None
    recorded_by: Name | None = None


class Close(Body):
    closed_by: Name | None = None
    #: Close a month in its grace window now, ending the window (recorded with the close).
    early: bool = False


@contextmanager
def answers() -> Iterator[None]:
    """Turn the domain's refusals into 4xx answers that say what was wrong."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except (Conflict, TariffError, PriceNotKnown) as exc:
        raise HTTPException(409, str(exc)) from exc
    except (BillingError, SettlementError, PricingError) as exc:
        raise HTTPException(400, str(exc)) from exc


#: The refusals of :func:`answers`, documented on every route.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a value the rules refuse; the detail says which"},
    404: {"description": "no such case, session or month"},
    409: {"description": "contradicts what is recorded (a closed month, a decision taken)"},
}


def router_for(app: Billing) -> APIRouter:
    router = APIRouter(tags=["billing"], responses=ERRORS)

    @router.post("/sessions/time", status_code=201, dependencies=STAFF)
    def log_time(body: LogTime) -> dict[str, Any]:
        """Log preparation or follow-up time on a case; it is priced like a meeting."""
        with answers():
            return app.log_time(**body.model_dump())

    @router.get("/sessions/{session_id}", dependencies=READ)
    def session(session_id: UUID) -> dict[str, Any]:
        with answers():
            return app.session(session_id)

    @router.get("/worklist", dependencies=STAFF)
    def worklist() -> list[dict[str, Any]]:
        """Sessions waiting for a person: a decision on a group session, or a price."""
        return app.worklist()

    @router.post("/decisions/{meeting_id}", dependencies=STAFF)
    def decide(meeting_id: UUID, body: Decide) -> dict[str, Any]:
        """Decide how a flagged group session is billed; it is then priced and booked."""
        with answers():
            return app.decide(meeting_id=meeting_id, **body.model_dump())

    @router.post("/sessions/{session_id}/dismissal", dependencies=STAFF)
    def dismiss(session_id: UUID, body: Dismiss) -> dict[str, Any]:
        """Rule out billing a session whose price is not known (it blocks its month's close)."""
        with answers():
            return app.dismiss(session_id=session_id, **body.model_dump())

    @router.get("/tariffs", dependencies=READ)
    def tariffs() -> dict[str, Any]:
        """Every recorded tariff entry and call-off, and the tariff book's version."""
        return app.tariffs()

    @router.post("/tariffs/indexations", status_code=201, dependencies=STAFF)
    def record_indexation(body: RecordIndexation) -> dict[str, Any]:
        """Record a year's indexation (OPI, the uplift model, the fee revision) from a date."""
        with answers():
            return app.record_indexation(**body.model_dump())

    @router.post("/tariffs/extensions", status_code=201, dependencies=STAFF)
    def record_extension(body: RecordExtension) -> dict[str, Any]:
        """Record an extension of a contract's term by its extension period."""
        with answers():
            return app.record_extension(**body.model_dump())

    @router.post("/tariffs/rates", status_code=201, dependencies=STAFF)
    def record_rate(body: RecordRate) -> dict[str, Any]:
        with answers():
            entry = HourlyRate(entry_id=f"{body.programme}-rate-{body.valid_from}", **_price(body))
            return app.record_price(entry, **_who(body))

    @router.post("/tariffs/fees", status_code=201, dependencies=STAFF)
    def record_fee(body: RecordFee) -> dict[str, Any]:
        with answers():
            entry = ClientFee(entry_id=f"{body.programme}-fee-{body.valid_from}", **_price(body))
            return app.record_price(entry, **_who(body))

    @router.post("/tariffs/caps", status_code=201, dependencies=STAFF)
    def record_cap(body: RecordCap) -> dict[str, Any]:
        with answers():
            entry = YearlyCap(entry_id=f"{body.programme}-cap-{body.valid_from}", **_price(body))
            return app.record_price(entry, **_who(body))

    @router.post("/tariffs/fixed-payments", status_code=201, dependencies=STAFF)
    def record_fixed_payment(body: RecordFixedPayment) -> dict[str, Any]:
        with answers():
            entry = FixedPayment(
                entry_id=f"{body.contract}-payment-{body.valid_from}", **_price(body)
            )
            return app.record_price(entry, **_who(body))

    @router.post("/tariffs/terms", status_code=201, dependencies=STAFF)
    def record_term(body: RecordTerm) -> dict[str, Any]:
        """Record a new contract's term (its programmes, how it is paid, its dates)."""
        with answers():
            fields = _price(body) | {"programmes": tuple(body.programmes)}
            entry = ContractTerm(entry_id=f"{body.contract}-term", **fields)
            return app.record_price(entry, **_who(body))

    @router.post("/tariffs/posts", status_code=201, dependencies=STAFF)
    def record_posts(body: RecordPosts) -> dict[str, Any]:
        """Record the full-time posts agreed for a fixed payment's contract from a month."""
        with answers():
            entry = Posts(entry_id=f"{body.contract}-posts-{body.valid_from}", **_price(body))
            return app.record_price(entry, **_who(body))

    @router.post("/tariffs/terminations", status_code=201, dependencies=STAFF)
    def record_termination(body: RecordTermination) -> dict[str, Any]:
        """Record a written notice of termination (12 months; 002, 003 §1.1, 004)."""
        with answers():
            return app.record_termination(**body.model_dump())

    @router.post("/call-offs", status_code=201, dependencies=STAFF)
    def record_call_off(body: RecordCallOff) -> dict[str, Any]:
        """Record a written call-off of hours beyond the yearly cap."""
        with answers():
            return app.record_call_off(**body.model_dump())

    @router.post("/settlements/separate-amounts", status_code=201, dependencies=STAFF)
    def record_separately(body: RecordSeparately) -> dict[str, Any]:
        """Record a premises share or a state grant (003 §1.2) on an open month's statement,
        reported apart from Leanlink's lines and never in its total, fees or net."""
        with answers():
            return app.record_separately(**body.model_dump())

    @router.post("/settlements/{month}/adjustments", status_code=201, dependencies=STAFF)
    def adjust(month: str, body: Adjust) -> dict[str, Any]:
        """Book a manual adjustment on an open month (a closed month is refused, 409, naming
        the first open month): an ``adjustment`` line with its reason and reference."""
        with answers():
            return app.adjust(month=month, **body.model_dump())

    @router.get("/settlements/{month}/adjustments", dependencies=READ)
    def adjustments(month: str, programme: Programme | None = None) -> list[dict[str, Any]]:
        """The adjustments booked on the month: late sessions' and manual ones."""
        with answers():
            return app.adjustments(month, programme)

    @router.get("/caps/{programme}/{year}", dependencies=READ)
    def cap(programme: Programme, year: Annotated[int, Path(ge=2000, le=2100)]) -> dict[str, Any]:
        """Hours billed against the year's cap, the call-offs and the warnings given."""
        with answers():
            return app.cap_usage(programme, year)

    @router.get("/caps/{programme}/{year}/forecast", dependencies=READ)
    def cap_forecast(
        programme: Programme, year: Annotated[int, Path(ge=2000, le=2100)]
    ) -> dict[str, Any]:
        """The date the year's cap (with call-offs) is reached at the current pace, if it is."""
        with answers():
            return app.cap_forecast(programme, year)

    @router.get("/settlements/{month}", responses=STATEMENTS, dependencies=READ)
    def show(
        month: str,
        programme: Programme | None = None,
        format: Annotated[Format | None, Query()] = None,
        accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:
        """The month's settlement as it stands (a closed month: as closed); ``format=pdf`` (or
        ``Accept: application/pdf``) is the HTML statement printed as a PDF."""
        with answers():
            view = app.settlement(month, programme)
        shown = statement(view, format, accept, {})
        if shown is not None:
            return shown
        # The body is the document alone, so its digest checks against exactly what is sent.
        return JSONResponse(view["document"], headers={"X-Settlement-Status": view["status"]})

    @router.post("/settlements/{month}/close", dependencies=STAFF)
    def close(month: str, body: Close | None = None) -> dict[str, Any]:
        """Close the month: its document and digest are recorded and never change."""
        with answers():
            if body is None:
                return app.close_month(month)
            return app.close_month(month, body.closed_by, early=body.early)

    @router.get("/settlements/{month}/preview", responses=STATEMENTS, dependencies=READ)
    def preview(
        month: str,
        programme: Programme | None = None,
        format: Annotated[Format | None, Query()] = None,
        accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:
        """The open month's settlement if it were closed now; nothing is recorded. The body is
        marked ``"preview": true, "final": false``; the document's digest is not a final one."""
        with answers():
            view = app.preview(month, programme)
        headers = {"X-Settlement-Status": "preview"}
        return statement(view, format, accept, headers) or JSONResponse(view, headers=headers)

    @router.get("/settlements/{month}/replay", dependencies=READ)
    def replay(month: str, programme: Programme | None = None) -> dict[str, Any]:
        """Rebuild the closed month from the log and compare it with the closed document."""
        with answers():
            result = replay_month(app, month, programme)
        return {
            **result.document,
            "matches": result.matches,
            "closed_digest": result.closed["digest"],
            "differences": list(result.differences),
        }

    return router


Format = Literal["json", "csv", "html", "pdf"]
STATEMENTS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, "text/html": {}, "application/pdf": {}}}
}


def statement(
    view: dict[str, Any], format: Format | None, accept: str | None, headers: dict[str, str]
) -> Response | None:
    """The view as CSV, HTML or PDF when asked for (``format``, or ``Accept: application/pdf``
    without one); None for JSON. A PDF this machine cannot print is a 503 naming what to
    install."""
    if format is None and "application/pdf" in (accept or ""):
        format = "pdf"
    if format == "csv":
        return PlainTextResponse(to_csv(view["document"]), media_type="text/csv", headers=headers)
    if format == "html":
        return HTMLResponse(to_html(view), headers=headers)
    if format != "pdf":
        return None
    from services.billing.statement_pdf import PdfUnavailable, to_pdf

    try:
        pdf = to_pdf(view)
    except PdfUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    name = f"settlement-{view['document']['month']}.pdf"
    disposition = {"Content-Disposition": f'inline; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=headers | disposition)


def _price(body: Dated) -> dict[str, Any]:
    return body.model_dump(exclude={"reference", "recorded_by"})


def _who(body: Recorded) -> dict[str, Any]:
    return {"reference": body.reference, "recorded_by": body.recorded_by}
