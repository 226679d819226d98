"""The kinds of tariff entry the contracts set, and the plain records they are kept as.

An entry is dated data (a rate, a fee, a cap, a fixed payment, agreed posts, a contract term)
or an event of a contract (an indexation, an extension, a notice of termination), each with an
id unique in the catalogue and a ``ref`` that fingerprints its content. :func:`entry_record`
is how an entry is recorded in billing's store and published on ``billing.events`` (a record
with its ``kind``, never a class path), :func:`entry_from_record` reads it back.
:class:`~services.billing.tariffs.Catalogue` answers prices from these entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

from infra.refusals import Refused

OPI = "OPI"
"""SKR's care price index (omsorgsprisindex): network work and coordinated support (000, 002)."""
UPLIFT = "linkoping-uplift"
"""The municipality's uplift model (uppräkningsmodell): the counselling rate (003 §1.2)."""
FEE_REVISION = "counselling-fee-revision"
"""The yearly revision of the counselling client fee (003 §2.3)."""

Billing = Literal["fixed", "hourly"]
Per = Literal["year", "term"]


class TariffError(Refused, ValueError):
    """The catalogue itself is inconsistent (duplicate ids, overlapping entries, bad bounds);
    answered 409 (polare_http answers a rate table it refuses before recording with 422)."""

    status = 409


@dataclass(frozen=True, kw_only=True)
class Entry:
    """Anything in the catalogue: an id unique within it, and a content fingerprint."""

    entry_id: str

    @cached_property
    def ref(self) -> str:
        """The entry's id and a fingerprint of its content (an entry never changes: kept)."""
        content = "|".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))
        digest = hashlib.sha256(f"{type(self).__name__}|{content}".encode()).hexdigest()
        return f"{self.entry_id}#{digest[:8]}"


@dataclass(frozen=True, kw_only=True)
class Dated(Entry):
    valid_from: date
    valid_to: date | None = None

    def covers(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True, kw_only=True)
class HourlyRate(Dated):
    programme: str
    sek_per_hour: Decimal
    price_level_year: int
    indexed_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class ClientFee(Dated):
    programme: str
    ore_per_visit: int
    price_level_year: int
    indexed_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class YearlyCap(Dated):
    programme: str
    hours: int


@dataclass(frozen=True, kw_only=True)
class FixedPayment(Dated):
    """A fixed sum for a contract, per calendar year or for the payment's whole validity."""

    contract: str
    amount_ore: int
    per: Per
    price_level_year: int
    indexed_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class Posts(Dated):
    """The full-time posts (årsarbetare) agreed for a fixed payment's contract from a date.

    002: "2,8 mnkr/år, vilket motsvarar 4 årsarbetare", paid "för överenskomna antal
    årsarbetare": the payment's yearly amount is for ``payment_ftes`` posts, so while these
    posts are in force the year is paid ``amount x ftes / payment_ftes`` (see
    :meth:`Catalogue.fixed_payment`). Whole months only, like the payment itself.
    """

    contract: str
    ftes: Decimal
    payment_ftes: Decimal


@dataclass(frozen=True, kw_only=True)
class Indexation(Entry):
    series: str
    year: int
    percent: Decimal
    applies_from: date


@dataclass(frozen=True, kw_only=True)
class ContractTerm(Dated):
    """A contract's term; ``extension_years`` is set where the orderer may extend it."""

    contract: str
    programmes: tuple[str, ...]
    billing: Billing
    extension_years: int | None = None


@dataclass(frozen=True, kw_only=True)
class Extension(Entry):
    """One recorded extension of a contract term by its ``extension_years``."""

    contract: str


@dataclass(frozen=True, kw_only=True)
class Termination(Entry):
    """A written notice of termination (uppsägning) of a contract, given on ``given_on``; the
    term ends on ``ends_on`` (a month's last day; ``services/billing/terms.py`` says which)."""

    contract: str
    given_on: date
    ends_on: date


KINDS: dict[str, type[Entry]] = {
    "term": ContractTerm,
    "fixed": FixedPayment,
    "rate": HourlyRate,
    "fee": ClientFee,
    "cap": YearlyCap,
    "indexation": Indexation,
    "extension": Extension,
    "posts": Posts,
    "termination": Termination,
}
"""Every kind of catalogue entry by the name it is recorded under."""
_DATES = frozenset({"valid_from", "valid_to", "applies_from", "given_on", "ends_on"})
_DECIMALS = frozenset({"sek_per_hour", "percent", "ftes", "payment_ftes"})


def entry_record(entry: Entry) -> dict[str, Any]:
    """An entry as plain JSON data (dates ISO, decimals as strings), with its kind and ref.

    This is how an entry is recorded in billing's store and published on ``billing.events``;
    :func:`entry_from_record` reads it back to an equal entry (the same ``ref``).
    """
    kind = next(name for name, cls in KINDS.items() if type(entry) is cls)
    values: dict[str, Any] = {}
    for f in fields(entry):
        value = getattr(entry, f.name)
        if isinstance(value, date | Decimal):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        values[f.name] = value
    return {"kind": kind, "entry_id": entry.entry_id, "ref": entry.ref, "fields": values}


def entry_from_record(record: Mapping[str, Any]) -> Entry:
    """The entry a record describes; raise TariffError if it is malformed or its ref differs."""
    try:
        cls = KINDS[record["kind"]]
        raw = dict(record["fields"])
        for name, value in raw.items():
            if value is None:
                continue
            if name in _DATES:
                raw[name] = date.fromisoformat(value)
            elif name in _DECIMALS:
                raw[name] = Decimal(str(value))
            elif isinstance(value, list):
                raw[name] = tuple(value)
        entry = cls(**raw)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise TariffError(f"unreadable tariff record {dict(record)!r}: {exc}") from exc
    if "ref" in record and record["ref"] != entry.ref:
        raise TariffError(f"tariff record {entry.entry_id}: content does not match {record['ref']}")
    return entry
