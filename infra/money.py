"""Money in words and figures: integer öre shown one way everywhere.

For people, Swedish kronor with a non-breaking thin grouping space and a decimal comma
(``233 333,33 kr``); for machines, kronor with a point and no grouping (``233333.33``).
Integer arithmetic only: öre never pass through a float.
"""

from __future__ import annotations


def sek(ore: int) -> str:
    """Öre as kronor with two decimals and a point ("6806.25"), for machines."""
    sign = "-" if ore < 0 else ""
    return f"{sign}{abs(ore) // 100}.{abs(ore) % 100:02d}"


def kronor(ore: int) -> str:
    """Öre as Swedish kronor for people ("6 806,25 kr"), the one format shown to people."""
    sign = "-" if ore < 0 else ""
    whole = f"{abs(ore) // 100:,}".replace(",", "\u00a0")
    return f"{sign}{whole},{abs(ore) % 100:02d}\u00a0kr"
