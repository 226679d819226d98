"""Stored events decoded with orjson: the same objects as eventsourcing's JSON transcoder, faster.

eventsourcing's :class:`~eventsourcing.persistence.JSONTranscoder` decodes a stored event with
the standard library's decoder and an ``object_hook`` that turns every two-key
``{"_type_": name, "_data_": data}`` object into the registered type (UUIDs, datetimes,
decimals, dates). Reading a log is mostly that decoding (docs/performance.md, replay), so here
the text is parsed by orjson and the tagged objects are converted afterwards, inner objects
first as the hook does. The walk stops as soon as every object with a ``"_type_"`` key has been
seen: their number is counted in the text first (the key's quotes and colon cannot occur
unescaped inside a JSON string), so an event's untagged nested objects (a meeting, a session)
are not walked at all.

The stored format is unchanged: encoding stays the library's, and anything orjson does not read
exactly as the standard library would (``NaN``, integers beyond 64 bits, lone surrogates) falls
back to the library's own decoder, so both always give the same object. (orjson reads an
integer beyond 64 bits as a float without complaint, so text with 19 digits in a row, which
could be one, is left to the library.)
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError

_TAG = b'"_type_":'
#: orjson reads an integer beyond 64 bits as a float; 19 digits in a row may be one.
_LONG_NUMBER = re.compile(rb"\d{19}")


class FastJSONTranscoder(JSONTranscoder):
    """:class:`JSONTranscoder` whose :meth:`decode` parses with orjson."""

    def decode(self, data: bytes) -> Any:
        if _LONG_NUMBER.search(data):
            return super().decode(data)
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().decode(data)
        tags = data.count(_TAG)
        if not tags:
            return parsed
        kind = type(parsed)
        if kind is dict:
            return _Walk(self.names, tags).object(parsed)
        if kind is list:
            _Walk(self.names, tags).array(parsed)
        return parsed


class _Walk:
    """One decode's conversion of tagged objects; ``left`` counts the tags not yet seen."""

    __slots__ = ("left", "names")

    def __init__(self, names: dict[str, Any], left: int) -> None:
        self.names = names
        self.left = left

    def object(self, d: dict[str, Any]) -> Any:
        for key, value in d.items():
            if not self.left:
                return d
            kind = type(value)
            if kind is dict:
                d[key] = self.object(value)
            elif kind is list:
                self.array(value)
        if "_type_" not in d:
            return d
        self.left -= 1
        if len(d) != 2 or "_data_" not in d:
            return d
        name = d["_type_"]
        try:
            transcoding = self.names[name]
        except (KeyError, TypeError) as exc:
            raise TranscodingNotRegisteredError(
                f"Data serialized with name '{name}' is not deserializable. Please register "
                "a custom transcoding for this type."
            ) from exc
        return transcoding.decode(d["_data_"])

    def array(self, items: list[Any]) -> None:
        for index, value in enumerate(items):
            if not self.left:
                return
            kind = type(value)
            if kind is dict:
                items[index] = self.object(value)
            elif kind is list:
                self.array(value)
