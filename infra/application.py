"""The event-sourced application every service builds on: idempotent batches in, outbox out.

A batch of incoming messages is applied in one unit of work and saved in one transaction
together with the ids of the messages it processed. If anything in the batch fails, the batch is
applied again one message at a time, so one poison message never holds back the others and
never leaves half of an effect behind. The notification log is the outbox: the relay reads it
through :meth:`ServiceApplication.outbox` and publishes the public events it finds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, ClassVar, TypeVar, cast
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoding
from eventsourcing.utils import get_topic

from events.codec import DecodeError, Envelope, decode
from events.messages import Message
from infra.persistence import PostgresRecorder, SQLiteRecorder

log = structlog.get_logger(__name__)

A = TypeVar("A", bound=Aggregate)
OUTBOX_NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/outbox")


@dataclass(frozen=True)
class Incoming:
    """One delivered entry, decoded."""

    entry_id: str
    stream: str
    envelope: Envelope[Any]


@dataclass(frozen=True)
class Outgoing:
    """One public message for the relay to publish, with an id stable across republishing."""

    stream: str
    message: Message
    correlation_id: str | None = None
    causation_id: str | None = None
    #: Filled in by the application from the event's identity; translators leave it out.
    id: UUID | None = None


class DateAsISO(Transcoding):
    """eventsourcing's JSON transcoder knows datetimes but not dates."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class UnitOfWork:
    """The aggregates touched while applying a batch, each loaded once and saved together."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self._aggregates: dict[UUID, Aggregate] = {}
        # Remembered so that reads within one unit of work are repeatable, absent ones too.
        self._absent: set[UUID] = set()

    def get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        if aggregate_id in self._absent:
            return None
        if aggregate_id not in self._aggregates:
            try:
                self._aggregates[aggregate_id] = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self._absent.add(aggregate_id)
                return None
        aggregate = self._aggregates[aggregate_id]
        if not isinstance(aggregate, kind):
            raise TypeError(f"aggregate {aggregate_id} is a {type(aggregate).__name__}")
        return aggregate

    def add(self, aggregate: Aggregate) -> None:
        self._absent.discard(aggregate.id)
        self._aggregates[aggregate.id] = aggregate

    @property
    def aggregates(self) -> list[Aggregate]:
        return list(self._aggregates.values())


Handler = Callable[[UnitOfWork, Envelope[Any]], None]
Translator = Callable[[Any], Outgoing | None]


class ServiceApplication(Application[UUID]):
    """Base of the three services' applications."""

    #: What this service does when a message of a type arrives (by contract type name).
    handlers: ClassVar[Mapping[str, Handler]] = {}
    #: Domain event class -> its public message, for the relay.
    public_events: ClassVar[Mapping[type[DomainEventProtocol[UUID]], Translator]] = {}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(dict(env) if env is not None else None)
        # eventsourcing is synchronous and its SQLite connection is shared: one batch at a time.
        self.lock = threading.RLock()
        self._public_topics = [get_topic(cls) for cls in self.public_events]

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def store(self) -> SQLiteRecorder | PostgresRecorder:
        return cast(SQLiteRecorder | PostgresRecorder, self.recorder)

    def decode(self, stream: str, fields: Mapping[Any, Any]) -> Envelope[Any]:
        """Turn an entry into an envelope; raise DecodeError for a dead letter."""
        return decode(fields)

    def redact_dead_letter(self, stream: str, fields: dict[str, str], error: str) -> dict[str, str]:
        """The fields a dead letter may carry; a service holding personal data overrides this."""
        return fields

    # --- consuming -------------------------------------------------------------------------

    def process(self, group: str, items: list[Incoming]) -> dict[str, str | None]:
        """Apply a batch exactly once; return each entry's error, or None when it is done."""
        with self.lock:
            results: dict[str, str | None] = {}
            seen = self.store.processed_among(group, {str(i.envelope.id) for i in items})
            todo: list[Incoming] = []
            for item in items:
                message_id = str(item.envelope.id)
                if message_id in seen:
                    results[item.entry_id] = None  # a redelivery or a republished copy
                    continue
                seen.add(message_id)
                todo.append(item)
            if not todo:
                return results
            try:
                self._apply(group, todo)
            except Exception:
                for item in todo:
                    results[item.entry_id] = self._apply_alone(group, item)
            else:
                results.update(dict.fromkeys((i.entry_id for i in todo), None))
            return results

    def _apply(self, group: str, items: Iterable[Incoming]) -> None:
        uow = UnitOfWork(self)
        processed = []
        for item in items:
            handler = self.handlers.get(item.envelope.type)
            if handler is not None:
                handler(uow, item.envelope)
            processed.append((group, str(item.envelope.id)))
        self.save(*uow.aggregates, processed=processed)

    def _apply_alone(self, group: str, item: Incoming, attempts: int = 3) -> str | None:
        error = ""
        for _ in range(attempts):
            if self.store.processed_among(group, [str(item.envelope.id)]):
                return None
            try:
                self._apply(group, [item])
            except IntegrityError as exc:  # another instance wrote the same aggregate first
                error = f"IntegrityError: {exc}"
                continue
            except Exception as exc:
                log.warning(
                    "handler failed",
                    type=item.envelope.type,
                    message_id=str(item.envelope.id),
                    error=type(exc).__name__,
                )
                return f"{type(exc).__name__}: {exc}"
            return None
        return error

    # --- the case index, for auditors ----------------------------------------------------------

    def case_of(self, event: DomainEventProtocol[UUID]) -> UUID | None:
        """The case an event belongs to, for the case index; None if it belongs to none."""
        case_id = getattr(event, "case_id", None)
        return case_id if isinstance(case_id, UUID) else None

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        cases = [self.case_of(e) for e in processing_event.events]
        if any(cases):
            processing_event.saved_kwargs["cases"] = [str(c) if c else None for c in cases]
        return super()._record(processing_event)

    def case_events(self, case_id: UUID) -> list[DomainEventProtocol[UUID]]:
        """Every event of this store that belongs to the case, in log order."""
        with self.lock:
            stored = self.store.case_stored(str(case_id))
        return [self.mapper.to_domain_event(event) for _, event in stored]

    # --- what operators see ---------------------------------------------------------------

    def service_levels(self) -> dict[str, int]:
        """Service-level figures of this service (breaches, usage); each service adds its own."""
        return {}

    def outbox_backlog(self, position: int, limit: int = 100_000) -> int:
        """Public events recorded after ``position`` (the relay's), counted up to ``limit``."""
        if not self._public_topics:
            return 0
        with self.lock:
            return len(
                self.recorder.select_notifications(
                    start=position + 1, limit=limit, topics=self._public_topics
                )
            )

    # --- the outbox --------------------------------------------------------------------------

    def outbox(self, after: int, limit: int) -> tuple[int, list[Outgoing]]:
        """Public messages of the events recorded after position ``after``, and the new position."""
        if not self._public_topics:
            return after, []
        with self.lock:
            notifications = self.recorder.select_notifications(
                start=after + 1, limit=limit, topics=self._public_topics
            )
        position = after
        out: list[Outgoing] = []
        for notification in notifications:
            position = notification.id
            event = self.mapper.to_domain_event(notification)
            outgoing = self.public_events[type(event)](event)
            if outgoing is not None:
                out.append(replace(outgoing, id=self.message_id(event)))
        return position, out

    def message_id(self, event: DomainEventProtocol[UUID]) -> UUID:
        """The public id of the message made from ``event``: the same every time it is sent."""
        return uuid5(
            OUTBOX_NAMESPACE, f"{self.name}/{event.originator_id}/{event.originator_version}"
        )


__all__ = [
    "DecodeError",
    "Handler",
    "Incoming",
    "Outgoing",
    "ServiceApplication",
    "UnitOfWork",
]
