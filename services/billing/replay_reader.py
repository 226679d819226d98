"""What a replay reads of billing's stored events, and how: most of them straight from their
JSON.

Split from :mod:`services.billing.replay`, whose fold it feeds.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, Protocol
from uuid import UUID

from eventsourcing.domain import DomainEvent, DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic
from pydantic import BaseModel, ConfigDict, Field

from events.scheduling import MeetingHeld
from services.billing.domain_session import Session
from services.billing.domain_settlement import Settlement
from services.billing.session_sources import LoggedTime, Source
from services.billing.tariff_book import TariffBook

#: What is booked on a month's settlement after it was opened, and before it is closed.
BOOKINGS = frozenset(
    get_topic(kind)
    for kind in vars(Settlement).values()
    if isinstance(kind, type)
    and issubclass(kind, DomainEvent)
    and kind.__name__ not in ("Opened", "Closed", "Created", "Event")
)


def topics() -> list[str]:
    """The topics of the events the fold reads; the rest (case accounts, the cap's own
    account, the worklist) cannot change a settlement's document and are not decoded."""
    session = [Session.Opened, Session.Decided, Session.Logged]  # type: ignore[attr-defined]
    kinds = [*session, *_events_of(TariffBook), *_events_of(Settlement)]
    return [get_topic(kind) for kind in kinds]


def _events_of(aggregate: type[Any]) -> list[type[Any]]:
    return [
        v for v in vars(aggregate).values() if isinstance(v, type) and issubclass(v, DomainEvent)
    ]


class _Opened(BaseModel):
    """What the fold reads of a stored ``Session.Opened``: what the session was opened from."""

    model_config = ConfigDict(extra="ignore")
    meeting: MeetingHeld | None = None
    time_entry: LoggedTime | None = None


class _DecimalStr(BaseModel):
    """A decimal as eventsourcing's JSON transcoder tags it."""

    model_config = ConfigDict(extra="forbid")
    type_: Literal["decimal_str"] = Field(alias="_type_")
    data: str = Field(alias="_data_")


class _Logged(BaseModel):
    """What the fold reads of every stored ``Session.Logged``."""

    model_config = ConfigDict(extra="ignore")
    tariff_book_version: int
    billed_before: _DecimalStr


class _LoggedSession(BaseModel):
    """The session a ``Session.Logged`` logged, read when the fold compares it."""

    model_config = ConfigDict(extra="ignore")
    session: dict[str, Any]


_OPENED = get_topic(Session.Opened)  # type: ignore[attr-defined]
_LOGGED = get_topic(Session.Logged)  # type: ignore[attr-defined]


class Folding(Protocol):
    """What the reader hands stored events to (``replay.py``'s ``Fold``)."""

    def opened(self, session: str, source: Source) -> None: ...

    def logged(
        self,
        session: str,
        version: int,
        before_logged: Decimal,
        logged: Callable[[], dict[str, Any]],
    ) -> None: ...

    def apply(self, event: DomainEventProtocol[UUID]) -> bool: ...


class Reader:
    """Decodes the rows of a fold, in log order, and hands each to the fold.

    Two rows of every session, the one that opened it and the one that logged it, are most of
    what a replay reads; they are parsed straight from their JSON into what the fold needs, by
    pydantic's parser (a meeting is validated as it is parsed), without building the library's
    domain event. Every other row, and every row of a store that is encrypted or compressed or
    whose event classes are versioned, goes through the application's mapper. Both ways give
    the fold the same values (``tests/integration/test_billing_replay.py`` replays through
    both).
    """

    def __init__(self, mapper: Mapper[UUID], *, lean: bool = True) -> None:
        self.mapper = mapper
        self.lean = (
            lean
            and mapper.cipher is None
            and mapper.compressor is None
            and all(
                getattr(kind, "class_version", 1) == 1
                for kind in (Session.Opened, Session.Logged)  # type: ignore[attr-defined]
            )
        )

    def __call__(
        self, fold: Folding, topic: str, originator: str, version: int, state: bytes
    ) -> bool:
        """Give one stored event to ``fold``; True once the month's close has been reached."""
        if self.lean:
            if topic == _OPENED:
                opened = _Opened.model_validate_json(state)
                if opened.meeting is not None:
                    fold.opened(originator, opened.meeting)
                else:
                    assert opened.time_entry is not None  # opened from exactly one of the two
                    fold.opened(originator, opened.time_entry)
                return False
            if topic == _LOGGED:
                logged = _Logged.model_validate_json(state)
                before = Decimal(logged.billed_before.data)
                fold.logged(
                    originator,
                    logged.tariff_book_version,
                    before,
                    lambda: _LoggedSession.model_validate_json(state).session,
                )
                return False
        stored = StoredEvent(UUID(hex=originator), version, topic, state)
        return fold.apply(self.mapper.to_domain_event(stored))
