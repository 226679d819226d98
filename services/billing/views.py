"""What billing shows of its records: a session, a month's document, the yearly cap's usage.

Read-side helpers shared by the application's queries and its close command; they read the
aggregates of a unit of work and never change them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.scheduling import MeetingHeld
from infra.months import end_of_month
from services.billing.booking import Booker
from services.billing.cap import call_offs_in_force
from services.billing.catchup_book import own_of
from services.billing.domain_accounts import Worklist
from services.billing.domain_cap import CapAccount
from services.billing.domain_session import Session
from services.billing.domain_settlement import Settlement
from services.billing.session_sources import needs_of, source_of
from services.billing.settlement import Document, month_start, settle
from services.billing.settlement_lines import Awaiting
from services.billing.tariff_quotes import PriceNotKnown


def session_view(session: Session) -> dict[str, Any]:
    return {
        "session_id": str(session.id),
        "case_id": str(session.case_id),
        "status": session.status,
        "waiting_in": session.waiting_in,
        "decision": session.decision,
        "session": session.logged,
    }


def worklist(booker: Booker) -> list[dict[str, Any]]:
    """Sessions waiting for a person (a decision, or a price that is not known), by month."""
    found = booker.uow.get(Worklist.create_id(), Worklist)
    items = [] if found is None else list(found.items.values())
    return sorted(items, key=lambda i: (i["month"], i["need"], i["session_id"]))


def document_of(
    booker: Booker, settlement: Settlement | None, month: str, programme: str | None
) -> Document:
    if settlement is None:
        return settle(month, [], booker.catalogue, programme=programme)
    # An open month shows the catch-ups its close would book for its own sessions.
    own = (
        []
        if settlement.is_closed
        else [a.model_dump(mode="json") for a in own_of(booker, settlement)]
    )
    return settle(
        month,
        list(settlement.sessions.values()),
        booker.catalogue,
        programme=programme,
        adjustments=[*settlement.adjustments.values(), *own],
        pending=[needs_of(p) for p in settlement.awaiting_decision.values()],
        awaiting=awaiting_of(booker, settlement),
        apart=list(settlement.apart.values()),
        separate=list(settlement.separate.values()),
    )


def awaiting_of(booker: Booker, settlement: Settlement) -> list[Awaiting]:
    """The sessions waiting on the month for a price, each with what it was opened from."""
    out = []
    for session_id, reason in settlement.awaiting_price.items():
        session = booker.uow.get(UUID(session_id), Session)
        assert session is not None  # a month lists only sessions billing holds
        source = source_of(session.meeting, session.time_entry)
        meeting_id = source.meeting_id if isinstance(source, MeetingHeld) else None
        out.append(Awaiting(session.id, meeting_id, source.programme, settlement.month, reason))
    return out


def month_cap_usage(booker: Booker, month: str) -> list[dict[str, Any]]:
    start = month_start(month)
    end = end_of_month(start)
    found = (cap_usage(booker, p, end) for p in sorted(booker.catalogue.hourly_programmes()))
    return [usage for usage in found if usage is not None]


def cap_usage(booker: Booker, programme: str, on: date) -> dict[str, Any] | None:
    """Hours billed against the cap of ``on``'s year, as recorded now; None if it has no cap."""
    try:
        cap = booker.catalogue.yearly_cap(programme, on)
    except PriceNotKnown:
        return None
    account = booker.uow.get(CapAccount.create_id(programme, on.year), CapAccount)
    call_offs = call_offs_in_force(booker.book.call_offs, programme, on)
    called_off = sum((c.hours for c in call_offs), Decimal(0))
    limit = Decimal(cap.hours) + called_off
    billed = account.billed if account else Decimal(0)
    return {
        "programme": programme,
        "year": on.year,
        "cap_hours": cap.hours,
        "call_off_hours": str(called_off),
        "limit_hours": str(limit),
        "billed_hours": str(billed),
        "over_cap_hours": str(account.over_cap if account else Decimal(0)),
        "used_percent": str((billed * 100 / limit).quantize(Decimal("0.1")) if limit else "-"),
        "warnings": sorted({int(w["percent"]) for w in account.warnings} if account else set()),
    }


def term_ends(booker: Booker) -> dict[str, str]:
    """Each contract's last day after its recorded extensions and notice, for the statement's
    "extended to …" (a contract until further notice has none)."""
    catalogue = booker.catalogue
    ends = {t.contract: catalogue.term_end(t.contract) for t in catalogue.terms}
    return {contract: end.isoformat() for contract, end in ends.items() if end is not None}
