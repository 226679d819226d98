"""The municipality's contracts with the provider, named in words for the people who read
warnings (``lots status``, the status page).

The code cites the contracts by their seed numbers and clauses ("002", "003 §4.2"); an operator
knows them as "the family counselling contract". Warnings say which contract in words, keeping
the clause where it helps, and their ``code`` stays the machine-readable part.
"""

from __future__ import annotations

#: Seed number -> the contract in words (docs/domain.md's table of programmes).
SEEDS = {
    "000": "the network work contract (January to August 2018)",
    "001": "the coordinated support decision (2018)",
    "002": "the coordinated support and network work contract (2018)",
    "003": "the family counselling contract (2022)",
    "004": "the field work contract (2021)",
}

#: Billing's contract ids (``services/billing/tariffs.py``) -> the contract in words.
CONTRACTS = {
    "network-2018": SEEDS["000"],
    "coordinated-network-2018": SEEDS["002"],
    "counselling-2022": SEEDS["003"],
    "field-2021": SEEDS["004"],
}

#: Billing's programme ids in words.
PROGRAMMES = {
    "network": "network work",
    "coordinated": "coordinated support",
    "counselling": "family counselling",
    "field": "field work",
}


def seed(number: str, section: str | None = None) -> str:
    """``seed("003", "4.2")``: "the family counselling contract (2022), section 4.2"."""
    name = SEEDS[number]
    return f"{name}, section {section}" if section else name


def contract(contract_id: str) -> str:
    """A contract recorded in billing, in words; one recorded later than the seeds by its id."""
    return CONTRACTS.get(contract_id, f"the contract recorded as {contract_id}")


def programme(programme_id: str) -> str:
    return PROGRAMMES.get(programme_id, programme_id)
