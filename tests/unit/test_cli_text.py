"""Stored strings as the CLI prints them: nothing that breaks, overwrites or reorders a line."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from lots.text import escaped


@given(text=st.text())
def test_an_escaped_text_is_one_line_of_nothing_but_printable_characters(text: str) -> None:
    shown = escaped(text)
    assert len(shown.splitlines()) <= 1
    assert not any(unicodedata.category(ch)[0] == "C" for ch in shown)
    assert "\u2028" not in shown and "\u2029" not in shown


@given(text=st.text(st.characters(exclude_categories=("C", "Zl", "Zp"))))
def test_printable_text_is_printed_as_it_is(text: str) -> None:
    assert escaped(text) == text


def test_escapes_read_like_python_escapes() -> None:
    assert escaped("a\nb\r\x1b[2J\u202e\x85") == "a\\nb\\r\\x1b[2J\\u202e\\x85"
    assert escaped("Åsa Öberg\u00a0\u2013\tx") == "Åsa Öberg\u00a0\u2013\\tx"
