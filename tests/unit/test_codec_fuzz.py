"""Fuzzing the entry codec: whatever a producer writes, decoding gives a message or a
DecodeError, never another exception, and plain_fields (what a dead letter copies) never fails.

Entries are built around valid ones, so that the fuzzing reaches the deep checks (version, id,
JSON, the message's own validation) and not only the first refusal: one field at a time is
replaced by arbitrary text, bytes (also not UTF-8), numbers or None, ``data`` by arbitrary JSON,
deeply nested JSON, or oversized values, and fields are added up to and past the limits.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import MESSAGES, DecodeError, decode, encode
from events.codec import MAX_DATA_BYTES, MAX_FIELD_BYTES, MAX_FIELDS, plain_fields
from events.referrals import SubmitReferral
from events.types import Message
from tests.unit.test_codec import SAMPLES

VALID = {name: encode(MESSAGES[name].model_validate(SAMPLES[name])) for name in SAMPLES}
FIELDS = ("type", "version", "id", "data", "correlation_id", "causation_id")

#: What a broken or hostile producer may put in a field (redis-py hands back bytes or str;
#: other types come from callers building entries themselves).
ANY_VALUE = st.one_of(
    st.text(max_size=64),
    st.binary(max_size=64),
    st.sampled_from([b"\xff\xfe", b"\xc3", "\ud800", "", " ", "0", "-1", "1e400", "NaN"]),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.sampled_from(sorted(MESSAGES)),
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too, which json.dumps writes and JSON has not
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


def outcome(entry: Any) -> Message | DecodeError:
    """Decoding's answer; any other exception fails the test."""
    try:
        envelope = decode(entry)
    except DecodeError as refused:
        assert str(refused), "a refusal says what was wrong"
        return refused
    assert isinstance(envelope.message, Message)
    assert envelope.type in MESSAGES
    return envelope.message


def copied(entry: dict[Any, Any]) -> None:
    fields = plain_fields(entry)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


@settings(max_examples=150)
@given(
    name=st.sampled_from(sorted(VALID)),
    field=st.sampled_from(FIELDS),
    value=ANY_VALUE,
    as_bytes=st.booleans(),
)
def test_one_field_replaced_by_anything(name: str, field: str, value: Any, as_bytes: bool) -> None:
    entry: dict[Any, Any] = dict(VALID[name]) | {field: value}
    if as_bytes:  # as redis-py returns entries without decode_responses
        entry = {
            k.encode(): v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v
            for k, v in entry.items()
        }
    outcome(entry)
    copied(entry)


@settings(max_examples=100)
@given(
    name=st.sampled_from(sorted(VALID)),
    data=st.one_of(JSON.map(json.dumps), st.text(max_size=200), st.binary(max_size=200)),
)
def test_data_replaced_by_any_json_text_or_bytes(name: str, data: str | bytes) -> None:
    outcome(dict(VALID[name]) | {"data": data})


@settings(max_examples=100)
@given(
    name=st.sampled_from(sorted(VALID)),
    key=st.text(max_size=20),
    value=JSON,
)
def test_a_payload_member_replaced_or_added_by_any_json(name: str, key: str, value: Any) -> None:
    payload = json.loads(VALID[name]["data"])
    key = key if key or not payload else sorted(payload)[len(key) % len(payload)]
    payload[key] = value
    outcome(dict(VALID[name]) | {"data": json.dumps(payload)})


