"""The stores checked against each other: what a service acted on was recorded by its source.

Where Redis lets anyone write a service's stream, an event written by hand (a ``MeetingHeld``
on ``scheduling.events``) is consumed like a real one: billing bills a meeting that was never
held. Every store's hash chain is intact then, since the forgery came before the store, so
``lots audit verify`` also reconciles the stores:

- every session billing opened from a held meeting names a meeting scheduling's store holds as
  held (``Meeting.Held``);
- every case scheduling queued is a case intake's store opened (``Case.Opened``).

Each store is read once, in log order, through its recorder, only the topics that matter:
billing's sessions (each decoded for its meeting id), then scheduling's meetings held, which
strike off the sessions of their meetings, and its queued cases, then intake's opened cases,
which strike those off; what remains is unmatched, and only then are billing's rows of the
unmatched sessions read again for what became of them. Ids are kept as integers, so a million
events need a few hundred megabytes at most. Billing is read first, then scheduling, then
intake: downstream before upstream, so whatever a consumer recorded from a real event was
already in its source's store when that store is read, even while the services run.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from infra.application import ServiceApplication
from infra.settings import ServiceName
from services.billing.domain_session import Session
from services.intake.domain_case import Case
from services.scheduling.domain import WaitingCase
from services.scheduling.domain_meeting import Meeting

_SESSION_OPENED = get_topic(Session.Opened)  # type: ignore[attr-defined]
_SESSION_LOGGED = get_topic(Session.Logged)  # type: ignore[attr-defined]
_MEETING_HELD = get_topic(Meeting.Held)  # type: ignore[attr-defined]
_CASE_QUEUED = get_topic(WaitingCase.Queued)  # type: ignore[attr-defined]
_CASE_OPENED = get_topic(Case.Opened)  # type: ignore[attr-defined]

PROBLEMS = {
    "meeting_not_held": "its meeting was never held in scheduling's store: a forged MeetingHeld?",
    "case_not_referred": "its case was never opened in intake's store: a forged ReferralReceived?",
    "unreadable": "the event cannot be read, so what it names cannot be checked",
}


@dataclass(frozen=True)
class Unmatched:
    """A stored event that names what its source's store does not hold."""

    kind: str
    store: ServiceName
    position: int
    event: str
    aggregate: str | None = None
    case_id: str | None = None
    meeting_id: str | None = None
    #: For a session: whether it was billed (logged), and its amount in öre.
    billed: bool | None = None
    amount_ore: int | None = None

    @property
    def problem(self) -> str:
        return PROBLEMS[self.kind]


@dataclass
class Reconciliation:
    sessions: int = 0
    cases: int = 0
    unmatched: list[Unmatched] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return not self.unmatched


def reconcile(
    apps: Mapping[ServiceName, ServiceApplication], *, lean: bool = True
) -> Reconciliation:
    """Check billing against scheduling and scheduling against intake (stores already open).

    ``lean=False`` decodes billing's sessions through the mapper even where plain JSON would do.
    """
    found = Reconciliation()
    billing, scheduling, intake = apps["billing"], apps["scheduling"], apps["intake"]
    sessions = _meeting_sessions(billing, found, lean)  # meeting id -> session's position
    queued: dict[int, int] = {}  # case id -> its position in scheduling's store
    found.sessions = len(sessions)
    rows = scheduling.store.scan_topics([_MEETING_HELD, _CASE_QUEUED], lock=scheduling.lock)
    for position, topic, originator, _, _ in rows:
        with suppress(ValueError):  # an id altered in the row: the chain check names it
            if topic == _MEETING_HELD:
                sessions.pop(int(originator, 16), None)
            else:
                queued[int(originator, 16)] = position
    found.cases = len(queued)
    for _, _, originator, _, _ in intake.store.scan_topics([_CASE_OPENED], lock=intake.lock):
        with suppress(ValueError):
            queued.pop(int(originator, 16), None)
    found.unmatched += _sessions_in_detail(billing, set(sessions.values()), lean)
    found.unmatched += [
        Unmatched("case_not_referred", "scheduling", position, "WaitingCase.Queued",
                  aggregate=str(UUID(int=case)), case_id=str(UUID(int=case)))
        for case, position in queued.items()
    ]  # fmt: skip
    found.unmatched.sort(key=lambda u: (u.store, u.position))
    return found


def _meeting_sessions(
    billing: ServiceApplication, found: Reconciliation, lean: bool
) -> dict[int, int]:
    """Billing's sessions of held meetings, meeting id -> position of the session's opening;
    a session that cannot be read is noted in ``found``."""
    read = _Reader(billing.mapper, lean)
    sessions: dict[int, int] = {}
    for position, topic, originator, version, state in billing.store.scan_topics(
        [_SESSION_OPENED], lock=billing.lock
    ):
        try:
            meeting = read(originator, version, topic, state)["meeting"]
            if meeting is not None:  # else logged time, which names no meeting
                sessions[int(str(meeting["meeting_id"]).replace("-", ""), 16)] = position
        except Exception:  # altered bytes: named here, and lots audit verify's chain says more
            found.unmatched.append(
                Unmatched("unreadable", "billing", position, "Session.Opened", _id(originator))
            )
    return sessions


def _sessions_in_detail(
    billing: ServiceApplication, positions: set[int], lean: bool
) -> list[Unmatched]:
    """The unmatched sessions opened at ``positions``, with their ids and whether (and for how
    much) they were billed: one more pass over billing's sessions, decoding only those."""
    if not positions:
        return []
    read = _Reader(billing.mapper, lean)
    found: dict[str, Unmatched] = {}
    for position, topic, originator, version, state in billing.store.scan_topics(
        [_SESSION_OPENED, _SESSION_LOGGED], lock=billing.lock
    ):
        if position in positions:
            meeting = read(originator, version, topic, state)["meeting"]
            found[originator] = Unmatched(
                "meeting_not_held", "billing", position, "Session.Opened",
                aggregate=str(UUID(hex=originator)), case_id=str(meeting["case_id"]),
                meeting_id=str(meeting["meeting_id"]), billed=False,
            )  # fmt: skip
        elif topic == _SESSION_LOGGED and originator in found:
            with suppress(Exception):  # billed still; the chain check names what is damaged
                amount = int(read(originator, version, topic, state)["session"]["amount_ore"])
                found[originator] = replace(found[originator], amount_ore=amount)
            found[originator] = replace(found[originator], billed=True)
    return list(found.values())


class _Reader:
    """A stored event's attributes: straight from its JSON where the store keeps plain JSON
    (billing's, unless encrypted or compressed), else through the store's mapper. The fields
    read (a session's ``meeting``, a logged session's ``session``) are plain JSON either way."""

    def __init__(self, mapper: Mapper[UUID], lean: bool) -> None:
        self.mapper = mapper
        self.plain = lean and mapper.cipher is None and mapper.compressor is None

    def __call__(self, originator: str, version: int, topic: str, state: bytes) -> Any:
        if self.plain:
            return orjson.loads(state)
        stored = StoredEvent(UUID(hex=originator), version, topic, state)
        return vars(self.mapper.to_domain_event(stored))


def _id(originator: str) -> str | None:
    """An aggregate id as stored, printable, or None if the row's id itself was altered."""
    try:
        return str(UUID(hex=originator))
    except ValueError:
        return None
