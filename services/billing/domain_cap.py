"""The hours billed against a programme's yearly cap, who gives way, and the warnings given.

Stored under its first module's topics (``services.billing.domain:CapAccount...``): an explicit
``TOPIC`` on the class and on each event keeps them, and :mod:`services.billing.domain` still
imports the class, so stored events resolve and new ones are written under the same names.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.months import month_of_date
from services.billing.cap_order import CapLedger, day_key
from services.billing.domain_keys import NAMESPACE
from services.billing.errors import BillingError


class CapAccount(Aggregate):
    """Hours billed against one programme's cap in one calendar year, and the warnings given."""

    TOPIC = "services.billing.domain:CapAccount"

    class Event(Aggregate.Event):
        TOPIC = "services.billing.domain:CapAccount.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "services.billing.domain:CapAccount.Created"

    @staticmethod
    def create_id(programme: str, year: int) -> UUID:
        return uuid5(NAMESPACE, f"cap/{programme}/{year}")

    @event("Opened", topic="services.billing.domain:CapAccount.Opened")
    def __init__(self, programme: str, year: int) -> None:
        self.programme = programme
        self.year = year
        self.billed = Decimal(0)
        self.over_cap = Decimal(0)
        self.limit: Decimal | None = None
        self.warnings: list[dict[str, Any]] = []
        #: Hours billed per performed-on date (ISO), for the pace of the cap forecast.
        self.daily: dict[str, Decimal] = {}
        #: Every session's hours, in the order performed (who gives way to whom).
        self.ledger = CapLedger()

    @event("HoursBilled", topic="services.billing.domain:CapAccount.HoursBilled")
    def bill(
        self,
        session_id: UUID,
        billed_hours: Decimal,
        over_cap_hours: Decimal,
        limit_hours: Decimal,
        performed_on: date | None = None,
        performed_at: str | None = None,
        month: str | None = None,
    ) -> None:
        # ``performed_on`` was added later: hours billed before it carry no date, count in the
        # year's total and not in any pace. ``performed_at`` and ``month`` (the session's place
        # in the order performed, cap_order.py) later still: hours billed before them are
        # placed at the start of their day, or first.
        self.billed += billed_hours
        self.over_cap += over_cap_hours
        self.limit = limit_hours
        if performed_on is not None:
            day = performed_on.isoformat()
            self.daily[day] = self.daily.get(day, Decimal(0)) + billed_hours
        if performed_at is not None:
            key = (performed_at, session_id.hex)
        elif performed_on is not None:
            key = day_key(performed_on, session_id)
        else:
            key = ("", session_id.hex)
        on = performed_on or date(self.year, 1, 1)
        place = month or month_of_date(on)
        self.ledger.record(session_id.hex, key, place, on, billed_hours)

    def give_way(
        self, *, session_id: UUID, billed_hours: Decimal, given_to: UUID, performed_on: date
    ) -> None:
        """A billed session keeps only ``billed_hours``: one performed before it, recorded
        after it, took the rest (cap_order.py); never more than it had."""
        row = self.ledger.rows.get(session_id.hex)
        if row is None or not Decimal(0) <= billed_hours < row.billed:
            raise BillingError(f"session {session_id} cannot give way to {billed_hours} hours")
        self._give_way(
            session_id=session_id,
            billed_hours=billed_hours,
            given_to=given_to,
            performed_on=performed_on,
        )

    @event("HoursGivenWay", topic="services.billing.domain:CapAccount.HoursGivenWay")
    def _give_way(
        self, session_id: UUID, billed_hours: Decimal, given_to: UUID, performed_on: date
    ) -> None:
        given = self.ledger.give_way(session_id.hex, billed_hours)
        self.billed -= given
        self.over_cap += given
        day = performed_on.isoformat()
        self.daily[day] = self.daily.get(day, Decimal(0)) - given

    def warn(
        self,
        *,
        percent: int,
        billed_hours: Decimal,
        limit_hours: Decimal,
        session_id: UUID,
        performed_on: date,
    ) -> None:
        self._warn(
            programme=self.programme,
            year=self.year,
            percent=percent,
            billed_hours=billed_hours,
            limit_hours=limit_hours,
            session_id=session_id,
            performed_on=performed_on,
        )

    @event("ThresholdCrossed", topic="services.billing.domain:CapAccount.ThresholdCrossed")
    def _warn(
        self,
        programme: str,
        year: int,
        percent: int,
        billed_hours: Decimal,
        limit_hours: Decimal,
        session_id: UUID,
        performed_on: date,
    ) -> None:
        self.warnings.append(
            {"percent": percent, "billed_hours": billed_hours, "limit_hours": limit_hours}
        )
