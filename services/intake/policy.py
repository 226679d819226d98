"""The settings intake judges a referral by (:class:`IntakePolicy`), and the words the rules
read a referral's free strings into (programmes, bases, urgencies).

Defaults are the seeds' values; a bad policy is refused when it is made, so that
:func:`services.intake.rules.evaluate` stays total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

from infra.calendar import CalendarPolicy
from infra.contract_terms import SEED_TERMS, ContractTerm
from services.intake.coordinated import INDICATORS
from services.intake.priority import DEFAULT_ORDERS, Order, check_order
from services.intake.settings import Referable

Basis = Literal["service", "decision"]
Urgency = Literal["normal", "acute"]

# Lookup tables rather than membership tests: ``.get`` narrows a free string to its Literal.
PROGRAMMES: Mapping[str, Referable] = MappingProxyType({p: p for p in get_args(Referable)})
BASES: Mapping[str, Basis] = MappingProxyType({b: b for b in get_args(Basis)})
URGENCIES: Mapping[str, Urgency] = MappingProxyType({u: u for u in get_args(Urgency)})


@dataclass(frozen=True)
class IntakePolicy:
    """The settings intake decides by; defaults are the seeds' values.

    ``age_ranges`` names the programmes that serve a child, with the child's inclusive age
    range in completed years. ``resident_only`` names the programmes restricted to residents of
    ``home_municipality``; network work and coordinated support are not, because their seeds set
    no residency rule at intake. ``decision_programmes`` names the programmes that decided
    assistance reaches. ``priority_orders`` is each programme's order of service
    (:mod:`services.intake.priority`).
    """

    #: The seed's literal reading: every indicator "skall vara uppfyllda" (002 §1). Only a
    #: decision of the administration recorded in intake's store relaxes it
    #: (:mod:`services.intake.eligibility`).
    min_indicators: int = len(INDICATORS)
    first_contact_days: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType(dict.fromkeys(PROGRAMMES, 14))
    )
    age_ranges: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: MappingProxyType({"network": (0, 20), "coordinated": (6, 16)})
    )
    home_municipality: str = "0580"
    resident_only: frozenset[str] = frozenset({"counselling"})
    decision_programmes: frozenset[str] = frozenset({"network"})
    priority_orders: Mapping[str, Order] = field(default_factory=lambda: DEFAULT_ORDERS)
    note_max_chars: int = 2000
    ack_hours: int = 24
    calendar: CalendarPolicy = field(default_factory=CalendarPolicy)
    #: The contracts' terms (``infra/contract_terms.py``): a referral to a programme with no
    #: contract in force on the day received is accepted and flagged (issue 14 item 7).
    contract_terms: tuple[ContractTerm, ...] = SEED_TERMS

    def __post_init__(self) -> None:
        # A bad policy is a deployment error: refuse it here so that evaluate() stays total.
        known = set(PROGRAMMES)
        if set(self.first_contact_days) != known or min(self.first_contact_days.values()) < 0:
            raise ValueError("first_contact_days needs a non-negative value for every programme")
        if not set(self.age_ranges) <= known or any(
            not 0 <= low <= high for low, high in self.age_ranges.values()
        ):
            raise ValueError("age_ranges must map known programmes to 0 <= low <= high")
        if not (self.resident_only | self.decision_programmes) <= known:
            raise ValueError("resident_only and decision_programmes must name known programmes")
        if set(self.priority_orders) != known:
            raise ValueError("priority_orders needs an order for every programme")
        for order in self.priority_orders.values():
            check_order(order)
        if not 0 <= self.min_indicators <= len(INDICATORS):
            raise ValueError("min_indicators must be between 0 and 5")
        if self.note_max_chars < 0 or self.ack_hours < 0:
            raise ValueError("note_max_chars and ack_hours must not be negative")