@settings(max_examples=30)
@given(
    depth=st.integers(min_value=1, max_value=MAX_DATA_BYTES // 2),
    opener=st.sampled_from(["[", '{"a":', "[{}, "]),
)
def test_deeply_nested_data_is_refused_not_crashed(depth: int, opener: str) -> None:
    nested = (opener * depth)[: MAX_DATA_BYTES - 2] + "1"
    result = outcome(dict(VALID["SubmitReferral"]) | {"data": nested})
    assert isinstance(result, DecodeError)


@settings(max_examples=40)
@given(
    field=st.sampled_from(FIELDS),
    excess=st.integers(min_value=-2, max_value=2),
    as_bytes=st.booleans(),
)
def test_values_at_and_past_their_limits(field: str, excess: int, as_bytes: bool) -> None:
    limit = MAX_DATA_BYTES if field == "data" else MAX_FIELD_BYTES
    value: str | bytes = "x" * (limit + excess)
    if as_bytes:
        value = value.encode()
    result = outcome(dict(VALID["CaseClosed"]) | {field: value})
    if excess > 0:
        assert isinstance(result, DecodeError) and f"at most {limit} are read" in str(result)


@settings(max_examples=40)
@given(
    extra=st.dictionaries(
        st.one_of(st.text(max_size=30), st.binary(max_size=30)),
        ANY_VALUE,
        max_size=MAX_FIELDS + 2,
    )
)
def test_any_extra_fields_up_to_and_past_the_field_limit(extra: dict[Any, Any]) -> None:
    entry: dict[Any, Any] = dict(VALID["SubmitReferral"])
    entry.update({k: v for k, v in extra.items() if k not in entry})
    result = outcome(entry)
    if len(entry) > MAX_FIELDS:
        assert isinstance(result, DecodeError)
    copied(entry)


@settings(max_examples=60)
@given(
    st.dictionaries(
        st.one_of(st.text(max_size=20), st.binary(max_size=20), st.integers()),
        ANY_VALUE,
        max_size=MAX_FIELDS + 4,
    )
)
def test_any_field_map_at_all(entry: dict[Any, Any]) -> None:
    outcome(entry)


def test_a_valid_entry_survives_the_fuzzing_helpers() -> None:
    """The mutations above start from entries that decode: the fuzzing reaches deep."""
    for name, fields in VALID.items():
        result = outcome(fields | {"id": str(uuid.uuid4())})
        assert isinstance(result, MESSAGES[name])


def test_json_nested_past_the_interpreter_s_recursion_limit_is_a_decode_error() -> None:
    for opener in ("[", '{"a":'):
        nested = (opener * 100_000)[: MAX_DATA_BYTES - 1] + "1"
        result = outcome(dict(VALID["SubmitReferral"]) | {"data": nested})
        assert isinstance(result, DecodeError) and "nested too deeply" in str(result)


#: What a hostile or careless writer puts where a referral's values go: JSON that Python's parser
#: reads (or half reads) but no contract allows.
HOSTILE_JSON = st.one_of(
    st.integers(4_301, 6_000).map(lambda n: "9" * n),  # past the int-string conversion limit
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-0", '"\\ud800"', "null"]),
    st.integers(1, 3_000).map(lambda depth: "[" * depth + "]" * depth),
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1).map(json.dumps),
    st.text(max_size=40).map(json.dumps),
)


@given(
    path=st.sampled_from(
        [
            ("referral_id",),
            ("urgency",),
            ("submitted_at",),
            ("persons",),
            ("persons", 0, "personal_number"),
            ("persons", 0, "municipality_code"),
            ("consent",),
            ("consent", "given"),
            ("note",),
            ("extra",),
        ]
    ),
    value=HOSTILE_JSON,
)
def test_hostile_values_in_a_referral_decode_or_raise_decode_error_without_echo(
    path: tuple[str | int, ...], value: str
) -> None:
    body = SubmitReferral.model_validate(SAMPLES["SubmitReferral"]).model_dump(mode="json")
    marker = "__HOSTILE__"
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = marker
    data = json.dumps(body).replace(f'"{marker}"', value)
    entry = {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()), "data": data}
    try:
        decode(entry)
    except DecodeError as exc:
        numbers = [p["personal_number"] for p in body["persons"] if isinstance(p, dict)]
        assert not any(n in str(exc) for n in numbers if isinstance(n, str) and len(n) > 8)
        assert len(str(exc)) < 2_000


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_data_at_the_limit_is_read_and_one_byte_over_is_refused(extra: int) -> None:
    from events.codec import MAX_DATA_BYTES

    body = SubmitReferral.model_validate(SAMPLES["SubmitReferral"]).model_dump(mode="json")
    base = json.dumps(body | {"note": ""})
    pad = MAX_DATA_BYTES + extra - len(base.encode())
    data = base.replace('"note": ""', '"note": "' + "n" * pad + '"')
    entry = {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()), "data": data}
    assert len(data.encode()) == MAX_DATA_BYTES + extra
    if extra > 0:
        with pytest.raises(DecodeError, match=f"at most {MAX_DATA_BYTES} are read"):
            decode(entry)
    else:  # read whole: a note this long is intake's rule to refuse (note_too_long), not ours
        assert len(decode(entry).message.note) == pad
