"""A month's settlement: what people book on it beside sessions, and how it reads.

Commands: a manual adjustment (``adjustments.py``) and an amount reported apart from
Leanlink's lines (``separate.py``), each on an open month. Queries: the month's document as it
stands (a closed month as closed, never recomputed), its closed document, and its adjustments.
"""

from __future__ import annotations

import json
from typing import Any

from infra.calendar import month_of
from services.billing import views
from services.billing.adjustments import AdjustmentError, manual_adjustment
from services.billing.booking import Booker
from services.billing.books import Books
from services.billing.closing import close_due, grace_window
from services.billing.domain_settlement import Settlement
from services.billing.errors import BillingError, MonthClosed
from services.billing.separate import KINDS as SEPARATE_KINDS
from services.billing.separate import SeparateAmountError, separate_amount
from services.billing.settlement import Document, check_month


def record_separately(
    app: Books, *, kind: str, programme: str, month: str, **fields: Any
) -> dict[str, Any]:
    """Record a premises share or a state grant on an open month's statement, reported
    apart from Leanlink's lines (003 §1.2, separate.py); a closed month is refused."""
    check_month(month, programme)
    if kind not in SEPARATE_KINDS:
        raise BillingError(f"unknown kind {kind!r}; expected one of {SEPARATE_KINDS}")
    try:
        record = separate_amount(kind=kind, programme=programme, month=month, **fields)
    except SeparateAmountError as exc:
        raise BillingError(str(exc)) from exc

    def change(booker: Booker) -> dict[str, Any]:
        booker.settlement(month).record_separately(record.model_dump(mode="json"))
        return {"item_id": str(record.item_id), "month": month, "kind": kind}

    return app.transact(change)


def adjust(
    app: Books, *, month: str, programme: str, amount_ore: int, **fields: Any
) -> dict[str, Any]:
    """Book a manual adjustment (adjustments.py) on an open month that has begun; a closed
    month is refused (409) naming the first open month, and never changes."""
    check_month(month, programme)
    if month > month_of(app.clock()):
        raise BillingError(f"{month} has not begun; adjustments are booked on open months")
    try:
        adjustment = manual_adjustment(
            month=month, programme=programme, amount_ore=amount_ore, **fields
        )
    except AdjustmentError as exc:
        raise BillingError(str(exc)) from exc
    close_due(app, [month])  # a month whose grace window has ended is closed first

    def change(booker: Booker) -> dict[str, Any]:
        if booker.is_closed(month):
            raise MonthClosed(
                f"{month} is closed and never changes; book the adjustment on the first "
                f"open month, {booker.open_month(month)} (with corrects {month})"
            )
        booker.settlement(month).adjust(adjustment.model_dump(mode="json"))
        return {
            "adjustment_id": str(adjustment.adjustment_id),
            "month": month,
            "belongs_to_month": adjustment.belongs_to_month,
            "amount_ore": amount_ore,
        }

    return app.transact(change)


def adjustments(app: Books, month: str, programme: str | None = None) -> list[dict[str, Any]]:
    """The adjustments booked on the month (late sessions' and manual), for auditors."""
    check_month(month, programme)

    def read(booker: Booker) -> list[dict[str, Any]]:
        found = booker.uow.get(Settlement.create_id(month), Settlement)
        booked = [] if found is None else list(found.adjustments.values())
        return sorted(
            (a for a in booked if programme in (None, a["programme"])),
            key=lambda a: (a["programme"], a["belongs_to_month"], str(a["adjustment_id"])),
        )

    return app.query(read)


def settlement(app: Books, month: str, programme: str | None = None) -> dict[str, Any]:
    """The month's document as it stands (closed: as closed) and what is known about it."""
    check_month(month, programme)
    grace = grace_window(app, month)

    def read(booker: Booker) -> dict[str, Any]:
        found = booker.uow.get(Settlement.create_id(month), Settlement)
        if found is not None and found.closed is not None:
            closed = found.closed
            return {
                "document": json.loads(closed["documents"][programme or ""]),
                "status": "closed",
                "closed_at": closed["closed_at"].isoformat(),
                "closed_by": closed["closed_by"],
                "cap_usage": closed["cap_usage"],
                "awaiting_price": [],
                "grace": closed.get("grace"),
                "term_ends": views.term_ends(booker),
            }
        return {
            "document": views.document_of(booker, found, month, programme),
            "status": "open",
            "closed_at": None,
            "closed_by": None,
            "cap_usage": views.month_cap_usage(booker, month),
            "awaiting_price": sorted(set((found.awaiting_price if found else {}).values())),
            "grace": grace,
            "term_ends": views.term_ends(booker),
        }

    return app.query(read)


def closed_document(app: Books, month: str, programme: str | None = None) -> Document | None:
    """The document the month was closed with (all programmes, or one); None if it is open."""
    check_month(month, programme)

    def read(booker: Booker) -> Document | None:
        found = booker.uow.get(Settlement.create_id(month), Settlement)
        if found is None or found.closed is None:
            return None
        return json.loads(found.closed["documents"][programme or ""])  # type: ignore[no-any-return]

    return app.query(read)
