"""The event-sourced application every service builds on: idempotent batches in, outbox out.

It is made of its parts: how it saves (:mod:`infra.recording`: the caching repository under
the lock, the case index), how it runs a command (:mod:`infra.commands`: ``transact`` and the
one backoff), how it applies a batch of incoming messages exactly once (:mod:`infra.batches`),
and how the relay reads its outbox (:mod:`infra.outbox`). The unit of work they share is
:mod:`infra.unit_of_work`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from events.codec import Envelope, decode
from infra.batches import Batches
from infra.commands import Commands
from infra.outbox import Outbox


class ServiceApplication(Batches, Outbox, Commands):
    """Base of the three services' applications."""

    def decode(self, stream: str, fields: Mapping[Any, Any]) -> Envelope[Any]:
        """Turn an entry into an envelope; raise DecodeError for a dead letter."""
        return decode(fields)

    def redact_dead_letter(self, stream: str, fields: dict[str, str], error: str) -> dict[str, str]:
        """The fields a dead letter may carry; a service holding personal data overrides this."""
        return fields

    # --- what operators see ---------------------------------------------------------------

    def service_levels(self) -> dict[str, int]:
        """Service-level figures of this service (breaches, usage); each service adds its own."""
        return {}

    def notices(self) -> list[dict[str, str]]:
        """Dated obligations operators must see (``level``, ``code``, ``message``): a report
        due or overdue, a plan falling short; each service adds its own."""
        return []
