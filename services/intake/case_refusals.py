"""The outcomes a case closes with, and what a command on a case is refused for."""

from __future__ import annotations

from typing import Literal, get_args

from infra.refusals import Refused

CaseOutcome = Literal[
    "goals_met",
    "phased_out",
    "declined_by_family",
    "moved",
    "referred_elsewhere",
    "no_contact",
]
OUTCOMES: tuple[CaseOutcome, ...] = get_args(CaseOutcome)


class CaseError(Refused):
    """A command on a case that its state does not allow; the text says why."""

    status = 422


class CaseClosedError(CaseError):
    status = 409


class UnknownCase(Refused):
    """No such case (answered 404 with these words, whatever the store said)."""

    status = 404

    def __init__(self) -> None:
        super().__init__("no such case")
