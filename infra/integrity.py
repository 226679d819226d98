"""Checking a store: its hash chain (no stored event altered, inserted or removed), and where
an event can no longer be read back."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import Mapper

from infra.postgres_recorder import PostgresRecorder
from infra.recorder_rows import GENESIS, link
from infra.sqlite_recorder import SQLiteRecorder


@dataclass(frozen=True)
class Verdict:
    """The outcome for one store: how many events were checked, and the first broken link."""

    events: int
    broken_at: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(store: SQLiteRecorder | PostgresRecorder) -> Verdict:
    previous = GENESIS
    checked = 0
    for notification_id, event, recorded in store.chain():
        if event is None:
            return Verdict(checked, notification_id, "an event was removed (its link remains)")
        if recorded is None:
            return Verdict(checked, notification_id, "an event without a link was inserted")
        expected = link(previous, notification_id, event)
        if recorded != expected:
            return Verdict(
                checked,
                notification_id,
                "the event or the one before it was altered, inserted or removed",
            )
        previous = recorded
        checked += 1
    return Verdict(checked)


@dataclass(frozen=True)
class Unreadable:
    """A stored event its store's mapper cannot turn back into a domain event."""

    position: int
    topic: str
    aggregate: str
    version: int


def first_unreadable(
    store: SQLiteRecorder | PostgresRecorder, mapper: Mapper[UUID]
) -> Unreadable | None:
    """The first stored event that cannot be read (bytes altered, a topic no class has), in
    log order, or None. One pass over the store, decoding every event: for locating damage
    already seen, not for every read."""
    for notification_id, event, _ in store.chain():
        if event is None:
            continue
        try:
            mapper.to_domain_event(event)
        except Exception:  # whatever the cause, this event cannot be read: that is the finding
            return Unreadable(
                notification_id,
                _shown(event.topic),
                _shown(str(event.originator_id)),
                event.originator_version,
            )
    return None


def _shown(text: str) -> str:
    """Stored text as it may be printed: an altered row may hold anything."""
    return text if text.isprintable() and len(text) <= 200 else ascii(text[:200])
