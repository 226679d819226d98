"""Counts shown to people carry their noun in the right number (infra/words.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infra.words import counted


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "session") == "1 session"
    assert counted(0, "session") == "0 sessions"
    assert counted(2, "IVO supervision") == "2 IVO supervisions"
    assert counted(-1, "day") == "-1 day"
    assert counted(3, "child", "children") == "3 children"


@given(st.integers().filter(lambda n: abs(n) != 1))
def test_no_count_but_one_is_written_in_the_singular(n: int) -> None:
    assert counted(n, "meeting") == f"{n} meetings"
