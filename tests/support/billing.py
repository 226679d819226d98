"""Billing test helpers: a settable clock and held meetings applied as one consumed batch."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from events.codec import Envelope
from events.messages import Message
from infra.application import Incoming
from services.billing.application import Billing


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
