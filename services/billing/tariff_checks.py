"""The tariff catalogue's checks on its entries: ids and starts unique, fixed payments and posts
on whole months of a fixed-price term, notices and extensions of known terms. A catalogue that
fails one is refused (:class:`~services.billing.tariff_entries.TariffError`) when it is built.
"""

from __future__ import annotations

from infra.months import end_of_month
from services.billing.tariff_entries import (
    ClientFee,
    ContractTerm,
    Dated,
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


def check_entries(
    rates: tuple[HourlyRate, ...],
    fees: tuple[ClientFee, ...],
    caps: tuple[YearlyCap, ...],
    fixed: tuple[FixedPayment, ...],
    indexations: tuple[Indexation, ...],
    terms: tuple[ContractTerm, ...],
    extensions: tuple[Extension, ...],
    posts: tuple[Posts, ...],
    terminations: tuple[Termination, ...],
) -> None:
    """Refuse a catalogue whose entries contradict each other (see the module's docstring)."""
    everything: list[Entry] = [*rates, *fees, *caps, *fixed]
    everything += [*indexations, *terms, *extensions, *posts]
    everything += terminations
    _unique([e.entry_id for e in everything], "entry id")
    _unique([("rate", r.programme, r.valid_from) for r in rates], "rate start")
    _unique([("fee", f.programme, f.valid_from) for f in fees], "fee start")
    _unique([("cap", c.programme, c.valid_from) for c in caps], "cap start")
    _unique([(p.contract, p.valid_from) for p in fixed], "fixed payment start")
    _unique([(i.series, i.year) for i in indexations], "indexation year")
    _unique([t.contract for t in terms], "contract term")
    _unique([(p.contract, p.valid_from) for p in posts], "posts start")
    by_contract = {t.contract: t for t in terms}
    for term in terms:
        _month_aligned(term)
    for payment in fixed:
        owner = by_contract.get(payment.contract)
        if owner is None or owner.billing != "fixed":
            raise TariffError(f"{payment.entry_id}: no fixed-price term '{payment.contract}'")
        _month_aligned(payment)
        if payment.per == "term" and payment.valid_to is None:
            raise TariffError(f"{payment.entry_id}: a payment per term needs valid_to")
    for agreed in posts:
        _check_posts(agreed, by_contract.get(agreed.contract))
    _unique([t.contract for t in terminations], "termination of contract")
    for notice in terminations:
        ended = by_contract.get(notice.contract)
        if ended is None or notice.ends_on != end_of_month(notice.ends_on):
            raise TariffError(
                f"{notice.entry_id}: no term '{notice.contract}' to end on a month's last day"
            )
    for ext in extensions:
        extended = by_contract.get(ext.contract)
        if extended is None or extended.extension_years is None or extended.valid_to is None:
            raise TariffError(f"{ext.entry_id}: contract '{ext.contract}' is not extendable")


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
