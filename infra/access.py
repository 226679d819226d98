"""The access log: every look at a case's history, whoever looks and however.

``lots audit case`` records its looks in intake's store; an auditor's read of a case over HTTP
is recorded by the service that serves it, in its own store, with the same event
(``CaseAccess.Viewed``), so that ``lots audit access`` lists them all together. The aggregate
lives here, not in one service, for that reason; intake's older looks were stored under
``services.intake.domain:CaseAccess.Viewed``, a topic that module still resolves.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, event

if TYPE_CHECKING:
    from infra.tokens import Principal


class Saves(Protocol):
    """What recording a look needs of a service's application (:mod:`infra.recording`, which
    leaves looks out of the case index): its lock and its save."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...
    def save(self, *objs: Any, **kwargs: Any) -> Any: ...


#: How a look was made: the command line or a service's HTTP route.
CLI = "cli"
HTTP = "http"


class CaseAccess(Aggregate):
    """One look at a case's history: who, when, which case, in what role, why, and how."""

    @event("Viewed")
    def __init__(
        self,
        case_id: UUID,
        by: str,
        role: str,
        reason: str,
        as_of: datetime | None,
        personal_data_shown: bool,
        at: datetime,
        records_shown: bool | None = None,
        via: str | None = None,
        service: str | None = None,
    ) -> None:
        # ``records_shown``: whether the referral's references (decision, consent form) were
        # shown; None in looks recorded before they were kept. ``via`` (CLI or HTTP) and
        # ``service`` (whose route served it): None in looks recorded before they were kept,
        # all made with the command line.
        self.case_id = case_id


def record_look(
    app: Saves,
    case_id: UUID,
    *,
    by: str,
    role: str,
    reason: str,
    at: datetime,
    via: str,
    service: str | None = None,
    as_of: datetime | None = None,
    personal_data_shown: bool = False,
    records_shown: bool = False,
) -> None:
    """Record one look at ``case_id`` in ``app``'s store, under the application's lock."""
    look = CaseAccess(
        case_id=case_id,
        by=by,
        role=role,
        reason=reason,
        as_of=as_of,
        personal_data_shown=personal_data_shown,
        at=at,
        records_shown=records_shown,
        via=via,
        service=service,
    )
    with app.lock:
        app.save(look)


#: The reason recorded for a read over HTTP that gave none (``?reason=``).
NO_REASON = "(no reason given)"


def looked_over_http(
    app: Saves,
    case_id: UUID,
    caller: Principal,
    reason: str | None,
    service: str,
    at: datetime,
) -> None:
    """Record a read of ``case_id`` over ``service``'s HTTP API by ``caller``: the token's
    holder as named in the settings (``lots token new --name``), or its role if unnamed."""
    role = caller.role.value
    record_look(
        app, case_id, by=caller.name or f"an unnamed {role} token", role=role,
        reason=reason or NO_REASON, at=at, via=HTTP, service=service,
    )  # fmt: skip
