"""What billing's commands and queries need of the application, as a small interface.

The feature modules (``closing.py``, ``tariff_commands.py``, ``session_commands.py``) are
functions of :class:`Books`, never of the concrete application: each runs its change on a
:class:`~services.billing.booking.Booker` through :meth:`Books.transact` and reads through
:meth:`Books.query`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from infra.calendar import CalendarPolicy
from services.billing.booking import Booker, Booking

T = TypeVar("T")


class Books(Booking, Protocol):
    """Billing's clock and settings, and the one way to run a command on its books."""

    clock: Callable[[], datetime]
    #: The grace window after a month in business days (0: none) and the calendar it counts in.
    grace_days: int
    calendar: CalendarPolicy
    #: Weeks of billed hours the cap forecast takes the pace from.
    pace_weeks: int
    #: Months known to be closed (a closed month never opens again): no store read needed.
    closed_months: set[str]

    def transact(self, command: Callable[[Booker], T]) -> T:
        """Run ``command`` on a booker of a fresh unit of work, saved, retried on conflict."""
        ...

    def query(self, read: Callable[[Booker], T]) -> T:
        """Run ``read`` on a booker of a fresh unit of work that is never saved."""
        ...
