"""The Europe/Stockholm business calendar: local dates, months, business days and deadlines.

Pure functions of their arguments (no clock, no I/O) so that a deadline computed today and the
same deadline replayed by an auditor next year are identical. Every service that turns an instant
into a local date, a settlement month or a service-level deadline goes through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from holidays.countries.sweden import Sweden

from infra.months import month_of_date

STOCKHOLM = ZoneInfo("Europe/Stockholm")

_DAY = timedelta(days=1)
_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class CalendarPolicy:
    """How the business calendar treats days that are not fixed by law.

    ``de_facto_days_off``: Midsummer Eve, Christmas Eve and New Year's Eve are not legal
    holidays in Sweden, but offices are closed on them in practice; when true (the default) they
    are not business days, so a 24-hour answer promised on 23 December is not due on the 24th.
    """

    de_facto_days_off: bool = True


DEFAULT_CALENDAR = CalendarPolicy()


def _require_aware(dt: datetime) -> None:
    # A naive datetime has no defined instant; guessing its zone would shift dates and months.
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(
            f"time stamp {dt.isoformat()} has no offset: a timezone-aware datetime is required"
        )


def local_date(dt: datetime) -> date:
    """The date in Stockholm at the instant ``dt`` (aware datetimes only)."""
    _require_aware(dt)
    return dt.astimezone(STOCKHOLM).date()


def month_of(dt: datetime) -> str:
    """``YYYY-MM`` of the Stockholm date: 00:30 local on 1 April belongs to April."""
    return month_of_date(local_date(dt))


@cache
def legal_holidays(year: int) -> frozenset[date]:
    """Swedish public holidays of ``year`` by law, from the ``holidays`` package.

    ``include_sundays=False`` because the package otherwise lists every Sunday as a holiday;
    weekends are handled by :func:`is_business_day` itself. Outside the years the package
    covers (1953-2100 in 0.109) it would silently list no holidays at all, so such a year is
    refused rather than given deadlines that ignore Easter and Christmas.
    """
    if not Sweden.start_year <= year <= Sweden.end_year:
        raise ValueError(f"no Swedish holiday data for {year}")
    return frozenset(Sweden(years=year, include_sundays=False).keys())


def midsummer_eve(year: int) -> date:
    """The Friday between 19 and 25 June (Midsummer Day is the Saturday after it)."""
    june_19 = date(year, 6, 19)
    # weekday(): Monday 0 ... Friday 4; the offset is 0..6, so the result lies in 19..25 June.
    return june_19 + timedelta(days=(4 - june_19.weekday()) % 7)


@cache
def de_facto_days_off(year: int) -> frozenset[date]:
    """Midsummer Eve, Christmas Eve and New Year's Eve of ``year``.

    Computed here rather than taken from the package's ``de_facto`` category so that the set
    cannot grow silently with a package upgrade; a unit test compares the two.
    """
    return frozenset({midsummer_eve(year), date(year, 12, 24), date(year, 12, 31)})


def is_business_day(d: date, policy: CalendarPolicy = DEFAULT_CALENDAR) -> bool:
    """Monday to Friday, not a legal holiday, and not a de-facto day off if the policy says so."""
    if d.weekday() >= 5:
        return False
    if d in legal_holidays(d.year):
        return False
    return not (policy.de_facto_days_off and d in de_facto_days_off(d.year))


def add_business_hours(
    start: datetime, hours: int, policy: CalendarPolicy = DEFAULT_CALENDAR
) -> datetime:
    """The deadline ``hours`` business hours after ``start``, as an aware Stockholm datetime.

    This is "answered within 24 hours counted on weekdays": only time on business days counts,
    and a business day counts whole (local 00:00 to 24:00); weekends, holidays and (by policy)
    de-facto days off do not count at all. Received Friday 15:00 → due Monday 15:00; received
    Saturday 10:00 → due Monday 24:00, which is returned as Tuesday 00:00.

    Hours are counted on the Stockholm wall clock, not as elapsed seconds: a business day is
    always worth 24 hours, so a deadline keeps its local time of day ("15:00 → 15:00") whatever
    the offset. Sweden changes its clocks on Sundays, which never count, so today the two readings
    agree on every business hour; the wall-clock rule is chosen so that the answer stays the
    obvious one even if the rules of daylight saving ever move to a weekday.

    A deadline that ends exactly at a business day's end is returned as the next day's 00:00.
    ``hours`` must not be negative; 0 returns ``start`` in Stockholm time.
    """
    _require_aware(start)
    if hours < 0:
        raise ValueError("hours must not be negative")
    local = start.astimezone(STOCKHOLM)
    if hours == 0:
        return local
    day = local.date()
    # Wall-clock time already gone on the start day; a non-business start day contributes none.
    elapsed = local.replace(tzinfo=None) - datetime.combine(day, time())
    remaining = timedelta(hours=hours)
    while True:
        if is_business_day(day, policy):
            available = _DAY - elapsed
            if remaining <= available:
                return _at_wall_clock(datetime.combine(day, time()) + elapsed + remaining)
            remaining -= available
        day += _DAY
        elapsed = timedelta(0)


def _at_wall_clock(naive_local: datetime) -> datetime:
    # The round trip through UTC normalises a wall time that a clock change skipped (02:30 on
    # the last Sunday of March) to a real instant; for business days it changes nothing.
    return naive_local.replace(tzinfo=STOCKHOLM).astimezone(_UTC).astimezone(STOCKHOLM)


def add_calendar_days(d: date, days: int) -> date:
    """``d`` plus ``days`` calendar days, weekends and holidays included.

    The counselling seed's "a personal conversation within two weeks" (003 §2.3, also "waits
    over 14 days") counts calendar days: two weeks after a receipt on 2 November is 16 November,
    whatever falls in between.
    """
    return d + timedelta(days=days)


__all__ = [
    "DEFAULT_CALENDAR",
    "STOCKHOLM",
    "CalendarPolicy",
    "add_business_hours",
    "add_calendar_days",
    "de_facto_days_off",
    "is_business_day",
    "legal_holidays",
    "local_date",
    "midsummer_eve",
    "month_of",
]
