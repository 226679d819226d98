"""When the yearly cap of hours will be reached at the current pace.

**Pace** is the client hours billed against the cap on the sessions performed in a trailing
window of ``pace_weeks`` weeks that ends today (Stockholm date of the clock), clipped to the
year's 1 January, divided by the Stockholm business days in that window: hours accrue on working
days (meetings and logged time are held on them), so a window holding Easter or Christmas does
not look slower than it was, and the days ahead are counted the same way. A trailing window
rather than the year to date, so that the forecast follows the pace that holds now (the summer
lull, a new counsellor) instead of January's; its length is a setting (8 weeks by default).

**The date** is the first business day ``d`` after today on which the hours billed so far plus
the pace times the business days from tomorrow to ``d`` reach the limit in force on ``d`` (the
year's cap plus the call-offs in force then, so a call-off effective later in the year moves
the date). All arithmetic is exact (hours are multiples of a quarter, the pace a fraction), with
no rounding: ``billed * B + k * H >= limit * B`` for ``H`` hours over ``B`` business days and the
``k``-th business day ``d`` after today.

No forecast when the pace is zero (nothing billed in the window, or no business day in it yet),
when the limit will not be reached this year at that pace, or for a year that is not the
current one; ``reached`` when the hours billed already meet the limit. Pure: the same clock,
records and setting always give the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from infra.calendar import DEFAULT_CALENDAR, CalendarPolicy, is_business_day

_DAY = timedelta(days=1)


def business_days(first: date, last: date, policy: CalendarPolicy = DEFAULT_CALENDAR) -> int:
    """The business days from ``first`` to ``last``, both included (0 if ``last < first``)."""
    count, day = 0, first
    while day <= last:
        count += is_business_day(day, policy)
        day += _DAY
    return count


def forecast(
    *,
    today: date,
    year: int,
    billed: Decimal,
    limit_on: Callable[[date], Decimal],
    hours_by_day: Mapping[date, Decimal],
    pace_weeks: int,
    policy: CalendarPolicy = DEFAULT_CALENDAR,
) -> dict[str, Any]:
    """The forecast of the date ``year``'s cap is reached; see the module's text."""
    if pace_weeks < 1:
        raise ValueError("the pace window must be at least one week")
    window_from = max(date(year, 1, 1), today - timedelta(weeks=pace_weeks) + _DAY)
    window_to = min(today, date(year, 12, 31))
    days = business_days(window_from, window_to, policy)
    hours = sum((h for d, h in hours_by_day.items() if window_from <= d <= window_to), Decimal(0))
    out: dict[str, Any] = {
        "year": year,
        "today": today.isoformat(),
        "pace_weeks": pace_weeks,
        "window_from": window_from.isoformat() if window_from <= window_to else None,
        "window_to": window_to.isoformat() if window_from <= window_to else None,
        "window_hours": str(hours),
        "window_business_days": days,
        "hours_per_business_day": str((hours / days).quantize(Decimal("0.01"))) if days else "0",
        "billed_hours": str(billed),
        "limit_hours_today": str(limit_on(min(max(today, date(year, 1, 1)), date(year, 12, 31)))),
        "reached_on": None,
        "status": "no_forecast",
        "reason": None,
    }
    if billed >= limit_on(min(max(today, date(year, 1, 1)), date(year, 12, 31))):
        return out | {"status": "reached", "reason": f"{billed} hours billed meet the limit"}
    if today.year != year:
        when = "is over" if today.year > year else "has not begun"
        return out | {"reason": f"{year} {when}; a forecast is made for the current year"}
    if days == 0 or hours <= 0:
        return out | {
            "reason": f"no hours billed on business days in the last {pace_weeks} weeks"
            if days
            else "no business day of the year has passed yet"
        }
    reached, k = _reached_on(today, billed, hours, days, limit_on, policy)
    if reached is not None:
        return out | {"status": "forecast", "reached_on": reached.isoformat()}
    projected = billed + hours * k / days
    return out | {
        "reason": (
            f"at {out['hours_per_business_day']} hours a business day the limit is not "
            f"reached in {year} (about {projected.quantize(Decimal('0.01'))} hours by "
            "31 December)"
        )
    }


def _reached_on(
    today: date,
    billed: Decimal,
    hours: Decimal,
    days: int,
    limit_on: Callable[[date], Decimal],
    policy: CalendarPolicy,
) -> tuple[date | None, int]:
    """The first business day after ``today`` in its year on which ``billed`` plus ``hours``
    per ``days`` business days meets the limit (None if none does), and the business days
    counted up to it (or to 31 December)."""
    k, day = 0, today
    while True:
        day += _DAY
        if day.year != today.year:
            return None, k
        if not is_business_day(day, policy):
            continue
        k += 1
        if billed * days + hours * k >= limit_on(day) * days:
            return day, k
