"""The contracts' terms and the rule that ends them, shared by billing and intake (issue 14
item 7).

Billing records each contract's term, extensions and notices of termination in its tariff book
(``services/billing/tariffs.py``, ``terms.py``) and publishes every entry recorded after the
seeds' catalogue as ``TariffRecorded`` on ``billing.events``. Services never import each other,
so the rule that gives a term its end lives here, and both use it:

- :func:`term_end`: a term's last day is its recorded end moved by ``extension_years`` for each
  extension recorded (to the same month's last day), then cut to a recorded notice's
  ``ends_on`` where that is earlier; None (until further notice) when it has no end and no
  notice. Billing's :meth:`Catalogue.term_end` is this function.
- :func:`followed`: the seeds' terms (:data:`SEED_TERMS`, equal to billing's default
  catalogue; a test keeps them so) followed by billing's recorded ``term``, ``extension`` and
  ``termination`` entries in the order recorded, each term given its end by :func:`term_end`.
  Intake keeps those entries in its store as it consumes them and judges referrals by this.
- :func:`no_contract`: whether a programme has a contract in force on a day and, if not, the
  contract that ended last before it. Intake flags referrals by it; billing's settlement notes
  and ``lots status`` warnings name the same contract and end.

Pure data and functions of a date: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from infra import months

FOLLOWED_KINDS = frozenset({"term", "extension", "termination"})
"""The kinds of tariff entry that move a contract's term (the rest are prices)."""


@dataclass(frozen=True)
class ContractTerm:
    """A contract's programmes and the days it runs (inclusive); ``last_day`` None: until
    further notice. ``extension_years``: set where the orderer may extend it (002)."""

    contract: str
    programmes: tuple[str, ...]
    first_day: date
    last_day: date | None = None
    extension_years: int | None = None

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
        extension_years=3,
    ),
    # 003 §1.1 and 004: until further notice, 12 months' notice.
    ContractTerm("counselling-2022", ("counselling",), date(2022, 1, 1)),
    ContractTerm("field-2021", ("field",), date(2021, 1, 1)),
)
"""The seeds' terms, as billing's default catalogue records them (no extension, no notice)."""


def term_end(
    last_day: date | None,
    extension_years: int | None,
    extensions: int,
    notice_ends_on: date | None = None,
) -> date | None:
    """A term's last day after ``extensions`` recorded extensions and a notice ending it on
    ``notice_ends_on`` (the rule in the module docstring)."""
    end = last_day
    if last_day is not None:
        year = last_day.year + (extension_years or 0) * extensions
        end = months.last_day(year, last_day.month)
    if notice_ends_on is None:
        return end
    return notice_ends_on if end is None else min(end, notice_ends_on)


def followed(
    seeds: Iterable[ContractTerm], entries: Iterable[Mapping[str, Any]]
) -> tuple[ContractTerm, ...]:
    """The terms after billing's recorded entries (``TariffEntry`` records: ``kind`` and
    ``fields``), in the order recorded; other kinds are ignored. The first term and the first
    notice recorded for a contract count (billing records no second), and an extension or a
    notice of a contract with no term is ignored (billing refuses them)."""
    terms = {t.contract: t for t in seeds}
    extensions: dict[str, int] = {}
    notices: dict[str, date] = {}
    for entry in entries:
        kind, values = entry["kind"], entry["fields"]
        if kind == "term" and values["contract"] not in terms:
            terms[values["contract"]] = ContractTerm(
                values["contract"],
                tuple(values["programmes"]),
                _day(values["valid_from"]),
                None if values.get("valid_to") is None else _day(values["valid_to"]),
                values.get("extension_years"),
            )
        elif kind == "extension":
            extensions[values["contract"]] = extensions.get(values["contract"], 0) + 1
        elif kind == "termination":
            notices.setdefault(values["contract"], _day(values["ends_on"]))
    return tuple(
        replace(
            t,
            last_day=term_end(t.last_day, t.extension_years, extensions.get(c, 0), notices.get(c)),
        )
        for c, t in terms.items()
    )


def _day(value: Any) -> date:
    """A date as recorded: ISO text on the stream, a date where billing calls this itself."""
    return value if isinstance(value, date) else date.fromisoformat(value)


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
