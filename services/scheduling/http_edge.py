"""What every scheduling router shares: the refusals it documents and the one way a route
runs a command (:mod:`services.scheduling.http`, :mod:`services.scheduling.fieldwork_http`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException

T = TypeVar("T")

#: The refusals a scheduling route may answer, for its OpenAPI description.
ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "no such case, meeting or staff member"},
    409: {"description": "the schedule does not allow it (a taken time, a held meeting)"},
    422: {"description": "the request breaks a rule; the detail says which"},
}


def run(command: Callable[[], T]) -> T:
    """Answer a value the calendar or a value object refuses with a 422, never with a 500;
    scheduling's own refusals carry their status (:mod:`infra.http`)."""
    try:
        return command()
    except ValueError as exc:  # the calendar or a value object refused the input
        raise HTTPException(422, detail=str(exc)) from exc
