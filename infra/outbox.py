"""The outbox: the store's notification log, read for the public messages of its events.

The relay (:mod:`infra.relay`) publishes what :meth:`Outbox.outbox` gives; each message's id is
made from its event's identity, so a message published again is the same message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from events.types import Message
from infra.recording import RecordingApplication

OUTBOX_NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/outbox")


@dataclass(frozen=True)
class Outgoing:
    """One public message for the relay to publish, with an id stable across republishing."""

    stream: str
    message: Message
    correlation_id: str | None = None
    causation_id: str | None = None
    #: Filled in by the application from the event's identity; translators leave it out.
    id: UUID | None = None


Translator = Callable[[Any], Outgoing | None]


class Outbox(RecordingApplication):
    """The part of a service's application that gives the relay its public messages."""

    #: Domain event class -> its public message, for the relay.
    public_events: ClassVar[Mapping[type[DomainEventProtocol[UUID]], Translator]] = {}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._public_topics = [get_topic(cls) for cls in self.public_events]

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
