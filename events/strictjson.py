"""JSON as the contracts mean it (RFC 8259), read with Python's parser made strict.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity``, which JSON does not have,
reads ``1e999`` as infinity, and raises a plain ``ValueError`` (not ``JSONDecodeError``) for an
integer longer than the interpreter converts (4,300 digits by default). :func:`loads` refuses
all of them, and any other text that is not JSON, with :class:`NotJson`: one error to catch,
whose message names the problem and where it is known its position, never the input itself.
"""

from __future__ import annotations

import json
import math
from typing import Any


class NotJson(ValueError):
    """Text that is not JSON this reader takes; ``position`` is the offset where known."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


def _constant(name: str) -> Any:
    # ``name`` is one of the three tokens Python's parser knows, never other input.
    raise NotJson(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJson(f"a number of {len(text)} characters is out of range (at most ~1.8e308)")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:  # only for too many digits: the parser matched the digits
        raise NotJson(f"an integer of {len(text)} characters has too many digits") from exc


def loads(text: str | bytes) -> Any:
    """The JSON value of ``text`` (bytes in UTF-8, -16 or -32, as ``json.loads``), or NotJson."""
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise NotJson(str(exc), exc.pos) from exc
    except RecursionError as exc:
        raise NotJson("nested too deeply") from exc
    except UnicodeDecodeError as exc:
        raise NotJson(f"not text in UTF-8, -16 or -32 (byte {exc.start})", exc.start) from exc
