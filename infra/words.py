"""Words for people: a count with its noun in the right number, one way everywhere."""

from __future__ import annotations


def counted(n: int | str, one: str, many: str | None = None) -> str:
    """``n`` with its noun in the right number: "1 session", "2 sessions", "0 sessions"."""
    return f"{n} {one if str(n) in ('1', '-1') else (many or one + 's')}"
