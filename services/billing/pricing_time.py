"""Counselling time and its money, as every pricing path counts them (003 §1.2): pure functions
of their inputs, shared by the billing service, its replay and the offline settlement
(:mod:`services.billing.pricing` prices a session with them).

- ``minutes_between``: ended_at minus started_at as elapsed time (a meeting across a
  daylight-saving change lasts as long as it really did); a started minute counts as a whole
  minute.
- ``started_quarters``: started quarter hours, ``ceil(minutes / 15)``.
- ``client_hours``: client quarters / 4, two decimals.
- ``amount_ore``: rate (SEK per hour, whole öre) x client quarters / 4, in öre, rounded half-up
  to whole öre once per session: the only place a session's amount is rounded.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from infra.refusals import Refused
from services.billing.tariff_quotes import ore_half_up


class PricingError(Refused, ValueError):
    """Time that cannot be priced as given (negative duration, naive time stamp, ...)."""

    status = 400


def minutes_between(started_at: datetime, ended_at: datetime) -> int:
    delta = ended_at - started_at
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if micros < 0:
        raise PricingError(f"ends ({ended_at.isoformat()}) before it starts")
    return -(-micros // 60_000_000)


def started_quarters(minutes: int) -> int:
    if minutes < 0:
        raise PricingError(f"negative duration: {minutes} minutes")
    return -(-minutes // 15)


def client_hours(client_quarters: int) -> Decimal:
    return (Decimal(client_quarters) / 4).quantize(Decimal("0.01"))


def amount_ore(rate: Decimal, client_quarters: int) -> int:
    """Rate (SEK/h) x client quarters / 4, in öre, half-up to whole öre: the one rounding."""
    return ore_half_up(rate * 100 * client_quarters / 4)
