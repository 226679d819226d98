"""When personal data is erased: 5 years after the last entry in every case of the person
(the Social Services Act's retention of case records), unless a case is held.

The last entry of a case is the latest business time any of its events records (received,
acknowledged, a meeting held, closed, ...). Erasure destroys the person's key
(:mod:`infra.pii`); the events themselves, the hash chain and the settlements are untouched.
"""

from __future__ import annotations

from collections import defaultdict
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


def expired(app: Intake, now: datetime, years: int) -> dict[str, datetime]:
    """Persons whose every case had its last entry before the retention cut-off, and not held:
    person_ref -> the last entry of their cases."""
    case_topics = [get_topic(cls) for cls in _case_event_classes()]
    hold_topic = get_topic(RetentionHold.Placed)  # type: ignore[attr-defined]
    erased_topic = get_topic(PersonErased.Erased)  # type: ignore[attr-defined]
    last: dict[Any, datetime] = {}
    persons: dict[Any, set[str]] = defaultdict(set)
    held: set[Any] = set()
    erased: set[str] = set()
    position = 0
    while True:
        notes = app.recorder.select_notifications(
            start=position + 1, limit=1000, topics=[*case_topics, hold_topic, erased_topic]
        )
        for note in notes:
            position = note.id
            event = app.mapper.to_domain_event(note)
            if note.topic == hold_topic:
                held.add(event.case_id)  # type: ignore[attr-defined]
            elif note.topic == erased_topic:
                erased.add(event.person_ref)  # type: ignore[attr-defined]
            else:
                case_id = event.originator_id
                when = _last_time(event)
                last[case_id] = max(when, last.get(case_id, when))
                for member in getattr(event, "household", ()):
                    persons[case_id].add(member["person_ref"])
        if len(notes) < 1000:
            break
    cutoff = years_before(now, years)
    latest: dict[str, datetime] = {}
    kept: set[str] = set()
    for case_id, refs in persons.items():
        for ref in refs:
            latest[ref] = max(last[case_id], latest.get(ref, last[case_id]))
            if case_id in held:
                kept.add(ref)
    return {
        ref: when
        for ref, when in latest.items()
        if when < cutoff and ref not in kept and ref not in erased
    }


def _case_event_classes() -> list[type]:
    return [
        value
        for value in vars(Case).values()
        if isinstance(value, type) and issubclass(value, Case.Event)
    ]
