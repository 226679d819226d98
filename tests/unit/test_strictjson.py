"""The strict JSON reader: what JSON is read as ``json.loads`` reads it, what Python alone
accepts (NaN, Infinity, 1e999) or cannot read (4,301-digit integers) is NotJson, never another
error, and its message never quotes the input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.strictjson import NotJson, loads

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_json_reads_as_json_loads_reads_it(value: Any) -> None:
    text = json.dumps(value)
    assert loads(text) == json.loads(text)
    assert loads(text.encode("utf-16")) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        '{"minutes": Infinity}',
        "[1, -Infinity]",
        '{"a": 1e999}',
        "-1e400",
        "1" * 400 + "0" * 4000 + ".5",
        "1" * 4301,
        '{"n": -' + "9" * 5000 + "}",
    ],
)
def test_what_json_has_not_or_python_cannot_read_is_not_json(text: str) -> None:
    with pytest.raises(NotJson) as refused:
        loads(text)
    assert "999" not in str(refused.value) and "111" not in str(refused.value)


@given(st.binary(max_size=64) | st.text(max_size=64))
def test_anything_else_is_what_json_loads_reads_or_not_json(text: bytes | str) -> None:
    try:
        value = loads(text)
    except NotJson:
        return
    assert value == json.loads(text)


def test_a_refusal_says_where_when_it_is_known() -> None:
    with pytest.raises(NotJson) as refused:
        loads('{"personal_number": "191212121212", }')
    assert refused.value.position == 36 and "191212121212" not in str(refused.value)
    with pytest.raises(NotJson, match="nested too deeply"):
        loads("[" * 100_000)
