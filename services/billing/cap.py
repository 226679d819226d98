"""The yearly cap of ordered hours (003 §1.2): "Maximal beställningsvolym är 2 590 timmar per år",
more only by a written call-off ("skriftligen avropa ytterligare timmar").

Pure functions of their inputs, shared by the billing service, its replay and the offline
computation: how a session's client hours fall against the year's cap plus the call-offs in
force on its date, and the billed part of a session (its amount rounded by
:func:`~services.billing.pricing_time.amount_ore`, on the billed quarters, never pro rata).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.billing import SessionLogged
from services.billing.pricing_time import PricingError, amount_ore, client_hours
from services.billing.tariffs import Catalogue

THRESHOLDS = (80, 95, 100)
"""Per cent of the year's ordered hours whose crossing is reported."""
_ZERO = Decimal(0)


@dataclass(frozen=True)
class CallOff:
    """A written call-off (avrop) of extra hours for one calendar year (003 §1.2)."""

    ref: str
    year: int
    hours: Decimal

    def __post_init__(self) -> None:
        if self.hours <= 0 or (self.hours * 4) % 1 != 0:
            raise PricingError(f"call-off {self.ref}: hours must be a positive number of quarters")


@dataclass(frozen=True)
class CapSplit:
    """How one session's client hours fall against the year's ordered hours."""

    billed_hours: Decimal
    over_cap_hours: Decimal
    limit_hours: Decimal
    billed_after: Decimal
    thresholds_crossed: tuple[int, ...]


@dataclass(frozen=True)
class CapOutcome:
    session: SessionLogged
    split: CapSplit


def split_at_cap(
    billed_before: Decimal,
    hours: Decimal,
    cap_hours: int,
    call_offs: Iterable[CallOff],
    year: int,
) -> CapSplit:
    """Split ``hours`` into what fits under the year's cap plus its call-offs, and the rest."""
    if hours < 0 or billed_before < 0:
        raise PricingError("hours cannot be negative")
    limit = Decimal(cap_hours)
    for call_off in call_offs:
        if call_off.year == year:
            limit += call_off.hours
    billed = min(hours, max(_ZERO, limit - billed_before))
    after = billed_before + billed
    # Nothing billed crosses nothing: before < x <= before is impossible.
    crossed = (
        tuple(t for t in THRESHOLDS if billed_before < limit * t / 100 <= after) if billed else ()
    )
    return CapSplit(billed, hours - billed, limit, after, crossed)


def call_offs_in_force(
    recorded: Iterable[Mapping[str, Any]], programme: str, on: date
) -> list[CallOff]:
    """The recorded call-offs of ``on``'s year for ``programme`` in force on ``on``.

    A call-off orders extra hours from its ``effective_from`` date: sessions performed before it
    stay within the hours ordered before it.
    """
    return [
        CallOff(str(c["reference"]), int(c["year"]), Decimal(c["hours"]))
        for c in recorded
        if c["programme"] == programme and c["year"] == on.year and c["effective_from"] <= on
    ]


@dataclass(frozen=True, slots=True)
class Held:
    """Client hours held against the year's cap: the split, and if the cap cut them, the
    quarters still billed and the cap entry that cut them."""

    split: CapSplit
    cut_to_quarters: int | None
    cap_version: str

    def billed_hours(self, hours: Decimal) -> Decimal:
        """What is billed of ``hours``: all of it, or the quarters the cap left."""
        return hours if self.cut_to_quarters is None else client_hours(self.cut_to_quarters)


def hold_against_cap(
    programme: str,
    performed_on: date,
    hours: Decimal,
    billed_before: Decimal,
    call_offs: Iterable[CallOff],
    catalogue: Catalogue,
    session_id: UUID | str,
) -> Held:
    """Hold a session's client hours against the cap of its calendar year."""
    cap = catalogue.yearly_cap(programme, performed_on)
    split = split_at_cap(billed_before, hours, cap.hours, call_offs, performed_on.year)
    if split.over_cap_hours == 0:
        return Held(split, None, cap.tariff_version)
    if (split.billed_hours * 4) % 1 != 0:
        raise PricingError(f"session {session_id}: client hours are not whole quarters")
    return Held(split, int(split.billed_hours * 4), cap.tariff_version)


def apply_cap(
    session: SessionLogged,
    billed_before: Decimal,
    call_offs: Iterable[CallOff],
    catalogue: Catalogue,
) -> CapOutcome:
    """The billed part of a session given the hours already billed in its calendar year.

    Minutes and quarters stay as performed; client hours and amount shrink to the billed part
    (its amount rounded by :func:`amount_ore`), and the cap entry joins the tariff version.
    """
    held = hold_against_cap(
        session.programme,
        session.performed_on,
        session.client_hours,
        billed_before,
        call_offs,
        catalogue,
        session.session_id,
    )
    quarters = held.cut_to_quarters
    if quarters is None:
        return CapOutcome(session, held.split)
    billed = session.model_copy(
        update={
            "client_hours": client_hours(quarters),
            "amount_ore": amount_ore(session.rate, quarters),
            "tariff_version": f"{session.tariff_version};{held.cap_version}",
        }
    )
    return CapOutcome(billed, held.split)
