"""``malformed``: a referral (or a field of it) that does not fit the contract's schema
(:class:`events.referrals.SubmitReferral`, strict fields) gets one reason per pydantic error,
with the field's path and a message that never repeats the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import ValidationError

from events.intake import Reason
from events.referrals import NOT_ISO_TEXT, NOT_PRINTABLE


def malformed(exc: ValidationError) -> list[Reason]:
    """One ``malformed`` reason per pydantic error, with its field path and no input value."""
    return [
        Reason(code="malformed", field=field_path(err["loc"]), message=_safe_message(err))
        for err in exc.errors(include_url=False, include_input=False)
    ]


def field_path(loc: Iterable[int | str]) -> str:
    """``("persons", 1, "personal_number")`` → ``persons[1].personal_number``.

    The empty path ``""`` means the message as a whole, as in JSON Pointer.
    """
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


# pydantic error types whose message is fixed text or names only the schema's constraints; any
# other type (a custom validator's text, a union tag, a parser's excerpt) may quote the input.
_SAFE_ERROR_TYPES = frozenset(
    (
        "missing", "model_type", "model_attributes_type", "dict_type", "list_type", "string_type",
        "string_too_short", "string_too_long", "string_pattern_mismatch", "string_unicode",
        "bool_type", "bool_parsing", "int_type", "int_parsing", "date_type", "date_parsing",
        "date_from_datetime_parsing", "date_from_datetime_inexact", "datetime_type",
        "datetime_parsing", "datetime_object_invalid", "datetime_from_date_parsing",
        "timezone_aware", "timezone_naive", "literal_error", "json_type", "json_invalid",
        "too_short", "too_long", "extra_forbidden", "none_required",
        NOT_PRINTABLE, NOT_ISO_TEXT,
    )
)  # fmt: skip


def _safe_message(err: Mapping[str, object]) -> str:
    kind = str(err["type"])
    return str(err["msg"]) if kind in _SAFE_ERROR_TYPES else f"invalid value ({kind})"
