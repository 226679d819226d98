"""What is known about the yearly caps: hours billed against a year's cap, the forecast of
when it is reached at the current pace (``forecast.py``), and the service levels operators see.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from events.types import PROGRAMMES
from infra.calendar import local_date
from services.billing import views
from services.billing.booking import Booker
from services.billing.books import Books
from services.billing.cap import call_offs_in_force
from services.billing.domain_cap import CapAccount
from services.billing.errors import NotFound
from services.billing.forecast import forecast
from services.billing.settlement import SettlementError
from services.billing.tariff_quotes import PriceNotKnown


def service_levels(app: Books) -> dict[str, int]:
    """What operators see: the counselling cap used this year, and work waiting for a
    person (group sessions to decide, prices not known)."""
    year = local_date(app.clock()).year
    try:
        used = cap_usage(app, "counselling", year)["used_percent"]
    except NotFound:
        used = "0"
    return {
        "counselling_cap_used_percent": int(Decimal(used)) if used != "-" else 0,
        "billing_worklist_open": len(app.query(views.worklist)),
    }


def cap_usage(app: Books, programme: str, year: int) -> dict[str, Any]:
    """Hours billed against the year's cap, and the forecast of when it is reached."""

    def read(booker: Booker) -> dict[str, Any]:
        usage = views.cap_usage(booker, programme, date(year, 12, 31))
        if usage is None:
            raise NotFound(f"{programme} has no yearly cap in {year}")
        return usage | {"forecast": _forecast(app, booker, programme, year)}

    return app.query(read)


def cap_forecast(app: Books, programme: str, year: int | None = None) -> dict[str, Any]:
    """The date the year's cap (with call-offs) will be reached at the current pace."""
    if programme not in PROGRAMMES:
        raise SettlementError(f"unknown programme {programme!r}; expected one of {PROGRAMMES}")
    year = local_date(app.clock()).year if year is None else year

    def read(booker: Booker) -> dict[str, Any]:
        if views.cap_usage(booker, programme, date(year, 12, 31)) is None:
            raise NotFound(f"{programme} has no yearly cap in {year}")
        return {"programme": programme, **_forecast(app, booker, programme, year)}

    return app.query(read)


def _forecast(app: Books, booker: Booker, programme: str, year: int) -> dict[str, Any]:
    account = booker.uow.get(CapAccount.create_id(programme, year), CapAccount)
    catalogue, offs = booker.catalogue, booker.book.call_offs

    def limit_on(day: date) -> Decimal:
        try:
            cap = Decimal(catalogue.yearly_cap(programme, day).hours)
        except PriceNotKnown:
            cap = Decimal(0)  # no cap recorded for that day: nothing can be billed
        offs_then = call_offs_in_force(offs, programme, day)
        return cap + sum((c.hours for c in offs_then), Decimal(0))

    daily = account.daily if account else {}
    return forecast(
        today=local_date(app.clock()),
        year=year,
        billed=account.billed if account else Decimal(0),
        limit_on=limit_on,
        hours_by_day={date.fromisoformat(d): h for d, h in daily.items()},
        pace_weeks=app.pace_weeks,
        policy=app.calendar,
    )
