"""The polare rate table (seed 004) as a pure rule: which row of which table prices a polar.

A table is rows of (ages ``age_from``..``age_to``, from ``years_from`` years in the activity on,
öre per walk). The fee of a polar on a walk is the row of the table in force on the walk's date
(the table with the latest ``effective_from`` on or before it; of two with the same date, the one
recorded later) whose ages hold the polar's age and whose ``years_from`` is the highest not above
the polar's years (:func:`walk_fee_for`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from events.billing import PolareRate
from services.billing.tariff_entries import TariffError


class NoRate(LookupError):
    """No fee is known for a polar on a date; the text says which and why."""


@dataclass(frozen=True)
class RateTable:
    table_id: str
    effective_from: date
    rates: tuple[PolareRate, ...]


def check_rates(rates: Sequence[PolareRate]) -> None:
    """A table must be unambiguous: ages run low to high, and rows with the same
    ``years_from`` never share an age."""
    if not rates:
        raise TariffError("a rate table has at least one row")
    for row in rates:
        if row.age_from > row.age_to:
            raise TariffError(f"ages {row.age_from}-{row.age_to} run backwards")
    for i, a in enumerate(rates):
        for b in rates[i + 1 :]:
            if a.years_from == b.years_from and a.age_from <= b.age_to and b.age_from <= a.age_to:
                raise TariffError(
                    f"two rows from {a.years_from} years cover the same ages "
                    f"({a.age_from}-{a.age_to} and {b.age_from}-{b.age_to})"
                )


def table_in_force(tables: Sequence[RateTable], on: date) -> RateTable:
    """The table for a walk on ``on``: latest ``effective_from`` not after it, the later
    recorded of two with the same date (``tables`` in recording order)."""
    found: RateTable | None = None
    for table in tables:
        if table.effective_from <= on and (
            found is None or table.effective_from >= found.effective_from
        ):
            found = table
    if found is None:
        raise NoRate(f"no polare rate table is in force on {on}")
    return found


def walk_fee_for(table: RateTable, age: int, years: int) -> int:
    """Öre per walk for a polar of ``age`` in their ``years``-th year in the activity."""
    rows = [r for r in table.rates if r.age_from <= age <= r.age_to and r.years_from <= years]
    if not rows:
        raise NoRate(
            f"table {table.table_id} has no rate for age {age} in year {years} of the activity"
        )
    return max(rows, key=lambda r: r.years_from).ore_per_walk


def fee(tables: Sequence[RateTable], on: date, age: int, years: int) -> tuple[int, str]:
    """(öre, table id) of one polar's fee for a walk on ``on``."""
    table = table_in_force(tables, on)
    return walk_fee_for(table, age, years), table.table_id
