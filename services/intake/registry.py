"""Intake's registries: the handlers of what arrives, what each looks up, and the translators
of its public events, assembled from the feature modules that own them.

The application takes them from here (:class:`~services.intake.application.Intake`); the
feature modules type against small protocols (:mod:`services.intake.ports`,
:mod:`services.intake.polare_ports`), so none of them imports the application back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.batches import Handler, Lookup
from infra.outbox import Translator
from services.intake import handlers, polare, polare_walks, public, resubmission, terms

HANDLERS: Mapping[str, Handler] = {
    **handlers.HANDLERS,
    **terms.HANDLERS,
    **polare_walks.HANDLERS,
}
#: What the handlers look up, so that a batch asks the store once which of them exist.
LOOKUPS: Mapping[str, Lookup] = {
    **handlers.LOOKUPS,
    **terms.LOOKUPS,
    **polare_walks.LOOKUPS,
}
PUBLIC_EVENTS: Mapping[type[Any], Translator] = {
    **public.PUBLIC_EVENTS,
    **resubmission.PUBLIC_EVENTS,
    **polare.PUBLIC_EVENTS,
}
