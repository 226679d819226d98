"""What billing's routes share: the field types and bodies of their requests, the refusals
documented on them, and a statement in the format asked for.

Every route answers bad input with a 4xx and a message that says what was wrong; each error
class carries its status (:class:`infra.refusals.Refused`, answered by :mod:`infra.http`): 400
for a value the rules refuse, 404 for an unknown case, session or month, 409 when the command
contradicts what is recorded (a closed month, a decision already taken, a duplicate tariff),
422 for a body that does not match its schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import HTTPException
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from services.billing.statement import to_csv, to_html

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


#: The refusals billing's errors carry (:mod:`infra.refusals`), documented on every route.
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
