"""The lines of a month's settlement document, and what waits on the month unbilled.

Split from :mod:`services.billing.settlement`, whose module docstring describes the document:
``hourly`` lines (one per programme, rate and tariff version), ``adjustment`` lines (with the
fields only late sessions, manual adjustments or catch-ups carry), the notes where a price
level was carried forward, and the decimals written as the document writes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.billing import AdjustmentRecorded, SessionLogged
from services.billing.pricing_groups import NeedsDecision

Document = dict[str, Any]  # as settlement.py's


@dataclass(frozen=True)
class Awaiting:
    """A session whose price is not known: it waits, listed on its month, until the price is
    recorded or a person dismisses it (docs/billing.md)."""

    session_id: UUID
    meeting_id: UUID | None
    programme: str
    settlement_month: str
    reason: str


def carried_forward(hourly: list[Document]) -> list[str]:
    """Where an hourly line's price level was carried forward: no indexation recorded."""
    return [
        f"{line['programme']} hourly line at {line['rate']} SEK/h: {part}, "
        "the previous price level carried forward"
        for line in hourly
        for part in re.split(r"[+;]", line["tariff_version"])
        if part.startswith("unindexed-")
    ]


def waiting(
    month: str,
    wanted: Callable[[Iterable[str]], bool],
    pending: Iterable[NeedsDecision],
    awaiting: Iterable[Awaiting],
) -> Document:
    """What waits on the month, not billed: decisions on group sessions, and unknown prices."""
    undecided = {
        (str(p.meeting_id), p.reason, p.minutes, p.participants)
        for p in pending
        if p.settlement_month == month and wanted([p.programme])
    }
    unpriced = {
        (str(a.session_id), None if a.meeting_id is None else str(a.meeting_id), a.reason)
        for a in awaiting
        if a.settlement_month == month and wanted([a.programme])
    }
    return {
        "pending_decisions": [
            {"meeting_id": m, "reason": r, "minutes": n, "participants": p}
            for m, r, n, p in sorted(undecided)
        ],
        "awaiting_price": [
            {"session_id": s, "meeting_id": m, "reason": r}
            for s, m, r in sorted(unpriced, key=lambda u: u[0])
        ],
    }


def hourly_lines(sessions: list[SessionLogged]) -> list[Document]:
    groups: dict[tuple[str, str, str], list[SessionLogged]] = {}
    for s in sessions:
        groups.setdefault((s.programme, decimal_text(s.rate), s.tariff_version), []).append(s)
    return [
        {
            "programme": programme,
            "kind": "hourly",
            "rate": rate,
            "tariff_version": version,
            "sessions": len(group),
            "minutes": sum(s.minutes for s in group),
            "billable_quarters": sum(s.billable_quarters for s in group),
            "client_hours": decimal_text(sum((s.client_hours for s in group), Decimal(0))),
            "amount_ore": sum(s.amount_ore for s in group),
            "fees_collected_ore": sum(s.fee_ore for s in group),
        }
        for (programme, rate, version), group in groups.items()
    ]


def adjustment_line(adjustment: AdjustmentRecorded) -> Document:
    line: Document = {
        "programme": adjustment.programme,
        "kind": "adjustment",
        "adjustment_id": str(adjustment.adjustment_id),
        "belongs_to_month": adjustment.belongs_to_month,
        "reason": adjustment.reason,
        "amount_ore": adjustment.amount_ore,
    }
    # Only a late session's adjustment has these; other lines keep their shape.
    if adjustment.session_id is not None:
        line["session_id"] = str(adjustment.session_id)
    if adjustment.client_hours is not None:
        line["client_hours"] = decimal_text(adjustment.client_hours)
    if adjustment.fee_ore is not None:
        line["fees_collected_ore"] = adjustment.fee_ore
    # Only a manual adjustment (adjustments.py) has these.
    if adjustment.cause is not None:
        line["cause"] = adjustment.cause
    if adjustment.reference is not None:
        line["reference"] = adjustment.reference
    # Only a catch-up (catchup.py) has these.
    if adjustment.line is not None:
        line["line"] = adjustment.line
    if adjustment.tariff_version is not None:
        line["tariff_version"] = adjustment.tariff_version
    return line


def decimal_text(value: Decimal) -> str:
    """Two decimals ("11.25") when that is exact, else every digit: never rounds silently."""
    two = value.quantize(Decimal("0.01"))
    return str(two) if two == value else str(value)
