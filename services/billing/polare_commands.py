"""Polare fees' commands and the monthly report: recording a rate table (pricing the walks
that waited for one), the tables recorded, and a month's fees against the field-work budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from events.billing import PolareRate
from infra.months import end_of_month, month_of_date, months_through
from infra.unit_of_work import UnitOfWork
from services.billing.books import Books
from services.billing.errors import Conflict
from services.billing.fixed import covered_months, monthly_share, year_to_date
from services.billing.polare import (
    PolareMonth,
    PolareRateBook,
    PolareWalkFees,
    rate_book,
    try_price,
)
from services.billing.polare_rates import check_rates
from services.billing.settlement import month_start
from services.billing.tariff_quotes import PriceNotKnown
from services.billing.tariffs import Catalogue


def record_rates(
    app: Books,
    *,
    effective_from: date,
    rates: Sequence[PolareRate],
    reference: str,
    recorded_by: str | None = None,
    table_id: str | None = None,
) -> dict[str, Any]:
    """Record a rate table in force from ``effective_from``; walks waiting for a rate are
    priced at once if it prices them."""
    check_rates(rates)
    table_id = table_id or f"polare-{effective_from.isoformat()}"

    def change(uow: UnitOfWork) -> dict[str, Any]:
        book = rate_book(uow)
        if any(t["table_id"] == table_id for t in book.tables):
            raise Conflict(f"a polare rate table {table_id!r} is recorded already")
        book.record(
            table_id, effective_from, [r.model_dump() for r in rates], reference, recorded_by,
            app.clock(),
        )  # fmt: skip
        priced = 0
        for walk_id in list(book.waiting):
            walk = uow.get(PolareWalkFees.create_id(UUID(walk_id)), PolareWalkFees)
            if walk is not None and try_price(uow, book, walk):
                priced += 1
        return {"table_id": table_id, "effective_from": effective_from.isoformat(),
                "walks_priced": priced}  # fmt: skip

    return app.transact(lambda booker: change(booker.uow))


def rate_tables(app: Books) -> list[dict[str, Any]]:
    def read(uow: UnitOfWork) -> list[dict[str, Any]]:
        book = uow.get(PolareRateBook.create_id(), PolareRateBook)
        return [
            {"table_id": t.table_id, "effective_from": t.effective_from.isoformat(),
             "rates": [r.model_dump() for r in t.rates]}
            for t in (book.rate_tables() if book else [])
        ]  # fmt: skip

    return app.query(lambda booker: read(booker.uow))


def month_report(app: Books, month: str) -> dict[str, Any]:
    """The month's polare fees as the provider's cost, against the field-work budget."""
    first = month_start(month)
    year = first.year

    def read(uow: UnitOfWork) -> dict[str, Any]:
        months = [uow.get(PolareMonth.create_id(m), PolareMonth)
                  for m in months_through(f"{year:04d}-01", month)]  # fmt: skip
        this = months[-1]
        listed = this.walks.items() if this else {}.items()
        walks = dict(sorted(listed, key=lambda w: (w[1]["walked_on"], w[0])))
        book = uow.get(PolareRateBook.create_id(), PolareRateBook)
        waiting = []
        for walk_id in book.waiting if book else []:
            walk = uow.get(PolareWalkFees.create_id(UUID(walk_id)), PolareWalkFees)
            if walk is not None and month_of_date(walk.walked_on) == month:
                waiting.append({"walk_id": walk_id, "walked_on": walk.walked_on.isoformat(),
                                "reason": walk.waiting_reason})  # fmt: skip
        fees = sum(w["total_ore"] for w in walks.values())
        to_date = sum(w["total_ore"] for m in months if m for w in m.walks.values())
        catalogue = app.booker(uow).catalogue
        return {
            "month": month,
            "walks": len(walks),
            "polare_walks": sum(w["polare"] for w in walks.values()),
            "fees_ore": fees,
            "year_to_date_ore": to_date,
            "budget": budget(catalogue, first, to_date),
            "waiting": waiting,
            "not_paid": [
                {"walk_id": walk_id, **n} for walk_id, w in walks.items() for n in w["not_paid"]
            ],
            "walk_fees": [
                {"walk_id": walk_id, "walked_on": w["walked_on"].isoformat(),
                 "polare": w["polare"], "total_ore": w["total_ore"], "table_id": w["table_id"]}
                for walk_id, w in walks.items()
            ],
        }  # fmt: skip

    return app.query(lambda booker: read(booker.uow))


def budget(catalogue: Catalogue, first: date, to_date_ore: int) -> dict[str, Any]:
    """Field work's yearly payment in force in the month, the months' shares so far (as the
    settlement pays them, :mod:`services.billing.fixed`), and the fees' share."""
    terms = [t for t in catalogue.terms_in_force(first) if "field" in t.programmes]
    if not terms:
        return {"contract": None, "note": f"no field-work contract is in force on {first}"}
    contract = terms[0].contract
    try:
        quote = catalogue.fixed_payment(contract, first)
    except PriceNotKnown as exc:
        return {"contract": contract, "note": str(exc)}
    if quote.payment.per != "year":
        return {"contract": contract, "note": "the field-work payment is not yearly"}
    yearly = quote.period_amount_ore
    month_share = monthly_share(yearly, 12, covered_months(catalogue, contract, first, quote))
    shares_to_date = year_to_date(catalogue, contract, first)
    percent = (Decimal(100 * to_date_ore) / Decimal(yearly)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    ) if yearly else None  # fmt: skip
    return {
        "contract": contract,
        "yearly_ore": yearly,
        "month_share_ore": month_share,
        "year_to_date_share_ore": shares_to_date,
        "fees_of_yearly_percent": str(percent) if percent is not None else None,
        "tariff_version": quote.tariff_version,
        "through": end_of_month(first).isoformat(),
    }
