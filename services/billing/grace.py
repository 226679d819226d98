"""The month-end grace window: how long after a month ends its late sessions still land in it.

A month is settled in arrears. With a grace window of ``n`` Stockholm business days, a month
``M`` stays open for sessions until the end (24:00 Europe/Stockholm) of the ``n``-th business
day after its last day; :func:`grace_ends` returns that instant as the next day's 00:00. Business
days (``infra/calendar.py``: no weekends, Swedish public holidays, and by the deployment's policy
Midsummer Eve, Christmas Eve and New Year's Eve) rather than calendar days, because the people
who report late sessions work business days: five calendar days after December would end on
5 January, before a single working day had passed since New Year's Eve.

``n = 0`` (the default) is no grace window at all, which is how billing has always worked: a
month may be closed by hand as soon as it is over and stays open until it is. With ``n > 0``:

- a session of ``M`` that arrives before ``M``'s grace ends lands in ``M``;
- closing ``M`` by hand before then is refused, unless the close is explicitly early (it ends
  the grace then; the close records that it was early);
- when the grace ends ``M`` is closed by billing itself (``closed_by`` ``"grace window"``): before a
  session of ``M`` is booked (so it becomes an adjustment on the first open month, as for any
  closed month), and by the service's periodic job.

Pure functions of their arguments, like the calendar: the same month and setting always give
the same instant.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from infra.calendar import DEFAULT_CALENDAR, STOCKHOLM, CalendarPolicy, is_business_day
from services.billing.settlement import month_start, next_month

GRACE_CLOSER = "grace window"
"""``closed_by`` of a month closed by billing when its grace window ended."""

CloseKind = Literal["by_hand", "early", "automatic"]


def grace_ends(month: str, days: int, policy: CalendarPolicy = DEFAULT_CALENDAR) -> datetime:
    """The instant ``month``'s grace window ends, as an aware Stockholm datetime.

    ``days`` business days are counted from the day after the month's last day; the window
    ends at 24:00 of the last of them, returned as the following day's 00:00. With ``days = 0``
    it is the month's own end (00:00 on the first of the next month). Midnight exists on every
    day in Stockholm (the clocks change at 02:00 and 03:00), so the instant is never ambiguous.
    """
    if days < 0:
        raise ValueError("grace days must not be negative")
    day = month_start(next_month(month))
    counted = 0
    while counted < days:
        if is_business_day(day, policy):
            counted += 1
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=STOCKHOLM)


def last_grace_day(month: str, days: int, policy: CalendarPolicy = DEFAULT_CALENDAR) -> date:
    """The last day on which a session of ``month`` still lands in it (``days`` > 0)."""
    return grace_ends(month, days, policy).date() - timedelta(days=1)


def in_grace(
    month: str, now: datetime, days: int, policy: CalendarPolicy = DEFAULT_CALENDAR
) -> bool:
    """Whether ``month`` is over and its grace window has not ended at ``now``."""
    over = datetime.combine(month_start(next_month(month)), time(), tzinfo=STOCKHOLM)
    return over <= now < grace_ends(month, days, policy)


def grace_over(
    month: str, now: datetime, days: int, policy: CalendarPolicy = DEFAULT_CALENDAR
) -> bool:
    """Whether a grace window is set (``days`` > 0) and ``month``'s has ended at ``now``."""
    return days > 0 and now >= grace_ends(month, days, policy)


def grace_record(
    month: str, days: int, kind: CloseKind, policy: CalendarPolicy = DEFAULT_CALENDAR
) -> dict[str, Any]:
    """What a close records of the grace window: the setting, its end, and how it closed."""
    return {
        "grace_days": days,
        "grace_ends": grace_ends(month, days, policy).isoformat(),
        "close": kind,
    }
