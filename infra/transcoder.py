"""The stored events' JSON, written by orjson in eventsourcing's own format.

eventsourcing's :class:`~eventsourcing.persistence.JSONTranscoder` writes with the standard
library's encoder, which calls back into Python for every UUID, time stamp and decimal: a fifth
to a third of the event store's floor (``bench/floor.py``, ``docs/performance.md``).
:class:`OrjsonTranscoder` is that transcoder with its values turned into JSON's own types in
one walk (each registered type into the library's ``{"_type_": name, "_data_": ...}``
object) and orjson writing the bytes. It keeps the library's registered transcodings (the
application's ``register_transcodings`` sees a ``JSONTranscoder``), its format and its
reading: rows written by either transcoder are read by either into equal values.

Where orjson would write anything differently, the library's own encoder writes the whole
event instead, so those values keep their exact meaning (and their errors): anything but
``str``, ``int``, ``bool``, ``None``, a finite ``float``, a ``dict``, ``list`` or ``tuple``, or
a type with a registered transcoding (the library writes subclasses of the JSON types as the
JSON type and NaN as ``NaN``, where orjson writes UUIDs and enums natively and NaN as
``null``), and whatever orjson refuses (ints beyond 64 bits, keys that are not ``str``, lone
surrogates, nesting deeper than 254). Floats are written in orjson's shortest form, which
reads back to the same float but may spell its exponent differently (``1e-7`` for ``1e-07``);
everything else is written byte for byte as the library writes it.

Reading stays the library's: orjson reads an int beyond 64 bits as a float, and, with the walk
back to the registered types that reading would then need, measured no faster (5.9 µs against
5.9 µs for a pipeline-sized event).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Transcoding
from eventsourcing.utils import get_topic

#: Types the library's encoder writes as JSON itself, subclasses included: a transcoding
#: registered for one of them is never used by it, so it is not used here either.
_JSON_TYPES = (str, int, float, list, tuple, dict, type(None))


#: What orjson writes exactly as the library's encoder does, by exact type.
_SCALARS = frozenset({str, int, bool, type(None)})


class _NotPlain(Exception):
    """A value orjson would not write as the library's encoder does."""


class OrjsonTranscoder(JSONTranscoder):
    """``JSONTranscoder``'s format and transcodings, written by orjson (see the module)."""

    def __init__(self) -> None:
        super().__init__()
        #: The registered transcodings the library's encoder would use, by exact type.
        self.tagged: dict[type, Transcoding] = {}
        #: The name datetimes are tagged with when the library's ``DatetimeAsISO`` writes them:
        #: orjson then writes a naive or UTC one as its ``isoformat()`` itself (a test holds it
        #: to that), without the call into Python.
        self.datetime_iso: str | None = None

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        if issubclass(transcoding.type, _JSON_TYPES):
            self.tagged.pop(transcoding.type, None)
        else:
            self.tagged[transcoding.type] = transcoding
        if transcoding.type is datetime:
            native = type(transcoding) is DatetimeAsISO
            self.datetime_iso = transcoding.name if native else None

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_NotPlain, orjson.JSONEncodeError, RecursionError):
            return super().encode(obj)

    def _plain(self, o: Any) -> Any:
        """``o`` in JSON's own types, with each registered type as the library tags it."""
        t = type(o)
        if t is str or t is int or t is bool or o is None:
            return o
        if t is float:
            if o - o == 0.0:  # not NaN nor an infinity
                return o
            raise _NotPlain
        if t is dict:
            plain: dict[Any, Any] = {}
            tagged = self.tagged
            for k, v in o.items():
                u = type(v)
                if u is str or u is int or u is bool or v is None:
                    plain[k] = v
                elif u is datetime and (v.tzinfo is None or v.tzinfo is UTC) and self.datetime_iso:
                    plain[k] = {"_type_": self.datetime_iso, "_data_": v}
                elif u in tagged:  # the common tag, over a string, made here in one step
                    transcoding = tagged[u]
                    data = transcoding.encode(v)
                    if type(data) is not str:
                        data = self._plain(data)
                    plain[k] = {"_type_": transcoding.name, "_data_": data}
                else:
                    plain[k] = self._plain(v)
            return plain
        if t is list or t is tuple:
            return [v if type(v) in _SCALARS else self._plain(v) for v in o]
        found = self.tagged.get(t)
        if found is None:
            raise _NotPlain
        return {"_type_": found.name, "_data_": self._plain(found.encode(o))}


#: The ``TRANSCODER_TOPIC`` of every service's store (:func:`infra.store.store_env`).
TRANSCODER_TOPIC = get_topic(OrjsonTranscoder)
