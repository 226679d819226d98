"""Calendar months as the contracts write them, ``YYYY-MM``: reading, writing and stepping them.

The one implementation of "the month after December", "the last day of February" and "how many
months from one date to another", so that billing's settlement months, the polare fees, the
contract terms, the steering rule and the demo all count months alike. Pure functions of their
arguments; the month of an instant in Stockholm is :func:`infra.calendar.month_of`, which
writes it with :func:`month_of_date`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date, timedelta

from events.types import MONTH_PATTERN

_MONTH = re.compile(MONTH_PATTERN)
#: Months are counted from January of year 1 (index 0), the first month a date can hold.
_LAST_INDEX = 9999 * 12 - 1


class MonthError(ValueError):
    """A month not written ``YYYY-MM``, or one before 0001-01 or after 9999-12."""


def _index(month: str) -> int:
    if _MONTH.fullmatch(month) is None or month.startswith("0000"):
        raise MonthError(f"month must be YYYY-MM, got {month!r}")
    return (int(month[:4]) - 1) * 12 + int(month[5:]) - 1


def _from_index(index: int) -> str:
    if not 0 <= index <= _LAST_INDEX:
        raise MonthError("months run from 0001-01 to 9999-12")
    year, number = divmod(index, 12)
    return f"{year + 1:04d}-{number + 1:02d}"


def check(month: str) -> str:
    """``month`` itself if it is written ``YYYY-MM`` (0001-01 to 9999-12), else MonthError."""
    _index(month)
    return month


def month_of_date(day: date) -> str:
    """``YYYY-MM`` of ``day``."""
    return f"{day.year:04d}-{day.month:02d}"


def first_day(month: str) -> date:
    """The first day of ``month``."""
    return date.fromisoformat(f"{check(month)}-01")


def last_day(year: int, month: int) -> date:
    """The last day of month number ``month`` of ``year``."""
    return date(year, month, calendar.monthrange(year, month)[1])


def month_end(month: str) -> date:
    """The last day of ``month``."""
    start = first_day(month)
    return last_day(start.year, start.month)


def end_of_month(day: date) -> date:
    """The last day of the month ``day`` is in."""
    return last_day(day.year, day.month)


def add_months(month: str, count: int) -> str:
    """The month ``count`` months after ``month`` (before it when ``count`` is negative)."""
    return _from_index(_index(month) + count)


def next_month(month: str) -> str:
    return add_months(month, 1)


def previous_month(month: str) -> str:
    return add_months(month, -1)


def months_between(first: date, later: date) -> int:
    """Whole calendar months from ``first``'s month to ``later``'s (0 within one month)."""
    return (later.year - first.year) * 12 + later.month - first.month


def months_through(first: str, last: str) -> Iterator[str]:
    """The months from ``first`` to ``last``, both included (none when ``last`` is earlier)."""
    for index in range(_index(first), _index(last) + 1):
        yield _from_index(index)


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (later when negative), or the month's last day
    where that month is shorter: 31 May less three months is 28 or 29 February."""
    year, number = divmod(day.year * 12 + day.month - 1 - months, 12)
    start = date(year, number + 1, 1)
    return min(start + timedelta(days=day.day - 1), end_of_month(start))


__all__ = [
    "MonthError",
    "add_months",
    "check",
    "end_of_month",
    "first_day",
    "last_day",
    "month_end",
    "month_of_date",
    "months_before",
    "months_between",
    "months_through",
    "next_month",
    "previous_month",
]
