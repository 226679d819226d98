"""The orjson transcoder writes what eventsourcing's JSON transcoder writes: every value reads
back the same through either, ints of any size and NaN included, and what one refuses the
other refuses."""

from __future__ import annotations

import enum
import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

from infra.recording import DateAsISO
from infra.transcoder import OrjsonTranscoder


def transcoders() -> tuple[JSONTranscoder, OrjsonTranscoder]:
    """The library's and ours, with the transcodings every service's application registers."""
    old, new = JSONTranscoder(), OrjsonTranscoder()
    for transcoder in (old, new):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
            transcoder.register(transcoding)
    return old, new


OLD, NEW = transcoders()

offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**100])
    | st.floats()
    | st.text()
    | st.uuids()
    | st.datetimes(timezones=st.none() | st.just(UTC) | offsets)
    | st.dates()
    | st.decimals(allow_nan=False)
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)


def same(a: Any, b: Any) -> bool:
    """Equal, of the same types all the way down, NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def as_read(value: Any) -> Any:
    """What a JSON transcoder reads back for ``value``: tuples come back as lists."""
    if isinstance(value, dict):
        return {k: as_read(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_read(v) for v in value]
    return value


def has_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_float(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_float(v) for v in value)
    return isinstance(value, float)


@given(values)
def test_every_value_reads_back_the_same_through_either_transcoder(value: Any) -> None:
    state = {"value": value}
    written_new, written_old = NEW.encode(state), OLD.encode(state)
    assert same(OLD.decode(written_new), as_read(state))
    assert same(NEW.decode(written_new), as_read(state))
    assert same(NEW.decode(written_old), as_read(state))
    if not has_float(value):  # floats may spell their exponent differently, nothing else
        assert written_new == written_old


@given(st.floats())
def test_floats_read_back_as_the_same_float(number: float) -> None:
    read = OLD.decode(NEW.encode({"x": number}))["x"]
    assert type(read) is float
    if math.isnan(number):
        assert math.isnan(read)
    else:
        assert read == number and math.copysign(1.0, read) == math.copysign(1.0, number)


@pytest.mark.parametrize("number", [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 7**300])
def test_ints_beyond_64_bits_are_written_exactly(number: int) -> None:
    written = NEW.encode({"n": number, "at": UUID(int=number % 2**128)})
    assert written == OLD.encode({"n": number, "at": UUID(int=number % 2**128)})
    read = OLD.decode(written)["n"]
    assert type(read) is int and read == number


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_are_written_as_the_library_writes_them(number: float) -> None:
    assert NEW.encode([number]) == OLD.encode([number])  # NaN, not orjson's null


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Label(str):
    pass


class ColourAsName(Transcoding):
    type = Colour
    name = "colour"

    def encode(self, obj: Colour) -> str:
        return obj.name

    def decode(self, data: str) -> Colour:
        return Colour[data]


class LabelTagged(Transcoding):
    """Registered for a str subclass: the library's encoder never calls it."""

    type = Label
    name = "label"

    def encode(self, obj: Label) -> str:
        return "never"

    def decode(self, data: str) -> Label:
        return Label(data)


class Span(Transcoding):
    """A registered type written as an object holding other registered types."""

    type = range
    name = "span"

    def encode(self, obj: range) -> dict[str, Any]:
        return {"from": obj.start, "to": obj.stop, "of": UUID(int=obj.stop)}

    def decode(self, data: dict[str, Any]) -> range:
        return range(data["from"], data["to"])


def with_custom() -> tuple[JSONTranscoder, OrjsonTranscoder]:
    old, new = transcoders()
    for transcoder in (old, new):
        for transcoding in (ColourAsName(), LabelTagged(), Span()):
            transcoder.register(transcoding)
    return old, new


@pytest.mark.parametrize(
    "value",
    [
        Colour.RED,  # orjson alone writes an enum's value, untagged
        Level.HIGH,
        Label("x"),  # the library writes a str subclass as a string, whatever is registered
        range(2, 2**70),
        {"deep": [{"deeper": (Colour.RED, date(2026, 1, 2))}]},
        {1: "a", 2.5: "b", None: "c", False: "d"},  # keys the library turns into strings
        {Label("k"): 1},
    ],
)
def test_custom_and_odd_values_are_written_as_the_library_writes_them(value: Any) -> None:
    old, new = with_custom()
    assert new.encode({"v": value}) == old.encode({"v": value})
    assert same(new.decode(new.encode({"v": value})), old.decode(old.encode({"v": value})))


def test_a_custom_transcoding_reads_back_its_type() -> None:
    old, new = with_custom()
    assert old.decode(new.encode({"c": Colour.RED}))["c"] is Colour.RED
    assert old.decode(new.encode({"s": range(1, 9)}))["s"] == range(1, 9)


def test_nesting_deeper_than_orjson_allows_is_written_by_the_library() -> None:
    nested: Any = UUID(int=1)
    for _ in range(300):
        nested = [nested]
    written = NEW.encode({"n": nested})
    assert written == OLD.encode({"n": nested})


def refusal(transcoder: JSONTranscoder, value: Any) -> type[BaseException]:
    with pytest.raises(Exception) as refused:
        transcoder.encode({"v": value})
    return refused.type


@pytest.mark.parametrize(
    "value",
    [object(), Colour.RED, "\ud800", {(1, 2): "tuple key"}, {UUID(int=1): "uuid key"}],
)
def test_what_the_library_refuses_is_refused_alike(value: Any) -> None:
    assert refusal(NEW, value) is refusal(OLD, value)


def test_an_unregistered_type_is_refused_as_not_registered() -> None:
    with pytest.raises(TranscodingNotRegisteredError):
        NEW.encode({"v": Colour.RED})


def test_a_circular_value_is_refused_not_looped_on() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        NEW.encode({"v": loop})


@settings(max_examples=2_000)
@given(st.datetimes(timezones=st.none() | st.just(UTC)))
@example(datetime.min)
@example(datetime.max.replace(tzinfo=UTC))
@example(datetime(999, 1, 2, 3, 4, 5, 6))
@example(datetime(2026, 1, 1, microsecond=100_000, tzinfo=UTC))
def test_orjson_writes_naive_and_utc_datetimes_as_their_isoformat(moment: datetime) -> None:
    """The one value orjson writes itself in place of a transcoding's output."""
    assert NEW.encode({"at": moment}) == OLD.encode({"at": moment})


class DatetimeAsStamp(Transcoding):
    type = datetime
    name = "datetime_stamp"

    def encode(self, obj: datetime) -> float:
        return obj.timestamp()

    def decode(self, data: float) -> datetime:
        return datetime.fromtimestamp(data, UTC)


def test_a_datetime_transcoding_of_the_application_s_own_is_used_as_registered() -> None:
    old, new = transcoders()
    for transcoder in (old, new):
        transcoder.register(DatetimeAsStamp())
    moment = datetime(2026, 11, 2, 8, 15, tzinfo=UTC)
    assert new.encode({"at": moment}) == old.encode({"at": moment})
    assert old.decode(new.encode({"at": moment}))["at"] == moment
