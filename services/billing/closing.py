"""Closing a month: by hand, early, or by billing itself when the month's grace window ends.

A closed month records its canonical document and digest and never changes again
(``docs/billing.md``). :func:`close_month` is the close by hand; :func:`close_due` closes, each
in its own transaction, the months whose grace window has ended (``grace.py``): before a
command books on a month, before a batch of held meetings is applied
(:func:`close_months_of_meetings`) and by the periodic job (:func:`close_due_months`).
:func:`preview` shows what a close would record now, recording nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any

import structlog

from events.scheduling import MeetingHeld
from events.types import PROGRAMMES
from infra.batches import Incoming
from infra.calendar import local_date, month_of
from infra.months import end_of_month, previous_month
from infra.words import counted
from services.billing import views
from services.billing.booking import Booker
from services.billing.books import Books
from services.billing.catchup_book import own_of
from services.billing.domain_settlement import Settlement
from services.billing.errors import BillingError, Conflict, MonthClosed
from services.billing.grace import (
    GRACE_CLOSER,
    CloseKind,
    grace_ends,
    grace_over,
    grace_record,
    in_grace,
)
from services.billing.settlement import (
    Document,
    SettlementError,
    canonical_json,
    check_month,
    month_start,
)
from services.billing.tariff_quotes import PriceNotKnown

#: How many months back the periodic job looks for months whose grace window has ended.
SWEEP_MONTHS = 13

log = structlog.get_logger(__name__)


def close_months_of_meetings(app: Books, items: Iterable[Incoming]) -> list[str]:
    """The step before a batch is applied: close the months of its held meetings whose grace
    window has ended, so that their sessions become adjustments on the first open month."""
    return close_due(
        app,
        (
            month_of(item.envelope.message.started_at)
            for item in items
            if isinstance(item.envelope.message, MeetingHeld)
        ),
    )


def close_due(app: Books, months: Iterable[str], *, recorded_only: bool = False) -> list[str]:
    """Close each of ``months`` whose grace window has ended and that is still open; return
    the months closed now. A month with sessions waiting for a price cannot close and stays
    open (its sessions keep landing in it until it is closed). ``recorded_only``: leave a
    month that nothing was ever booked on alone (the periodic job's sweep)."""
    if app.grace_days == 0:
        return []
    closed = []
    for month in sorted(set(months)):
        if month in app.closed_months or not grace_over(
            month, app.clock(), app.grace_days, app.calendar
        ):
            continue
        grace = grace_record(month, app.grace_days, "automatic", app.calendar)
        try:
            outcome = app.transact(
                partial(_close_due, month=month, grace=grace, recorded_only=recorded_only)
            )
        except (BillingError, PriceNotKnown, SettlementError) as exc:
            log.warning("grace window over, month not closed", month=month, error=str(exc))
            continue
        if outcome != "open":
            app.closed_months.add(month)
        if outcome == "closed":
            log.info("month closed: grace window over", month=month)
            closed.append(month)
    return closed


def close_due_months(app: Books) -> list[str]:
    """The periodic job: close the months of the last ``SWEEP_MONTHS`` (and every month a
    session waits in) that have a settlement and whose grace window has ended."""
    if app.grace_days == 0:
        return []
    month = month_of(app.clock())
    recent = []
    for _ in range(SWEEP_MONTHS):
        month = previous_month(month)
        recent.append(month)
    waiting = {str(item["month"]) for item in app.query(views.worklist)}
    return close_due(app, [*recent, *waiting], recorded_only=True)


def _close_due(booker: Booker, *, month: str, grace: dict[str, Any], recorded_only: bool) -> str:
    found = booker.uow.get(Settlement.create_id(month), Settlement)
    if found is not None and found.is_closed:
        return "closed before"
    if (found is None and recorded_only) or (found is not None and found.awaiting_price):
        return "open"
    close(booker, month, GRACE_CLOSER, grace)
    return "closed"


def grace_window(app: Books, month: str) -> dict[str, Any]:
    """The month's grace window as set now: its end, and whether it is running."""
    check_month(month, None)
    now, days, calendar = app.clock(), app.grace_days, app.calendar
    if days == 0:
        return {"grace_days": 0, "grace_ends": None, "in_grace": False, "grace_over": False}
    return {
        "grace_days": days,
        "grace_ends": grace_ends(month, days, calendar).isoformat(),
        "in_grace": in_grace(month, now, days, calendar),
        "grace_over": grace_over(month, now, days, calendar),
    }


def phase(app: Books, month: str, now: datetime) -> str:
    """``current`` (not over), ``in_grace``, or ``over`` (over, and any grace has ended)."""
    if local_date(now) <= end_of_month(month_start(month)):
        return "current"
    if in_grace(month, now, app.grace_days, app.calendar):
        return "in_grace"
    return "over"


def close_refusal(
    app: Books, month: str, now: datetime, *, early: bool, awaiting: list[str]
) -> str | None:
    """Why a close by hand of the open ``month`` is refused at ``now``; None if it is not."""
    today = local_date(now)
    if today <= end_of_month(month_start(month)):
        return f"{month} is not over (today is {today}); it is settled in arrears"
    if not early and in_grace(month, now, app.grace_days, app.calendar):
        ends = grace_ends(month, app.grace_days, app.calendar)
        return (
            f"{month} is in its grace window of "
            f"{counted(app.grace_days, 'business day')} until "
            f"{ends.strftime('%Y-%m-%d %H:%M')} Europe/Stockholm: late sessions still land "
            "in it, and it is closed when the window ends; close it early (--early, or "
            "early=true) to end the window now"
        )
    if awaiting:
        return (
            f"{month} cannot be closed: {counted(len(awaiting), 'session')} "
            f"{'waits' if len(awaiting) == 1 else 'wait'} for a price "
            f"({'; '.join(awaiting)}); record the missing tariff first"
        )
    return None


def close_month(
    app: Books, month: str, closed_by: str | None = None, *, early: bool = False
) -> Document:
    """Close the month: record its canonical document and digest; it never changes again.

    With a grace window set, a month in its window is closed only if ``early`` is given
    (the close records that it ended the window early); afterwards it may be closed by
    hand until billing closes it itself.
    """
    check_month(month, None)

    def change(booker: Booker) -> Document:
        now = app.clock()
        if local_date(now) <= end_of_month(month_start(month)):
            raise Conflict(
                f"{month} is not over (today is {local_date(now)}); it is settled in arrears"
            )
        if booker.is_closed(month):
            raise MonthClosed(f"{month} is already closed")
        refusal = close_refusal(app, month, now, early=early, awaiting=[])
        if refusal is not None:
            raise Conflict(refusal)
        kind: CloseKind = (
            "early" if in_grace(month, now, app.grace_days, app.calendar) else "by_hand"
        )
        grace = grace_record(month, app.grace_days, kind, app.calendar)
        return close(booker, month, closed_by, grace)

    document = app.transact(change)
    app.closed_months.add(month)
    return document


def close(booker: Booker, month: str, closed_by: str | None, grace: dict[str, Any]) -> Document:
    """Record the month's close: its documents (all programmes and each), digest, cap usage
    and grace window; return the whole document."""
    settlement = booker.settlement(month)
    # Its own sessions logged before a revision reach the new price (catchup.py).
    for adjustment in own_of(booker, settlement):
        settlement.book_adjustment(adjustment.model_dump(mode="json"))
    documents = {
        key or "": views.document_of(booker, settlement, month, key) for key in (None, *PROGRAMMES)
    }
    settlement.close(
        document=canonical_json(documents[""]),
        documents={k: canonical_json(v) for k, v in documents.items()},
        digest=documents[""]["digest"],
        closed_at=booker.clock(),
        closed_by=closed_by,
        tariff_book_version=booker.book.version,
        cap_usage=views.month_cap_usage(booker, month),
        grace=grace,
    )
    return documents[""]


def preview(app: Books, month: str, programme: str | None = None) -> dict[str, Any]:
    """What closing the open month now would record, computed and recorded nowhere.

    The document is exactly the one :func:`close_month` would record at this moment (so, if
    nothing changes in between, the close gives the same document and digest); the view
    around it says it is a preview, not final, and whether a close would be allowed now.
    """
    check_month(month, programme)
    now = app.clock()
    grace = grace_window(app, month)

    def read(booker: Booker) -> dict[str, Any]:
        found = booker.uow.get(Settlement.create_id(month), Settlement)
        if found is not None and found.closed is not None:
            raise MonthClosed(
                f"{month} is closed; its document is final (lots settlement show {month})"
            )
        awaiting = sorted(set((found.awaiting_price if found else {}).values()))
        return {
            "preview": True,
            "final": False,
            "month": month,
            "programme": programme,
            "computed_at": now.isoformat(),
            "status": phase(app, month, now),
            "grace": grace,
            "closable": close_refusal(app, month, now, early=False, awaiting=awaiting),
            "document": views.document_of(booker, found, month, programme),
            "cap_usage": views.month_cap_usage(booker, month),
            "awaiting_price": awaiting,
            "term_ends": views.term_ends(booker),
        }

    view = app.query(read)
    refusal = view.pop("closable")
    view["closable"] = refusal is None
    view["close_refusal"] = refusal
    return view
