"""Billing test helpers: a settable clock, held meetings applied as one consumed batch, and a
month closed and checked against its replay and its offline computation."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from events.codec import Envelope
from events.scheduling import MeetingHeld
from events.types import Message
from infra.batches import Incoming
from services.billing.application import Billing
from services.billing.offline import compute_from_export
from services.billing.replay import replay_month
from services.billing.tariff_seeds import default_catalogue


class Clock:
    """The application's clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def deliver(app: Billing, messages: Iterable[Message]) -> None:
    """Apply messages as one batch read from ``scheduling.events``, each with a fresh id."""
    items = [
        Incoming(f"{n}-0", "scheduling.events", Envelope(m, uuid.uuid4()))
        for n, m in enumerate(messages)
    ]
    assert all(error is None for error in app.process("billing", items).values())


def published(app: Billing, name: str) -> list[Any]:
    """What billing has published of one message type, from its outbox."""
    _, out = app.outbox(0, 100_000)
    return [o.message for o in out if o.message.type_name == name]


def export(app: Billing, meetings: Iterable[MeetingHeld]) -> list[str]:
    """The event-log export of ``meetings`` (as scheduling published them) and billing's log."""

    def line(stream: str, message: Message, ident: uuid.UUID | None) -> str:
        data = message.model_dump(mode="json")
        return json.dumps(
            {"stream": stream, "type": message.type_name, "version": 1, "id": str(ident),
             "data": data}
        )  # fmt: skip

    _, out = app.outbox(0, 100_000)
    return [line("scheduling.events", m, uuid.uuid4()) for m in meetings] + [
        line(o.stream, o.message, o.id) for o in out
    ]


def close_and_check(app: Billing, month: str, meetings: Iterable[MeetingHeld]) -> dict[str, Any]:
    """Close the month; its replay and its offline computation must give the closed document."""
    closed = app.close_month(month)
    replayed = replay_month(app, month)
    assert replayed.differences == () and replayed.document == closed
    offline = compute_from_export(export(app, meetings), month, None, default_catalogue())
    assert offline == closed
    return closed
