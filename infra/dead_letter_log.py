"""The record of what operators did about dead letters: the ``deadletters`` store.

One :class:`DeadLetterRecord` per dead letter acted on, keyed by its stream and its id on
``<stream>.dead``: *retried* (sent back, with the new entry's id) or *handled*, each with who,
when and why. It lives under the var directory (``var/deadletters.sqlite``, or a PostgreSQL
schema of its own), not on Redis, which is transport and may be wiped (:mod:`infra.dead_letters`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from infra.calendar import STOCKHOLM
from infra.dead_letters import DeadLetter, DeadLetterError
from infra.logging import describe_error
from infra.settings import Settings
from infra.store import store_env

STORE = "deadletters"
NAMESPACE = UUID("6f1c1f0e-5b7a-4d0e-9a43-2b1d4f6f0d11")


def _local(at: str) -> str:
    """An action's time as people read it: Stockholm's wall clock."""
    return datetime.fromisoformat(at).astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S %Z")


class DeadLetterRecord(Aggregate):
    """What operators did about one dead letter, in order."""

    @staticmethod
    def create_id(stream: str, dead_id: str, **_: object) -> UUID:
        return uuid5(NAMESPACE, f"{stream} {dead_id}")

    @event("Noted")
    def __init__(self, stream: str, dead_id: str, entry_id: str, reference: dict[str, str]) -> None:
        self.stream = stream
        self.dead_id = dead_id
        self.entry_id = entry_id
        self.reference = reference
        self.state = "open"
        self.actions: list[dict[str, str]] = []

    @event("Retried")
    def retry(self, by: str, reason: str, at: datetime, sent_as: str) -> None:
        self.state = "retried"
        self.actions.append(
            {
                "action": "retried",
                "by": by,
                "reason": reason,
                "at": at.isoformat(),
                "sent_as": sent_as,
            }
        )

    @event("Handled")
    def handle(self, by: str, reason: str, at: datetime) -> None:
        self.state = "handled"
        self.actions.append({"action": "handled", "by": by, "reason": reason, "at": at.isoformat()})


ACTION_TOPICS = [
    get_topic(DeadLetterRecord.Retried),  # type: ignore[attr-defined]
    get_topic(DeadLetterRecord.Handled),  # type: ignore[attr-defined]
]


class DeadLetterLog(Application[UUID]):
    """The ``deadletters`` store: one :class:`DeadLetterRecord` per dead letter acted on."""

    name = "deadletters"

    def record_of(self, letter: DeadLetter) -> DeadLetterRecord | None:
        try:
            return cast(
                DeadLetterRecord,
                self.repository.get(DeadLetterRecord.create_id(letter.stream, letter.id)),
            )
        except AggregateNotFoundError:  # never acted on
            return None

    def state(self, letter: DeadLetter) -> str:
        record = self.record_of(letter)
        return record.state if record is not None else "open"

    def retried(self, letter: DeadLetter, by: str, reason: str, sent_as: str) -> None:
        record = self._open_record(letter, "send it back")
        record.retry(by=by, reason=reason, at=datetime.now(UTC), sent_as=sent_as)
        self._save(record)

    def handled(self, letter: DeadLetter, by: str, reason: str) -> None:
        record = self.record_of(letter) or self._new(letter)
        if record.state == "handled":
            last = record.actions[-1]
            raise DeadLetterError(
                f"dead letter {letter.id} of {letter.stream} was already marked handled "
                f"by {last['by']} at {_local(last['at'])}"
            )
        record.handle(by=by, reason=reason, at=datetime.now(UTC))
        self._save(record)

    def _save(self, record: DeadLetterRecord) -> None:
        try:
            self.save(record)
        except IntegrityError as exc:  # another operator's action was recorded meanwhile
            raise DeadLetterError(
                f"another action on dead letter {record.dead_id} of {record.stream} was recorded "
                "at the same moment: see lots dead-letters show"
            ) from exc

    def check_retry(self, letter: DeadLetter) -> None:
        """DeadLetterError unless ``letter`` may be sent back (it is open)."""
        self._open_record(letter, "send it back")

    def _open_record(self, letter: DeadLetter, what: str) -> DeadLetterRecord:
        record = self.record_of(letter) or self._new(letter)
        if record.state != "open":
            last = record.actions[-1]
            again = (
                f" (as {last['sent_as']}; if it failed again, that is a new dead letter)"
                if record.state == "retried"
                else ""
            )
            raise DeadLetterError(
                f"dead letter {letter.id} of {letter.stream} was {record.state} by {last['by']} "
                f"at {_local(last['at'])}{again}: will not {what} again"
            )
        return record

    def _new(self, letter: DeadLetter) -> DeadLetterRecord:
        return DeadLetterRecord(
            stream=letter.stream,
            dead_id=letter.id,
            entry_id=letter.entry_id,
            reference=dict(letter.reference),
        )

    def last_actions(self, limit: int = 5) -> list[dict[str, str]]:
        """The latest actions, newest first: the dead letter's stream and id, who, what, why."""
        top = self.recorder.max_notification_id() or 0
        out: list[dict[str, str]] = []
        stop = top
        while stop > 0 and len(out) < limit:
            start = max(1, stop - 99)
            notes = self.recorder.select_notifications(start, 100, stop, ACTION_TOPICS)
            for note in reversed(notes):
                done = self.mapper.to_domain_event(note)
                record = cast(DeadLetterRecord, self.repository.get(done.originator_id))
                action = record.actions[done.originator_version - 2]
                out.append({"stream": record.stream, "id": record.dead_id, **action})
            stop = start - 1
        return out[:limit]


def open_log(settings: Settings, *, create: bool = True) -> DeadLetterLog | None:
    """The ``deadletters`` store; None when ``create`` is false and nothing was ever recorded."""
    missing = settings.store == "sqlite" and not (settings.var_dir / f"{STORE}.sqlite").exists()
    if missing and not create:
        return None
    return DeadLetterLog(store_env(settings, STORE))


def report(settings: Settings, letters: list[DeadLetter], limit: int = 5) -> dict[str, Any]:
    """For ``lots status``: per dead-letter stream how many are open (and in all), and the
    latest actions. Nothing is created when nothing was ever recorded; a record that cannot be
    read counts every dead letter open and says why (``unreadable``)."""
    out: dict[str, Any] = {"streams": {}, "actions": []}
    states = ["open"] * len(letters)
    try:
        log = open_log(settings, create=False)
        if log is not None:
            try:
                states = [log.state(letter) for letter in letters]
                out["actions"] = log.last_actions(limit)
            finally:
                log.close()
    except Exception as exc:
        out["unreadable"] = describe_error(exc)
    for letter, state in zip(letters, states, strict=True):
        counts = out["streams"].setdefault(letter.dead_stream, {"open": 0, "all": 0})
        counts["all"] += 1
        counts["open"] += state == "open"
    return out
