"""The contracts' terms as data, for the services that may not ask billing (issue 14 item 7).

Billing records each contract's term, extensions and notices in its tariff book
(``services/billing/tariffs.py``, ``terms.py``); services never import each other, so intake,
which flags referrals to a programme with no contract in force, reads the seeds' terms from
here, each end moved by the deployment's setting where billing recorded an extension or a
notice (``LOTS_INTAKE_CONTRACT_ENDS``). A test keeps :data:`SEED_TERMS` equal to billing's
default catalogue. Pure data and functions of a date: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date


@dataclass(frozen=True)
class ContractTerm:
    """A contract's programmes and the days it runs (inclusive); ``last_day`` None: until
    further notice."""

    contract: str
    programmes: tuple[str, ...]
    first_day: date
    last_day: date | None = None

    def covers(self, day: date) -> bool:
        return self.first_day <= day and (self.last_day is None or day <= self.last_day)


SEED_TERMS: tuple[ContractTerm, ...] = (
    # 000: network work 2018-01-01..2018-08-31.
    ContractTerm("network-2018", ("network",), date(2018, 1, 1), date(2018, 8, 31)),
    # 002: "Från 2018-09-01 till 2021-08-31", extendable by three years at a time.
    ContractTerm(
        "coordinated-network-2018",
        ("coordinated", "network"),
        date(2018, 9, 1),
        date(2021, 8, 31),
    ),
    # 003 §1.1 and 004: until further notice, 12 months' notice.
    ContractTerm("counselling-2022", ("counselling",), date(2022, 1, 1)),
    ContractTerm("field-2021", ("field",), date(2021, 1, 1)),
)
"""The seeds' terms, as billing's default catalogue records them (no extension, no notice)."""


@dataclass(frozen=True)
class NoContract:
    """A programme with no contract in force on a day, and the contract that ended last
    before it (None if none had: the programme's first contract has not begun)."""

    programme: str
    on: date
    contract: str | None
    ended_on: date | None

    @property
    def message(self) -> str:
        if self.contract is None or self.ended_on is None:
            return f"{self.programme}: no contract in force on {self.on.isoformat()}"
        return (
            f"{self.programme}: contract {self.contract} ended on {self.ended_on.isoformat()}; "
            f"no contract in force on {self.on.isoformat()}"
        )


def with_ends(
    terms: Iterable[ContractTerm], ends: Mapping[str, date | None]
) -> tuple[ContractTerm, ...]:
    """The terms with the ends ``ends`` names (an extension or a notice billing recorded);
    an unknown contract or an end before its start is refused (ValueError)."""
    out = tuple(terms)
    known = {t.contract for t in out}
    unknown = sorted(set(ends) - known)
    if unknown:
        raise ValueError(f"no contract {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    moved = tuple(replace(t, last_day=ends[t.contract]) if t.contract in ends else t for t in out)
    for term in moved:
        if term.last_day is not None and term.last_day < term.first_day:
            raise ValueError(f"{term.contract} cannot end before it starts ({term.first_day})")
    return moved


def no_contract(terms: Iterable[ContractTerm], programme: str, on: date) -> NoContract | None:
    """None if a contract of ``programme`` is in force on ``on``; else what is known of why."""
    own = [t for t in terms if programme in t.programmes]
    if any(t.covers(on) for t in own):
        return None
    ended = [t for t in own if t.last_day is not None and t.last_day < on]
    if not ended:
        return NoContract(programme, on, None, None)
    last = max(ended, key=lambda t: (t.last_day, t.contract))
    return NoContract(programme, on, last.contract, last.last_day)
