"""School years (läsår), the period polare are recruited for (seed 004: "läsårsvis").

A school year runs from 1 July to 30 June, the Swedish school and municipal practice (terms
start in August and end in June; the summer is the break between register years). It is named
by its two calendar years, ``"2026/27"`` for 1 July 2026 to 30 June 2027, and its names sort in
time order.
"""

from __future__ import annotations

import re
from datetime import date

from infra import months

#: The first month of a school year.
FIRST_MONTH = 7
PATTERN = r"^\d{4}/\d{2}$"
_NAME = re.compile(PATTERN)


class SchoolYearError(ValueError):
    pass


def school_year_of(day: date) -> str:
    """The school year ``day`` falls in."""
    start = day.year if day.month >= FIRST_MONTH else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def parse(name: str) -> tuple[date, date]:
    """First and last day of a school year named ``"2026/27"``; refuses any other spelling."""
    if not _NAME.match(name):
        raise SchoolYearError(f"a school year is written like 2026/27, not {name!r}")
    start = int(name[:4])
    if int(name[5:]) != (start + 1) % 100:
        expected = f"{start}/{(start + 1) % 100:02d}"
        raise SchoolYearError(f"{name} is not two consecutive years (like {expected})")
    return date(start, FIRST_MONTH, 1), months.last_day(start + 1, FIRST_MONTH - 1)


def first_day(name: str) -> date:
    return parse(name)[0]


def last_day(name: str) -> date:
    return parse(name)[1]
