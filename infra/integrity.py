"""Checking a store's hash chain: no stored event altered, inserted or removed."""

from __future__ import annotations

from dataclasses import dataclass

from infra.persistence import GENESIS, PostgresRecorder, SQLiteRecorder, link


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
