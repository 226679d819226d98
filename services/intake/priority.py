"""A referral's priority: the order in which its programme's waiting cases are served.

Each programme has its own order, as its seed writes it (a setting per programme,
``LOTS_INTAKE_PRIORITY_ORDER``; ``docs/scheduling.md`` restates the table):

- **network work**: "beslutade biståndsinsatser har förtur framför serviceinsatser" (000; 002 §2
  "Bistånd och service"): decided assistance comes before service. The seeds give network work
  no rule for acute cases, so an acute case does not pass decided assistance; among services
  an acute case comes first. Default order: decision, acute, service.
- **counselling**: "Ärenden av akut karaktär ska prioriteras" (003 §2.3): acute first. Default
  order: acute, decision, service (counselling takes no decided assistance: intake refuses it).
- **coordinated support**: the seeds are silent (002 §1: it is never assessed as assistance;
  priorities are set *with the family* once support is offered, not in the queue). Choice:
  acute first, as in counselling, since a family in acute need should not wait behind others
  for a first contact. Default order: acute, decision, service.

An order ranks the three labels ``acute``, ``decision`` and ``service``. A referral carries the
label of its basis, and ``acute`` when it is acute; its priority is 1 plus the place in the order
of the first label it carries. So priority is always 1, 2 or 3 (the range of ``ReferralReceived``
v1), 1 is served first, and its meaning is the programme's: in network work by default 1 is
decided assistance, 2 acute service and 3 other service; with acute first (counselling,
coordinated support, or network work set to ``acute, decision, service``) 1 is acute, 2 decided
assistance and 3 service. Scheduling serves a programme's queue in this order and, within one
priority, acute cases before the others (so in network work an acute decision comes before a
normal one), then by due date.

**Intake owns the priority.** It is decided once, when the referral is received, from what the
referral says and the order in force that day; it is recorded with the case in intake's log and
published as ``priority``, so every consumer (scheduling's queue, audit, reports) reads the same
number and a replay gives the same. Scheduling orders by it and never derives it again: one rule
in one place. A changed order applies to referrals received afterwards; cases already waiting
keep the priority they were given, like their first-contact due date.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

Label = Literal["acute", "decision", "service"]
Order = tuple[Label, Label, Label]
LABELS: frozenset[str] = frozenset(get_args(Label))

#: The seeds' orders (see the module docstring).
DEFAULT_ORDERS: Mapping[str, Order] = MappingProxyType(
    {
        "network": ("decision", "acute", "service"),
        "coordinated": ("acute", "decision", "service"),
        "counselling": ("acute", "decision", "service"),
    }
)


def check_order(order: tuple[str, ...]) -> Order:
    """``order`` if it ranks each of the three labels once, else ValueError."""
    if len(order) != 3 or set(order) != LABELS:
        raise ValueError("a priority order ranks acute, decision and service, each once")
    first, second, third = order
    return (first, second, third)  # type: ignore[return-value]


def priority_of(order: Order, basis: str, urgency: str) -> int:
    """1 + the place in ``order`` of the first label the referral carries (its basis, and
    ``acute`` when acute): 1 is served first."""
    carried = {basis, "acute"} if urgency == "acute" else {basis}
    return 1 + next(place for place, label in enumerate(order) if label in carried)
