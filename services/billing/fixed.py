"""Fixed payments by the month (000, 002, 004): each month's share, so that months sum exactly.

A fixed payment is a sum per calendar year (the joint contract's 2.8 MSEK, field work's 5 MSEK)
or per term (network work's 647,000 SEK for 2018-01..08), paid monthly in arrears. A month's
share is the running total rounded once, half-up, minus the running total before it::

    share(j) = R(amount * j / n) - R(amount * (j - 1) / n)

with ``n`` the months of the period (12 for a yearly payment, the term's months for a payment
per term) and ``j`` the month's position. The first ``j`` months therefore always sum to
``R(amount * j / n)``, the amount for the months covered so far rounded once, whatever comes
after (a term that ends, is extended or is terminated), and the whole period to the amount.

For a yearly payment ``j`` counts the months of the year that the payment has covered so far at
the same yearly amount: from the later of January, the month the contract's term starts and the
month the amount took effect. A term that starts or ends inside a year (2018-09..12,
2021-01..08) is paid exactly the yearly amount x its months / 12, rounded once; a year whose
amount changes (a new payment entry, an index applied from a later month) is paid each part
that way.

The joint contract's yearly amount is for agreed full-time posts (002: 2.8 MSEK "motsvarar 4
årsarbetare", paid "för överenskomna antal årsarbetare"): while a ``Posts`` entry is in force
the year is ``amount x factor x ftes / payment_ftes``, rounded once (``Catalogue.fixed_payment``),
so a change of posts from a month on is a change of the yearly amount like any other: each part
of the year is paid its amount x its months / 12, rounded once. The line then carries ``ftes``
and ``payment_ftes``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from infra.months import add_months, month_of_date, months_before, months_between
from services.billing.tariff_quotes import FixedQuote, PriceNotKnown
from services.billing.tariffs import Catalogue


def rounded_share(amount_ore: int, months: int, covered: int) -> int:
    """``amount * covered / months`` in öre, rounded once, half-up (a half öre away from 0)."""
    if months < 1 or not 0 <= covered <= months:
        raise ValueError(f"{covered} months is not within a {months}-month period")
    whole, rest = divmod(abs(amount_ore) * covered, months)
    if 2 * rest >= months:
        whole += 1
    return whole if amount_ore >= 0 else -whole


def monthly_share(period_amount_ore: int, period_months: int, month_of_period: int) -> int:
    """Month ``month_of_period`` of a period's payment: the running total rounded, less the
    running total before it, so that the first months always sum to their share rounded once."""
    if not 1 <= month_of_period <= period_months:
        raise ValueError(f"month {month_of_period} is outside a {period_months}-month period")
    return rounded_share(period_amount_ore, period_months, month_of_period) - rounded_share(
        period_amount_ore, period_months, month_of_period - 1
    )


def covered_months(catalogue: Catalogue, contract: str, start: date, quote: FixedQuote) -> int:
    """How many months of ``start``'s year, up to and including ``start``'s month, a yearly
    payment has covered at ``quote``'s amount without a break (1 for its first month)."""
    covered = 1
    month = start
    while month.month > 1:
        month = months_before(month, 1)
        if not any(t.contract == contract for t in catalogue.terms_in_force(month)):
            break
        try:
            earlier = catalogue.fixed_payment(contract, month)
        except PriceNotKnown:
            break
        if earlier.payment.per != "year" or earlier.period_amount_ore != quote.period_amount_ore:
            break
        covered += 1
    return covered


def year_to_date(catalogue: Catalogue, contract: str, start: date) -> int:
    """What a yearly payment has paid in ``start``'s year through ``start``'s month."""
    paid = 0
    for number in range(1, start.month + 1):
        month = date(start.year, number, 1)
        if not any(t.contract == contract for t in catalogue.terms_in_force(month)):
            continue
        try:
            quote = catalogue.fixed_payment(contract, month)
        except PriceNotKnown:
            continue
        if quote.payment.per == "year":
            covered = covered_months(catalogue, contract, month, quote)
            paid += monthly_share(quote.period_amount_ore, 12, covered)
    return paid


def fixed_lines(
    start: date, catalogue: Catalogue, wanted: Callable[[Iterable[str]], bool]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The month's fixed lines (one per contract whose term covers it) and the quotes' notes."""
    lines: list[dict[str, Any]] = []
    notes: list[str] = []
    for term in catalogue.terms_in_force(start):
        if term.billing != "fixed" or not wanted(term.programmes):
            continue
        quote = catalogue.fixed_payment(term.contract, start)
        payment = quote.payment
        programmes = sorted(term.programmes)
        line: dict[str, Any] = {
            "programme": "+".join(programmes),
            "programmes": programmes,
            "kind": "fixed",
            "contract": term.contract,
            "per": payment.per,
            "period_amount_ore": quote.period_amount_ore,
            "price_level_year": payment.price_level_year,
            "tariff_version": quote.tariff_version,
        }
        if quote.posts is not None:
            # 002 pays "för överenskomna antal årsarbetare": the posts the amount is for.
            line |= {"ftes": str(quote.posts.ftes), "payment_ftes": str(quote.posts.payment_ftes)}
        if payment.per == "year":
            covered = covered_months(catalogue, term.contract, start, quote)
            line |= {
                "period_months": 12,
                "month_of_period": start.month,
                "covered_from": add_months(month_of_date(start), 1 - covered),
                "covered_months": covered,
                "amount_ore": monthly_share(quote.period_amount_ore, 12, covered),
            }
        else:
            assert payment.valid_to is not None  # Catalogue refuses a per-term payment without.
            months = months_between(payment.valid_from, payment.valid_to) + 1
            position = months_between(payment.valid_from, start) + 1
            line |= {
                "period_months": months,
                "month_of_period": position,
                "amount_ore": monthly_share(quote.period_amount_ore, months, position),
            }
        lines.append(line)
        notes.extend(quote.notes)
    return lines, notes
