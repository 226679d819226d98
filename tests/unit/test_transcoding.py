"""The orjson decoder gives exactly what eventsourcing's own JSON decoder gives, for any state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.application import DateAsISO
from infra.transcoding import FastJSONTranscoder


def _registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return transcoder


LIBRARY = _registered(JSONTranscoder())
FAST = _registered(FastJSONTranscoder())

# Keys that look like the tagging's own keys are part of the input space on purpose.
keys = st.one_of(st.text(max_size=8), st.sampled_from(["_type_", "_data_", "uuid_hex"]))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too: orjson refuses them and the library decodes
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),  # lone surrogates too
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), None])),
)
states = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


def _outcome(transcoder: JSONTranscoder, data: bytes) -> tuple[str, Any]:
    try:
        return "decoded", transcoder.decode(data)
    except (TranscodingNotRegisteredError, TypeError):
        # A state whose own keys are "_type_" and "_data_" cannot be read back by either.
        return "refused", None


@settings(max_examples=300, derandomize=True, deadline=None)
@given(state=st.dictionaries(keys, states, max_size=6))
def test_decodes_every_state_as_the_library_does(state: dict[str, Any]) -> None:
    data = LIBRARY.encode(state)
    assert _outcome(FAST, data) == _outcome(LIBRARY, data)


def test_a_stored_event_state_round_trips_with_its_types() -> None:
    state = {
        "timestamp": datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        "session_id": UUID("819c01d6-b788-5cfc-9560-862a3e75b0d9"),
        "billed_before": Decimal("2589.75"),
        "on": date(2026, 3, 29),
        "meeting": {"meeting_id": "77814748", "nested": [{"at": date(2026, 1, 1)}]},
        "plain": {"_type_": "not a tag", "x": 1},
    }
    decoded = FAST.decode(LIBRARY.encode(state))
    assert decoded == state
    assert type(decoded["session_id"]) is UUID
    assert type(decoded["billed_before"]) is Decimal
    assert type(decoded["meeting"]["nested"][0]["at"]) is date


def test_text_that_mentions_the_tag_is_left_as_text() -> None:
    state = {"note": '{"_type_":"uuid_hex","_data_":"00"}', "n": Decimal(1)}
    assert FAST.decode(LIBRARY.encode(state)) == state


def test_an_unknown_tag_is_refused_as_the_library_refuses_it() -> None:
    data = b'{"x":{"_type_":"no_such_type","_data_":"1"}}'
    with pytest.raises(TranscodingNotRegisteredError):
        LIBRARY.decode(data)
    with pytest.raises(TranscodingNotRegisteredError):
        FAST.decode(data)


def test_json_orjson_does_not_read_falls_back_to_the_library() -> None:
    for data in (b'{"x":NaN}', b'{"big":123456789012345678901234567890}', b'{"s":"\\ud800"}'):
        assert repr(FAST.decode(data)) == repr(LIBRARY.decode(data))
