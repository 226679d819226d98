"""Personal numbers and ages: the 12-digit number read, or why it is invalid, and a person's
age in completed years on a day.

Personal numbers must have all 12 digits (``YYYYMMDDNNNN``; a hyphen before the last four is
tolerated and removed). Ten-digit forms are refused: their century would have to be guessed
from today's date, and the rules have no clock. A birth date after the day received is invalid.
Ages are completed years on the Stockholm date of receipt; someone born on 29 February turns a
year older on 1 March in common years.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from personnummer import personnummer as pn


@lru_cache(maxsize=1024)  # a referral's persons are parsed more than once (rules, names)
def parse_personal_number(raw: str, on: date) -> tuple[str, date] | str:
    """``(the 12 digits, birth date)``, or why the number is invalid: ``format``, ``date``,
    ``serial``, ``check`` or ``unborn`` (born after ``on``).

    Validity (a real date, a samordningsnummer's day + 60, the Luhn check digit) is decided by the
    ``personnummer`` package; the 12-digit format and the explanation are ours.
    """
    text = raw.strip()
    if len(text) == 13 and text[8] == "-":
        text = text[:8] + text[9:]
    # isascii(): str.isdigit() also accepts other scripts' digits, which no register issues.
    if len(text) != 12 or not (text.isascii() and text.isdigit()):
        return "format"
    try:
        birth: date = pn.Personnummer(text).get_date()
    except (pn.PersonnummerException, ValueError):
        return _why_invalid(text)
    return (text, birth) if birth <= on else "unborn"


def _why_invalid(digits: str) -> str:
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    try:
        date(year, month, day - 60 if day > 60 else day)
    except ValueError:
        return "date"
    return "serial" if digits[8:11] == "000" else "check"


def age_on(birth: date, day: date) -> int:
    """Completed years on ``day``; a 29 February birthday counts as 1 March in common years."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
