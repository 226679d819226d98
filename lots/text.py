"""What the CLI prints of stored strings: every character that could forge or hide a line
escaped, so that one line printed is one line stored.

Stored text comes from outside (a referral id, a reason given over HTTP, a name): a line feed
in it would print as a line of its own (``lots audit case`` would show an event that never
happened), a carriage return or a terminal escape sequence would overwrite what was printed,
and a bidirectional override would reorder it. Characters of Unicode's category C (control,
format, surrogate, private use, unassigned) and the line and paragraph separators are printed
as Python escapes (``\\n``, ``\\x1b``, ``\\u202e``); everything else as it is.
"""

from __future__ import annotations

import unicodedata


def _unsafe(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] == "C" or category in ("Zl", "Zp")


def escaped(text: str) -> str:
    """``text`` with its unsafe characters escaped (see the module docstring)."""
    if text.isprintable():  # the common case, in C: nothing to escape
        return text
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in text)


def _escape(ch: str) -> str:
    return ch.encode("unicode_escape").decode("ascii")


def counted(n: int | str, one: str, many: str | None = None) -> str:
    """``n`` with its noun in the right number: "1 session", "2 sessions", "0 sessions"."""
    return f"{n} {one if str(n) in ('1', '-1') else (many or one + 's')}"
