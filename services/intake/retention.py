"""When personal data is erased: 5 years after the last entry in every case of the person
(the Social Services Act's retention of case records), unless a case is held.

The last entry of a case is the latest business time any of its events records (received,
acknowledged, a meeting held, closed, ...). Erasure destroys the person's key
(:mod:`infra.pii`); the events themselves, the hash chain and the settlements are untouched.
What a case keeps of its referral (its references and note, :mod:`services.intake.records`) is
sealed with the key of the person the case is about, so it is erased with them. A referral
rejected only as not resident keeps its persons for its residency exception
(:mod:`services.intake.reevaluation`): it counts here like a case of theirs (its last entry
the rejection, or the exception recorded), which can be erased but not held.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, cast
from uuid import UUID

from eventsourcing.domain import DomainEvent, DomainEventProtocol
from eventsourcing.utils import get_topic

from infra.application import ServiceApplication
from infra.projections import resume
from services.intake.domain import PersonErased, RejectedReferral, RetentionHold
from services.intake.domain_case import Case

TIMES = ("received_at", "at", "started_at", "closed_at", "detected_at")


def _last_time(event: DomainEventProtocol[UUID]) -> datetime:
    times = [
        getattr(event, name) for name in TIMES if isinstance(getattr(event, name, None), datetime)
    ]
    # A case's and a rejection's events are eventsourcing's DomainEvents: they have a timestamp.
    return max(times) if times else cast(DomainEvent, event).timestamp


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


@dataclass
class RetentionWatch:
    """The last entry of every case, its persons, held cases and erased persons: a projection
    tailing intake's own log, stored in intake's store with its position
    (:mod:`infra.projections`), so that a start and the daily check read only what was stored
    since.

    A person erased and then named in a new case (referred again, years later) is no longer
    counted as erased: their new data, sealed under a new key, has its own retention.
    """

    #: Taken to advance or read the watch: it is advanced by a periodic job and read by
    #: status queries, each in a thread of its own, without the application's lock.
    name: ClassVar[str] = "intake.retention-watch/1"
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    position: int = 0
    last: dict[Any, datetime] = field(default_factory=dict)
    cases_of: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))
    held: set[Any] = field(default_factory=set)
    erased: set[str] = field(default_factory=set)
    #: How many times each person was erased (a person referred again may be erased again).
    erasures: dict[str, int] = field(default_factory=dict)

    def dump(self) -> dict[str, Any]:
        return {
            "last": [[c.hex, when.isoformat()] for c, when in self.last.items()],
            "cases_of": {ref: sorted(c.hex for c in cases) for ref, cases in self.cases_of.items()},
            "held": sorted(c.hex for c in self.held),
            "erased": sorted(self.erased),
            "erasures": self.erasures,
        }

    def load(self, state: dict[str, Any]) -> None:
        self.last = {UUID(c): datetime.fromisoformat(when) for c, when in state["last"]}
        self.cases_of = defaultdict(set)
        for ref, cases in state["cases_of"].items():
            self.cases_of[ref] = {UUID(c) for c in cases}
        self.held = {UUID(c) for c in state["held"]}
        self.erased = set(state["erased"])
        self.erasures = dict(state["erasures"])

    def advance(self, app: ServiceApplication, page: int = 1000) -> None:
        resume(app, self)
        topics = [*_CASE_TOPICS, _HOLD_TOPIC, _ERASED_TOPIC]
        while True:
            notes = app.recorder.select_notifications(
                start=self.position + 1, limit=page, topics=topics
            )
            for note in notes:
                event = app.mapper.to_domain_event(note)
                if note.topic == _HOLD_TOPIC:
                    self.held.add(event.case_id)  # type: ignore[attr-defined]
                elif note.topic == _ERASED_TOPIC:
                    ref = event.person_ref  # type: ignore[attr-defined]
                    self.erased.add(ref)
                    self.erasures[ref] = self.erasures.get(ref, 0) + 1
                else:
                    case_id = event.originator_id
                    household = getattr(event, "household", None)
                    if note.topic in _KEPT_TOPICS and not household and case_id not in self.last:
                        self.position = note.id
                        continue  # a rejection that kept nobody: nothing to erase
                    when = _last_time(event)
                    self.last[case_id] = max(when, self.last.get(case_id, when))
                    for member in household or ():
                        ref = member["person_ref"]
                        self.cases_of[ref].add(case_id)
                        self.erased.discard(ref)  # named again after an erasure
                self.position = note.id
            if len(notes) < page:
                return

    def expired(
        self, now: datetime, years: int, among: Iterable[str] | None = None
    ) -> dict[str, datetime]:
        """Persons (of ``among``, or all) whose every case had its last entry before the
        retention cut-off, none of them held, not yet erased: person_ref -> that last entry."""
        cutoff = years_before(now, years)
        out: dict[str, datetime] = {}
        for ref in self.cases_of if among is None else among:
            cases = self.cases_of.get(ref)
            if not cases or ref in self.erased or not cases.isdisjoint(self.held):
                continue
            latest = max(self.last[case_id] for case_id in cases)
            if latest < cutoff:
                out[ref] = latest
        return out


def _case_event_classes() -> list[type]:
    """The events naming a case's persons or its entries, and a kept rejected referral's."""
    return [
        value
        for aggregate in (Case, RejectedReferral)
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, aggregate.Event)
    ]


_CASE_TOPICS = [get_topic(cls) for cls in _case_event_classes()]
_KEPT_TOPICS = frozenset(t for t in _CASE_TOPICS if ":RejectedReferral." in t)
_HOLD_TOPIC = get_topic(RetentionHold.Placed)  # type: ignore[attr-defined]
_ERASED_TOPIC = get_topic(PersonErased.Erased)  # type: ignore[attr-defined]
