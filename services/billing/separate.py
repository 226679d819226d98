"""Premises share and state grants (003 §1.2): recorded, and reported apart from the lines.

003 §1.2 names two amounts that are not Leanlink's lines:

- **premises share** (``premises_share``): "Lokalkostnadens (inklusive drift, hyra och
  underhåll) andel av totalkostnaden ska vid efterfrågan kunna redovisas separat". The hourly
  price already includes the premises ("I timpriset ingår samtliga kostnader ... lokalkostnader
  mm."), so the share is a part of what the lines already bill, shown apart on request; adding
  it would bill the premises twice.
- **state grants** (``state_grant``): "Eventuella statsbidrag som kan komma att utgå till
  avtalad verksamhet eller lokaler tillfaller social- och omsorgsnämnden". A grant belongs to
  the committee; the seed does not say that it is set off against the payment (nor how), so it
  is reported, not netted.

Neither is therefore ever in a document's ``total_ore``, ``fees_ore`` or ``net_ore``: the
document shows them under ``reported_separately`` (only when the month has any, so documents
without them are unchanged), one row per recorded amount and a sum per kind. Each is recorded
with its amount in öre, the period it concerns and the written reference it rests on, on an
open month's settlement (a closed month is never changed). Pure functions; the service, its
replay and the offline computation all call them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from events.billing import SeparateAmountRecorded

KINDS = ("premises_share", "state_grant")
_NAMESPACE = uuid5(NAMESPACE_URL, "lots:billing:separate-amount")
"""Namespace of the recorded amounts' ids; never change it (ids must re-derive)."""


class SeparateAmountError(ValueError):
    """An amount that cannot be recorded as given (a period that ends before it starts)."""


def separate_amount(
    *,
    kind: str,
    programme: str,
    amount_ore: int,
    period_from: date,
    period_to: date,
    month: str,
    reference: str,
    note: str | None = None,
    recorded_by: str | None = None,
) -> SeparateAmountRecorded:
    """The record of one amount; its id derives from kind, programme, month and reference, so
    the same amount recorded twice is the same record."""
    if period_to < period_from:
        raise SeparateAmountError(f"the period ends ({period_to}) before it starts ({period_from})")
    if not reference.strip():
        raise SeparateAmountError("reference must name the written decision or statement")
    item_id = item_id_for(kind, programme, month, reference)
    return SeparateAmountRecorded(
        item_id=item_id, kind=kind, programme=programme, amount_ore=amount_ore,  # type: ignore[arg-type]
        period_from=period_from, period_to=period_to, settlement_month=month,
        reference=reference, note=note, recorded_by=recorded_by,
    )  # fmt: skip


def item_id_for(kind: str, programme: str, month: str, reference: str) -> UUID:
    return uuid5(_NAMESPACE, f"{kind}/{programme}/{month}/{reference}")


def reported_separately(
    records: Iterable[SeparateAmountRecorded], month: str, wanted: Callable[[Iterable[str]], bool]
) -> dict[str, Any] | None:
    """The month's amounts reported apart: rows sorted by kind, programme, period and
    reference, and a sum per kind; None when the month has none."""
    rows = sorted(
        (_row(r) for r in records if r.settlement_month == month and wanted([r.programme])),
        key=lambda row: (row["kind"], row["programme"], row["period_from"], row["reference"]),
    )
    if not rows:
        return None
    sums = {
        f"{kind}_ore": sum(int(r["amount_ore"]) for r in rows if r["kind"] == kind)
        for kind in KINDS
    }
    return {"items": rows, **sums}


def _row(record: SeparateAmountRecorded) -> dict[str, Any]:
    return {
        "kind": record.kind,
        "programme": record.programme,
        "amount_ore": record.amount_ore,
        "period_from": record.period_from.isoformat(),
        "period_to": record.period_to.isoformat(),
        "reference": record.reference,
        "note": record.note,
        "item_id": str(record.item_id),
    }
