"""A tariff lookup's answers: the quotes, the refusal when no price is known, the indexation
factor and the one rounding of money (:mod:`services.billing.tariffs`' :class:`Catalogue`
gives them).

Indexation compounds on the base price (:func:`index_factor`); the caller rounds once, at the
end, with :func:`ore_half_up`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, TypeVar

from infra.refusals import Refused
from services.billing.tariff_entries import Dated, FixedPayment, Indexation, Posts

Unindexed = Literal["carry_forward", "refuse"]


class PriceNotKnown(Refused, LookupError):
    """No price is known for a date; raised instead of ever pricing at zero (answered 409)."""

    status = 409

    def __init__(self, price: str, on: date, why: str = "no tariff entry is in force") -> None:
        self.price = price
        self.on = on
        super().__init__(f"{price} is not known for {on.isoformat()}: {why}")


def ore_half_up(ore: Decimal) -> int:
    """Round an amount in öre to whole öre, half-up: the one rounding of every money amount."""
    return int(ore.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class RateQuote:
    sek_per_hour: Decimal
    tariff_version: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OreQuote:
    ore: int
    tariff_version: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CapQuote:
    hours: int
    tariff_version: str


@dataclass(frozen=True)
class FixedQuote:
    payment: FixedPayment
    period_amount_ore: int
    tariff_version: str
    notes: tuple[str, ...] = ()
    #: The agreed posts the amount was derived from, when a :class:`Posts` entry is in force.
    posts: Posts | None = None


D = TypeVar("D", bound=Dated)


def in_force(entries: tuple[D, ...], on: date, price: str) -> D:
    """The entry in force on ``on``; :class:`PriceNotKnown` when none is."""
    # The newest entry wins where validities overlap: a revision need not close the old entry.
    candidates = [e for e in entries if e.covers(on)]
    if not candidates:
        raise PriceNotKnown(price, on)
    return max(candidates, key=lambda e: e.valid_from)


def index_factor(
    indexations: tuple[Indexation, ...],
    unindexed: Unindexed,
    series: str | None,
    level_year: int,
    on: date,
    name: str,
) -> tuple[Decimal, list[str], tuple[str, ...]]:
    """The factor ``(1 + p1/100) * (1 + p2/100) ...`` of every indexation of ``series`` due after
    ``level_year`` and applied by ``on``, exact (the caller rounds once), with the refs that
    name them and the notes of years carried forward unindexed."""
    factor = Decimal(1)
    refs: list[str] = []
    notes: list[str] = []
    if series is None:
        return factor, refs, ()
    # An indexation is due for every year after the price-level year, from 1 January of that
    # year (000: from 2018-01-01 on a 2017 level; 002: from 2019-01-01 on a 2018 level).
    for year in range(level_year + 1, on.year + 1):
        found = [i for i in indexations if i.series == series and i.year == year]
        if not found:
            if unindexed == "refuse":
                raise PriceNotKnown(name, on, f"no {series} indexation recorded for {year}")
            refs.append(f"unindexed-{series}-{year}")
            notes.append(
                f"{name}: no {series} indexation recorded for {year}; "
                f"the previous price level is carried forward"
            )
        elif found[0].applies_from <= on:
            factor *= 1 + found[0].percent / 100
            refs.append(found[0].ref)
    return factor, refs, tuple(notes)
