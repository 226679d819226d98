"""Manual adjustments: an amount a person books on an open month, with its reason and reference.

Issue 14 item 2: corrections (a set-off the parties agreed, an amount wrongly billed in a closed
month) are booked as an ``adjustment`` line of an **open** month, never by editing a closed one.
One record carries everything an auditor needs: the amount in öre (negative to credit the
municipality, never 0), the open month it is booked on, the month it corrects
(``belongs_to_month``, by default the month itself), the reason, and the written reference it
rests on (diarienummer, the committee's decision). Its id derives from programme, month, the
month it corrects and the reference, so the same correction recorded twice is the same record
(refused the second time) and re-derives offline.

The service builds the record with :func:`manual_adjustment`; its replay and the offline
computation make it again from the recorded fields with :func:`rederived` and refuse one that
does not re-derive; all three settle it with ``settle`` (``settlement.py``), as a line of kind
``adjustment`` carrying ``reason`` and ``reference``, in ``total_ore`` and ``net_ore`` (it has
no client hours and no fees). Pure functions.
"""

from __future__ import annotations

import unicodedata
from uuid import NAMESPACE_URL, UUID, uuid5

from events.billing import AdjustmentRecorded

MANUAL_NAMESPACE = uuid5(NAMESPACE_URL, "lots:billing:manual-adjustment")
"""Namespace of manual adjustments' ids; never change it (ids must re-derive)."""
#: Bounds of one adjustment, so that a typing error of many digits is refused.
LIMIT_ORE = 10**13
REASON_MAX, REFERENCE_MAX = 2000, 200


class AdjustmentError(ValueError):
    """An adjustment that cannot be recorded as given."""


def manual_adjustment(
    *,
    month: str,
    programme: str,
    amount_ore: int,
    reason: str,
    reference: str,
    corrects: str | None = None,
    recorded_by: str | None = None,
) -> AdjustmentRecorded:
    """The record of one manual adjustment booked on ``month`` (checked open by the caller)."""
    if amount_ore == 0 or abs(amount_ore) > LIMIT_ORE:
        raise AdjustmentError(f"amount_ore must be a non-zero number of öre within ±{LIMIT_ORE}")
    _text("reason", reason, REASON_MAX)
    _text("reference", reference, REFERENCE_MAX)
    belongs = corrects or month
    if belongs > month:  # YYYY-MM compares as dates do
        raise AdjustmentError(
            f"an adjustment booked on {month} cannot correct a later month ({belongs})"
        )
    return AdjustmentRecorded(
        adjustment_id=adjustment_id_for(programme, month, belongs, reference),
        month=month, belongs_to_month=belongs, programme=programme,  # type: ignore[arg-type]
        amount_ore=amount_ore, reason=reason, cause="manual", reference=reference,
        recorded_by=recorded_by,
    )  # fmt: skip


def adjustment_id_for(programme: str, month: str, corrects: str, reference: str) -> UUID:
    return uuid5(MANUAL_NAMESPACE, f"{programme}/{month}/{corrects}/{reference}")


def is_manual(adjustment: AdjustmentRecorded) -> bool:
    return adjustment.cause == "manual"


def rederived(recorded: AdjustmentRecorded) -> AdjustmentRecorded:
    """The manual adjustment made again from its recorded fields, checked by the same rules;
    refused (AdjustmentError) if it does not re-derive to the very record (its id no longer
    derives from its programme, months and reference). An altered amount or reason is found
    by the closed document's digest, which replay and offline compute compare with."""
    again = manual_adjustment(
        month=recorded.month,
        programme=recorded.programme,
        amount_ore=recorded.amount_ore,
        reason=recorded.reason,
        reference=recorded.reference or "",
        corrects=recorded.belongs_to_month,
        recorded_by=recorded.recorded_by,
    )
    if again != recorded:
        raise AdjustmentError(
            f"adjustment {recorded.adjustment_id} does not re-derive from its recorded fields"
        )
    return again


def _text(name: str, value: str, longest: int) -> None:
    if not value.strip():
        raise AdjustmentError(f"{name} must not be blank (it is shown on the statement)")
    if len(value) > longest:
        raise AdjustmentError(f"{name} is longer than {longest} characters")
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise AdjustmentError(f"{name} holds a control or format character")
