"""When personal data is erased: 5 years after the last entry in every case of the person
(the Social Services Act's retention of case records), unless a case is held.

The last entry of a case is the latest business time any of its events records (received,
acknowledged, a meeting held, closed, ...). Erasure destroys the person's key
(:mod:`infra.pii`); the events themselves, the hash chain and the settlements are untouched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.utils import get_topic

from services.intake.domain import Case, PersonErased, RetentionHold

if TYPE_CHECKING:
    from services.intake.application import Intake

TIMES = ("received_at", "at", "started_at", "closed_at", "detected_at")


def _last_time(event: Any) -> datetime:
    times = [
        getattr(event, name) for name in TIMES if isinstance(getattr(event, name, None), datetime)
    ]
    return max(times) if times else event.timestamp  # type: ignore[no-any-return]


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


@dataclass
class RetentionWatch:
    """The last entry of every case, its persons, held cases and erased persons: a projection
    tailing intake's own log, rebuilt by one scan when the process starts and advanced
    incrementally afterwards, so the daily check reads only what was stored since the last."""

    position: int = 0
    last: dict[Any, datetime] = field(default_factory=dict)
    persons: dict[Any, set[str]] = field(default_factory=lambda: defaultdict(set))
    held: set[Any] = field(default_factory=set)
    erased: set[str] = field(default_factory=set)

    def advance(self, app: Intake, page: int = 1000) -> None:
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
                    self.erased.add(event.person_ref)  # type: ignore[attr-defined]
                else:
                    case_id = event.originator_id
                    when = _last_time(event)
                    self.last[case_id] = max(when, self.last.get(case_id, when))
                    for member in getattr(event, "household", ()):
                        self.persons[case_id].add(member["person_ref"])
                self.position = note.id
            if len(notes) < page:
                return

    def expired(self, now: datetime, years: int) -> dict[str, datetime]:
        """Persons whose every case had its last entry before the retention cut-off, and not
        held: person_ref -> the last entry of their cases."""
        cutoff = years_before(now, years)
        latest: dict[str, datetime] = {}
        kept: set[str] = set()
        for case_id, refs in self.persons.items():
            for ref in refs:
                latest[ref] = max(self.last[case_id], latest.get(ref, self.last[case_id]))
                if case_id in self.held:
                    kept.add(ref)
        return {
            ref: when
            for ref, when in latest.items()
            if when < cutoff and ref not in kept and ref not in self.erased
        }


def _case_event_classes() -> list[type]:
    return [
        value
        for value in vars(Case).values()
        if isinstance(value, type) and issubclass(value, Case.Event)
    ]


_CASE_TOPICS = [get_topic(cls) for cls in _case_event_classes()]
_HOLD_TOPIC = get_topic(RetentionHold.Placed)  # type: ignore[attr-defined]
_ERASED_TOPIC = get_topic(PersonErased.Erased)  # type: ignore[attr-defined]
