"""Scheduling's registries: the handlers of what arrives, what each looks up, and the
translators of its public events, assembled from the feature modules that own them.

The application takes them from here (:class:`~services.scheduling.application.Scheduling`);
the feature modules type against :class:`~services.scheduling.ports.Schedule`, so none of them
imports the application back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.batches import Handler, Lookup
from infra.outbox import Translator
from services.scheduling import fieldwork, handlers, published

HANDLERS: Mapping[str, Handler] = handlers.HANDLERS
LOOKUPS: Mapping[str, Lookup] = handlers.LOOKUPS
PUBLIC_EVENTS: Mapping[type[Any], Translator] = {
    **published.PUBLIC_EVENTS,
    **fieldwork.PUBLIC_EVENTS,
}
