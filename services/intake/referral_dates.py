"""The sender's dates: ``submitted_at`` and ``consent.given_at`` must fall between 2000-01-01
and the day after the Stockholm date the referral was received (a day's grace for clocks and
time zones); a date outside is ``malformed`` for that field. Nothing this system serves began
before 2000, and a date after tomorrow is a typing error or a forged one (pydantic alone takes
years 1 to 9999). Coordinated support's consent form is held to a stricter rule
(:func:`services.intake.coordinated.check_consent`), which then speaks alone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from events.intake import Reason
from events.referrals import SubmitReferral
from infra.calendar import local_date
from services.intake.reasons import reason

#: The earliest ``submitted_at`` or ``consent.given_at`` taken (see the module docstring).
EARLIEST_DATE = date(2000, 1, 1)


def check_dates(
    referral: SubmitReferral, day: date, reasons: list[Reason], consent_judged: bool
) -> None:
    """``submitted_at`` and ``consent.given_at`` within 2000-01-01 .. ``day`` + 1, else
    ``malformed``; a ``given_at`` after ``day`` that coordinated support's consent rule judged
    is ``missing_consent`` alone (:func:`services.intake.coordinated.check_consent`)."""
    dates: dict[str, date | datetime | None] = {
        "submitted_at": referral.submitted_at,
        "consent.given_at": referral.consent.given_at if referral.consent else None,
    }
    for name, value in dates.items():
        if value is None or within_bounds(value, day):
            continue
        if name == "consent.given_at" and consent_judged and value > day:
            continue  # late for the consent form: missing_consent says so
        reasons.append(reason("malformed:date", name, earliest=EARLIEST_DATE.isoformat()))


def within_bounds(value: date | datetime, day: date) -> bool:
    """Whether a sender's date (a datetime: its Stockholm date) lies from 2000-01-01 to the day
    after ``day``, the day received."""
    # The year roughly first (its offset may move it a year either way in Stockholm):
    # converting a datetime of year 1 or 9999 to Stockholm time can overflow.
    if not EARLIEST_DATE.year - 1 <= value.year <= day.year + 2:
        return False
    on = local_date(value) if isinstance(value, datetime) else value
    return EARLIEST_DATE <= on <= day + timedelta(days=1)
