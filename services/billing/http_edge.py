"""What billing's routes share: the field types and bodies of their requests, the one mapping
of the domain's refusals to 4xx answers, and a statement in the format asked for.

Every route answers bad input with a 4xx and a message that says what was wrong: 400 for a
value the rules refuse, 404 for an unknown case, session or month, 409 when the command
contradicts what is recorded (a closed month, a decision already taken, a duplicate tariff),
422 for a body that does not match its schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import HTTPException
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from services.billing.domain import BillingError, Conflict, NotFound
from services.billing.pricing import PricingError
from services.billing.settlement import SettlementError
from services.billing.statement import to_csv, to_html
from services.billing.tariff_entries import TariffError
from services.billing.tariffs import PriceNotKnown

Name = Annotated[str, Field(min_length=1, max_length=200)]
Year = Annotated[int, Field(ge=2000, le=2100)]
#: The indexation series of :mod:`services.billing.tariff_entries` (OPI, UPLIFT, FEE_REVISION).
Series = Literal["OPI", "linkoping-uplift", "counselling-fee-revision"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Recorded(Body):
    #: The written decision or agreement (diarienummer, avrop, ...).
    reference: Name
    recorded_by: Name | None = None


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
