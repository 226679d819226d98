"""The tariff catalogue: every price the contracts set, as dated data, and lookups by date.

A lookup returns the price in force on a date together with a ``tariff_version`` that names
exactly the entries used (each as ``entry_id#fingerprint`` of its content, so a changed value
under an old id is visible). A price that no entry covers raises :class:`PriceNotKnown`.

Indexation compounds on the base price: ``base * (1 + p1/100) * (1 + p2/100) ...`` is computed
exactly with Decimal and rounded once, at the end: an hourly rate to whole öre per hour
(0.01 SEK), a fixed payment or a fee to whole öre, both half-up (:func:`ore_half_up`).
A year after the price-level year with no indexation recorded is handled by the catalogue's
named setting ``unindexed``: ``"carry_forward"`` (default; the last known level stays in force,
the version says ``unindexed-<series>-<year>`` and the quote carries a note) or ``"refuse"``
(raise :class:`PriceNotKnown`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any, Literal, TypeVar

from infra import contract_terms as shared_terms
from infra.months import end_of_month

OPI = "OPI"
"""SKR's care price index (omsorgsprisindex): network work and coordinated support (000, 002)."""
UPLIFT = "linkoping-uplift"
"""The municipality's uplift model (uppräkningsmodell): the counselling rate (003 §1.2)."""
FEE_REVISION = "counselling-fee-revision"
"""The yearly revision of the counselling client fee (003 §2.3)."""

Unindexed = Literal["carry_forward", "refuse"]
Billing = Literal["fixed", "hourly"]
Per = Literal["year", "term"]


class TariffError(ValueError):
    """The catalogue itself is inconsistent (duplicate ids, overlapping entries, bad bounds)."""


class PriceNotKnown(LookupError):
    """No price is known for a date; raised instead of ever pricing at zero."""

    def __init__(self, price: str, on: date, why: str = "no tariff entry is in force") -> None:
        self.price = price
        self.on = on
        super().__init__(f"{price} is not known for {on.isoformat()}: {why}")


def ore_half_up(ore: Decimal) -> int:
    """Round an amount in öre to whole öre, half-up: the one rounding of every money amount."""
    return int(ore.quantize(Decimal(1), rounding=ROUND_HALF_UP))


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
E = TypeVar("E", bound=Entry)


def _of(kind: type[E], entries: tuple[Entry, ...]) -> tuple[E, ...]:
    return tuple(e for e in entries if isinstance(e, kind))


def _in_force(entries: tuple[D, ...], on: date, price: str) -> D:
    # The newest entry wins where validities overlap: a revision need not close the old entry.
    candidates = [e for e in entries if e.covers(on)]
    if not candidates:
        raise PriceNotKnown(price, on)
    return max(candidates, key=lambda e: e.valid_from)


