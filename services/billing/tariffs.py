"""The tariff catalogue: every price the contracts set, as dated data, and lookups by date.

The kinds of entry and their records are in ``tariff_entries.py``, the seeds' prices in
``tariff_seeds.py``; this module is the :class:`Catalogue` that answers from them. Its checks on
the entries are ``tariff_checks.py``'s; its quotes, :class:`PriceNotKnown`, the indexation
factor and the rounding (:func:`ore_half_up`) are ``tariff_quotes.py``'s.

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

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from infra import contract_terms as shared_terms
from services.billing.tariff_checks import check_entries
from services.billing.tariff_entries import (
    ClientFee,
    ContractTerm,
    Entry,
    Extension,
    FixedPayment,
    HourlyRate,
    Indexation,
    Posts,
    TariffError,
    Termination,
    YearlyCap,
)
from services.billing.tariff_quotes import (
    CapQuote,
    FixedQuote,
    OreQuote,
    PriceNotKnown,
    RateQuote,
    Unindexed,
    in_force,
    index_factor,
    ore_half_up,
)

E = TypeVar("E", bound=Entry)


def _of(kind: type[E], entries: tuple[Entry, ...]) -> tuple[E, ...]:
    return tuple(e for e in entries if isinstance(e, kind))


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
        check_entries(
            self.rates, self.fees, self.caps, self.fixed, self.indexations, self.terms,
            self.extensions, self.posts, self.terminations,
        )  # fmt: skip

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
        rate = in_force(tuple(r for r in self.rates if r.programme == programme), on, name)
        # A rate entry may outlive a terminated contract; the term decides whether it applies.
        terms = self.terms_in_force(on)
        if not any(t.billing == "hourly" and programme in t.programmes for t in terms):
            raise PriceNotKnown(name, on, "no hourly contract term is in force")
        factor, refs, notes = self._index(rate.indexed_by, rate.price_level_year, on, name)
        sek = (rate.sek_per_hour * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return RateQuote(sek, "+".join([rate.ref, *refs]), notes)

    def _client_fee(self, programme: str, on: date) -> OreQuote:
        name = f"{programme} client fee per visit"
        fee = in_force(tuple(f for f in self.fees if f.programme == programme), on, name)
        factor, refs, notes = self._index(fee.indexed_by, fee.price_level_year, on, name)
        return OreQuote(ore_half_up(fee.ore_per_visit * factor), "+".join([fee.ref, *refs]), notes)

    def _yearly_cap(self, programme: str, on: date) -> CapQuote:
        name = f"{programme} yearly hour cap"
        cap = in_force(tuple(c for c in self.caps if c.programme == programme), on, name)
        return CapQuote(cap.hours, cap.ref)

    def fixed_payment(self, contract: str, on: date) -> FixedQuote:
        name = f"fixed payment of contract {contract}"
        payment = in_force(tuple(p for p in self.fixed if p.contract == contract), on, name)
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
            return in_force(own, on, f"posts of {contract}")
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
        return index_factor(self.indexations, self.unindexed, series, level_year, on, name)
