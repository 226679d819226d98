"""The one codec for the plain-field entry format of every public stream.

An entry is a flat map of strings: ``type``, ``version``, ``id``, ``data`` (UTF-8 JSON) and
optionally ``correlation_id`` and ``causation_id``. Any Redis client can write and read it.
Decoding never raises anything but :class:`DecodeError`, whose message is what a dead letter
records as its ``error``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

from pydantic import ValidationError

from events.registry import MESSAGES
from events.strictjson import NotJson, loads
from events.types import Message

M = TypeVar("M", bound=Message)

#: (type, from_version) -> function turning that version's payload into the next version's.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


#: Limits on an inbound entry, so that a hostile or broken producer costs little: the whole
#: ``data`` payload, any other field, and the number of fields.
MAX_DATA_BYTES = 256 * 1024
MAX_FIELD_BYTES = 1024
MAX_FIELDS = 16


class DecodeError(ValueError):
    """An entry that is not a valid public message; the text says what was wrong."""


@dataclass(frozen=True)
class Envelope(Generic[M]):
    """A decoded entry: the message and the metadata that travelled with it."""

    message: M
    id: UUID
    correlation_id: str | None = None
    causation_id: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.message.type_name


def encode(
    message: Message,
    *,
    id: UUID | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> dict[str, str]:
    """Return the plain fields of an entry carrying ``message``."""
    fields = {
        "type": message.type_name,
        "version": str(message.version),
        "id": str(id or uuid4()),
        "data": message.model_dump_json(),
    }
    if correlation_id:
        fields["correlation_id"] = correlation_id
    if causation_id:
        fields["causation_id"] = causation_id
    return fields


def _text(value: object, name: str) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"field '{name}' is not UTF-8") from exc
    if isinstance(value, str):
        return value
    raise DecodeError(f"field '{name}' is not a string")


def plain_fields(entry: Mapping[Any, Any]) -> dict[str, str]:
    """The entry's fields as text, for decoding or for copying into a dead letter."""
    out: dict[str, str] = {}
    for key, value in entry.items():
        name = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        if isinstance(value, bytes):
            out[name] = value.decode("utf-8", "replace")
        else:
            out[name] = str(value)
    return out


def decode(entry: Mapping[Any, Any], expect: type[M] | None = None) -> Envelope[M]:
    """Read one entry (bytes or str keys) into an :class:`Envelope`, or raise DecodeError.

    Whatever else goes wrong while reading (a library's surprise on hostile input) becomes a
    DecodeError naming only the error's type: one entry must never fail a whole batch, and the
    message of an unknown error may hold the entry's content."""
    try:
        return _decode(entry, expect)
    except DecodeError:
        raise
    except Exception as exc:
        raise DecodeError(f"entry could not be read ({type(exc).__name__})") from exc


def _decode(entry: Mapping[Any, Any], expect: type[M] | None) -> Envelope[M]:
    if len(entry) > MAX_FIELDS:
        raise DecodeError(f"entry has {len(entry)} fields; at most {MAX_FIELDS} are read")
    raw = {(_text(k, "<key>")): v for k, v in entry.items()}
    for name, value in raw.items():
        limit = MAX_DATA_BYTES if name == "data" else MAX_FIELD_BYTES
        size = len(value) if isinstance(value, bytes | str) else 0
        if size > limit:
            raise DecodeError(f"field '{name[:40]}' is {size} bytes; at most {limit} are read")
    for required in ("type", "version", "id", "data"):
        if required not in raw:
            raise DecodeError(f"missing field '{required}'")
    type_name = _text(raw["type"], "type")
    cls = MESSAGES.get(type_name)
    if cls is None:
        raise DecodeError(f"unknown message type '{type_name[:100]}'")
    if expect is not None and cls is not expect:
        raise DecodeError(f"expected {expect.type_name}, got {type_name}")
    try:
        version = int(_text(raw["version"], "version"))
    except ValueError as exc:
        raise DecodeError("field 'version' is not an integer") from exc
    if version < 1 or version > cls.version:
        raise DecodeError(f"{type_name} version {version} is not supported (know 1..{cls.version})")
    try:
        message_id = UUID(_text(raw["id"], "id"))
    except ValueError as exc:
        raise DecodeError("field 'id' is not a UUID") from exc
    payload = _json(_text(raw["data"], "data"))
    if not isinstance(payload, dict):
        raise DecodeError("field 'data' is not a JSON object")
    while version < cls.version:
        payload = UPCASTERS[(type_name, version)](payload)
        version += 1
    try:
        message = cls.model_validate(payload)
    except ValidationError as exc:
        raise DecodeError(f"invalid {type_name}: {describe(exc)}") from exc
    known = {"type", "version", "id", "data", "correlation_id", "causation_id"}
    return Envelope(
        message=message,  # type: ignore[arg-type]
        id=message_id,
        correlation_id=_optional(raw, "correlation_id"),
        causation_id=_optional(raw, "causation_id"),
        extra={k: _text(v, k) for k, v in raw.items() if k not in known},
    )


def _json(text: str) -> Any:
    """Parse ``data`` as the strict JSON of the contracts (no NaN, no 5,000-digit numbers)."""
    try:
        return loads(text)
    except NotJson as exc:
        raise DecodeError(f"field 'data' is not JSON: {exc}") from exc


def _optional(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    return None if value is None or value in (b"", "") else _text(value, name)


def describe(exc: ValidationError) -> str:
    """Pydantic's errors as one line, with locations, without echoing input values."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        location = ".".join(str(p) for p in error["loc"]) or "<root>"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