@dataclass(frozen=True, kw_only=True)
class Catalogue:
    """Every tariff entry, plus the named setting for years whose indexation is not recorded."""

    rates: tuple[HourlyRate, ...] = ()
    fees: tuple[ClientFee, ...] = ()
    caps: tuple[YearlyCap, ...] = ()
    fixed: tuple[FixedPayment, ...] = ()
    indexations: tuple[Indexation, ...] = ()
    terms: tuple[ContractTerm, ...] = ()
    extensions: tuple[Extension, ...] = ()
    posts: tuple[Posts, ...] = ()
    terminations: tuple[Termination, ...] = ()
    unindexed: Unindexed = "carry_forward"
    #: Quotes given, by (price, programme, day): a catalogue never changes, so neither do they
    #: (a replay prices a year's sessions again; most share their days).
    _quotes: dict[tuple[str, str, date], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        everything: list[Entry] = [*self.rates, *self.fees, *self.caps, *self.fixed]
        everything += [*self.indexations, *self.terms, *self.extensions, *self.posts]
        everything += self.terminations
        _unique([e.entry_id for e in everything], "entry id")
        _unique([("rate", r.programme, r.valid_from) for r in self.rates], "rate start")
        _unique([("fee", f.programme, f.valid_from) for f in self.fees], "fee start")
        _unique([("cap", c.programme, c.valid_from) for c in self.caps], "cap start")
        _unique([(p.contract, p.valid_from) for p in self.fixed], "fixed payment start")
        _unique([(i.series, i.year) for i in self.indexations], "indexation year")
        _unique([t.contract for t in self.terms], "contract term")
        _unique([(p.contract, p.valid_from) for p in self.posts], "posts start")
        terms = {t.contract: t for t in self.terms}
        for term in self.terms:
            _month_aligned(term)
        for payment in self.fixed:
            owner = terms.get(payment.contract)
            if owner is None or owner.billing != "fixed":
                raise TariffError(f"{payment.entry_id}: no fixed-price term '{payment.contract}'")
            _month_aligned(payment)
            if payment.per == "term" and payment.valid_to is None:
                raise TariffError(f"{payment.entry_id}: a payment per term needs valid_to")
        for posts in self.posts:
            _check_posts(posts, terms.get(posts.contract))
        _unique([t.contract for t in self.terminations], "termination of contract")
        for notice in self.terminations:
            ended = terms.get(notice.contract)
            if ended is None or notice.ends_on != end_of_month(notice.ends_on):
                raise TariffError(
                    f"{notice.entry_id}: no term '{notice.contract}' to end on a month's last day"
                )
        for ext in self.extensions:
            extended = terms.get(ext.contract)
            if extended is None or extended.extension_years is None or extended.valid_to is None:
                raise TariffError(f"{ext.entry_id}: contract '{ext.contract}' is not extendable")

    def with_entries(self, *entries: Entry) -> Catalogue:
        """A new catalogue with these entries added, each to its own kind."""
        return Catalogue(
            rates=self.rates + _of(HourlyRate, entries),
            fees=self.fees + _of(ClientFee, entries),
            caps=self.caps + _of(YearlyCap, entries),
            fixed=self.fixed + _of(FixedPayment, entries),
            indexations=self.indexations + _of(Indexation, entries),
            terms=self.terms + _of(ContractTerm, entries),
            extensions=self.extensions + _of(Extension, entries),
            posts=self.posts + _of(Posts, entries),
            terminations=self.terminations + _of(Termination, entries),
            unindexed=self.unindexed,
        )

    def with_policy(self, unindexed: Unindexed) -> Catalogue:
        return replace(self, unindexed=unindexed)

    def entries(self) -> tuple[Entry, ...]:
        """Every entry, kind by kind in the order they were added."""
        return (*self.terms, *self.fixed, *self.rates, *self.fees, *self.caps,
                *self.indexations, *self.extensions, *self.posts,
                *self.terminations)  # fmt: skip

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries() if e.entry_id == entry_id), None)

    # --- contract terms -------------------------------------------------------------------

    def term_end(self, contract: str) -> date | None:
        """The term's last day after every recorded extension and a recorded notice of
        termination; None when until further notice and not terminated. The rule is
        :func:`infra.contract_terms.term_end`, which intake applies to the same entries."""
        notice = self.termination(contract)
        return self._end(contract, None if notice is None else notice.ends_on)

    def term_end_unterminated(self, contract: str) -> date | None:
        """The term's last day after every recorded extension, ignoring any notice."""
        return self._end(contract, None)

    def _end(self, contract: str, notice_ends_on: date | None) -> date | None:
        term = self._term(contract)
        extensions = sum(1 for e in self.extensions if e.contract == contract)
        return shared_terms.term_end(
            term.valid_to, term.extension_years, extensions, notice_ends_on
        )

    def contract_terms(self) -> tuple[shared_terms.ContractTerm, ...]:
        """Every term with the end it has now, as :mod:`infra.contract_terms` describes it."""
        return tuple(
            shared_terms.ContractTerm(
                t.contract, t.programmes, t.valid_from, self.term_end(t.contract),
                t.extension_years,
            )
            for t in self.terms
        )  # fmt: skip

    def termination(self, contract: str) -> Termination | None:
        return next((t for t in self.terminations if t.contract == contract), None)

    def term_version(self, contract: str) -> str:
        """The term and its extensions, as they appear in a fixed line's tariff version."""
        own = sorted(e.ref for e in self.extensions if e.contract == contract)
        return "+".join([self._term(contract).ref, *own])

    def terms_in_force(self, on: date) -> tuple[ContractTerm, ...]:
        """The contract terms in force on a day, after recorded extensions.

        Terms run in whole months, so on a month's first day these are the terms that cover it.
        """
        out = []
        for term in self.terms:
            end = self.term_end(term.contract)
            if term.valid_from <= on and (end is None or on <= end):
                out.append(term)
        return tuple(sorted(out, key=lambda t: t.contract))

    def hourly_programmes(self) -> frozenset[str]:
        return frozenset(p for t in self.terms if t.billing == "hourly" for p in t.programmes)

    # --- prices ---------------------------------------------------------------------------

    def hourly_rate(self, programme: str, on: date) -> RateQuote:
        return self._quote("rate", programme, on, self._hourly_rate)  # type: ignore[no-any-return]

    def client_fee(self, programme: str, on: date) -> OreQuote:
        return self._quote("fee", programme, on, self._client_fee)  # type: ignore[no-any-return]

    def yearly_cap(self, programme: str, on: date) -> CapQuote:
        return self._quote("cap", programme, on, self._yearly_cap)  # type: ignore[no-any-return]

    def _quote(self, price: str, programme: str, on: date, make: Callable[[str, date], Any]) -> Any:
        key = (price, programme, on)
        found = self._quotes.get(key)
        if found is None:
            found = self._quotes[key] = make(programme, on)
        return found

    def _hourly_rate(self, programme: str, on: date) -> RateQuote:
        name = f"{programme} hourly rate"
        rate = _in_force(tuple(r for r in self.rates if r.programme == programme), on, name)
        # A rate entry may outlive a terminated contract; the term decides whether it applies.
        terms = self.terms_in_force(on)
        if not any(t.billing == "hourly" and programme in t.programmes for t in terms):
            raise PriceNotKnown(name, on, "no hourly contract term is in force")
        factor, refs, notes = self._index(rate.indexed_by, rate.price_level_year, on, name)
        sek = (rate.sek_per_hour * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return RateQuote(sek, "+".join([rate.ref, *refs]), notes)

    def _client_fee(self, programme: str, on: date) -> OreQuote:
        name = f"{programme} client fee per visit"
        fee = _in_force(tuple(f for f in self.fees if f.programme == programme), on, name)
        factor, refs, notes = self._index(fee.indexed_by, fee.price_level_year, on, name)
        return OreQuote(ore_half_up(fee.ore_per_visit * factor), "+".join([fee.ref, *refs]), notes)

    def _yearly_cap(self, programme: str, on: date) -> CapQuote:
        name = f"{programme} yearly hour cap"
        cap = _in_force(tuple(c for c in self.caps if c.programme == programme), on, name)
        return CapQuote(cap.hours, cap.ref)

    def fixed_payment(self, contract: str, on: date) -> FixedQuote:
        name = f"fixed payment of contract {contract}"
        payment = _in_force(tuple(p for p in self.fixed if p.contract == contract), on, name)
        factor, refs, notes = self._index(payment.indexed_by, payment.price_level_year, on, name)
        posts = self.posts_in_force(contract, on)
        if posts is not None:
            # The year's amount for the posts in force: per post x posts, rounded once.
            factor = factor * posts.ftes / posts.payment_ftes
            refs = [*refs, posts.ref]
        version = "+".join([payment.ref, *refs, self.term_version(contract)])
        amount = ore_half_up(payment.amount_ore * factor)
        return FixedQuote(payment, amount, version, notes, posts)

    def posts_in_force(self, contract: str, on: date) -> Posts | None:
        """The agreed posts of a contract on a day (the newest entry covering it), if any."""
        own = tuple(p for p in self.posts if p.contract == contract)
        try:
            return _in_force(own, on, f"posts of {contract}")
        except PriceNotKnown:
            return None

    # --- internals ------------------------------------------------------------------------

    def _term(self, contract: str) -> ContractTerm:
        for term in self.terms:
            if term.contract == contract:
                return term
        raise TariffError(f"no contract term '{contract}' in the catalogue")

    def _index(
        self, series: str | None, level_year: int, on: date, name: str
    ) -> tuple[Decimal, list[str], tuple[str, ...]]:
        factor = Decimal(1)
        refs: list[str] = []
        notes: list[str] = []
        if series is None:
            return factor, refs, ()
        # An indexation is due for every year after the price-level year, from 1 January of that
        # year (000: from 2018-01-01 on a 2017 level; 002: from 2019-01-01 on a 2018 level).
        for year in range(level_year + 1, on.year + 1):
            found = [i for i in self.indexations if i.series == series and i.year == year]
            if not found:
                if self.unindexed == "refuse":
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


def _unique(keys: list[object], what: str) -> None:
    seen: set[object] = set()
    for key in keys:
        if key in seen:
            raise TariffError(f"duplicate {what}: {key}")
        seen.add(key)


def _check_posts(posts: Posts, term: ContractTerm | None) -> None:
    if term is None or term.billing != "fixed":
        raise TariffError(f"{posts.entry_id}: no fixed-price term '{posts.contract}'")
    if posts.ftes < 0 or posts.payment_ftes <= 0:
        raise TariffError(f"{posts.entry_id}: posts must be >= 0 and the payment's posts > 0")
    # A change agreed inside a month is refused rather than moved: the month it is paid from
    # is the parties' to state (the seeds pay by whole months and say nothing finer).
    _month_aligned(posts)


def _month_aligned(entry: Dated) -> None:
    # Fixed payments are shared out by whole months, so their bounds must be whole months.
    start, end = entry.valid_from, entry.valid_to
    if start.day != 1 or (end is not None and end != end_of_month(end)):
        raise TariffError(f"{entry.entry_id}: must start on a month's first day and end on a last")


# fmt: off
def default_catalogue() -> Catalogue:
    """The seeds' prices (000, 002, 003, 004); no indexation and no extension is recorded."""
    joint = "coordinated-network-2018"
    return Catalogue(
        terms=(
            ContractTerm(entry_id="network-2018-term", contract="network-2018",
                         programmes=("network",), billing="fixed",
                         valid_from=date(2018, 1, 1), valid_to=date(2018, 8, 31)),
            ContractTerm(entry_id=f"{joint}-term", contract=joint,
                         programmes=("coordinated", "network"), billing="fixed",
                         valid_from=date(2018, 9, 1), valid_to=date(2021, 8, 31),
                         extension_years=3),
            ContractTerm(entry_id="counselling-2022-term", contract="counselling-2022",
                         programmes=("counselling",), billing="hourly",
                         valid_from=date(2022, 1, 1)),
            ContractTerm(entry_id="field-2021-term", contract="field-2021",
                         programmes=("field",), billing="fixed", valid_from=date(2021, 1, 1)),
        ),
        fixed=(
            FixedPayment(entry_id="network-2018-payment", contract="network-2018",
                         amount_ore=64_700_000, per="term", price_level_year=2017,
                         indexed_by=OPI, valid_from=date(2018, 1, 1),
                         valid_to=date(2018, 8, 31)),
            FixedPayment(entry_id=f"{joint}-payment", contract=joint,
                         amount_ore=280_000_000, per="year", price_level_year=2018,
                         indexed_by=OPI, valid_from=date(2018, 9, 1)),
            FixedPayment(entry_id="field-2021-payment", contract="field-2021",
                         amount_ore=500_000_000, per="year", price_level_year=2021,
                         valid_from=date(2021, 1, 1)),
        ),
        rates=(HourlyRate(entry_id="counselling-rate-2022", programme="counselling",
                          sek_per_hour=Decimal("605.00"), price_level_year=2022,
                          indexed_by=UPLIFT, valid_from=date(2022, 1, 1)),),
        fees=(ClientFee(entry_id="counselling-fee-2022", programme="counselling",
                        ore_per_visit=20_000, price_level_year=2022, indexed_by=FEE_REVISION,
                        valid_from=date(2022, 1, 1)),),
        caps=(YearlyCap(entry_id="counselling-cap-2022", programme="counselling", hours=2590,
                        valid_from=date(2022, 1, 1)),),
        # 002: "2,8 mnkr/år, vilket motsvarar 4 årsarbetare" (700 000 SEK a post and year).
        posts=(Posts(entry_id=f"{joint}-posts", contract=joint, ftes=Decimal(4),
                     payment_ftes=Decimal(4), valid_from=date(2018, 9, 1)),),
    )
# fmt: on
