"""Each protocol of ``services/billing/recorded_events.py`` is its recorded event, field for
field: the same names with the same annotations as the class eventsourcing made from the
aggregate's decorated method, so a translator typed with it reads what the event carries."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Protocol

import pytest

from services.billing import recorded_events
from services.billing.domain_cap import CapAccount
from services.billing.domain_session import Session
from services.billing.domain_settlement import Settlement
from services.billing.polare import PolareRateBook, PolareWalkFees
from services.billing.tariff_book import TariffBook

AGGREGATES: dict[str, Any] = {
    "TariffBook": TariffBook,
    "Session": Session,
    "CapAccount": CapAccount,
    "Settlement": Settlement,
    "PolareRateBook": PolareRateBook,
    "PolareWalkFees": PolareWalkFees,
}
BASES = (recorded_events.RecordedEvent, recorded_events.CreatedEvent)


def _protocols() -> list[type[Any]]:
    return [
        kind
        for _, kind in inspect.getmembers(recorded_events, inspect.isclass)
        if kind.__module__ == recorded_events.__name__ and kind not in BASES
    ]


def _event_class(protocol: type[Any]) -> Any:
    """``SessionFlaggedEvent`` is ``Session.Flagged``."""
    name = protocol.__name__.removesuffix("Event")
    for aggregate, cls in AGGREGATES.items():
        if name.startswith(aggregate) and hasattr(cls, name.removeprefix(aggregate)):
            return getattr(cls, name.removeprefix(aggregate))
    raise AssertionError(f"{protocol.__name__} names no recorded event")


def _annotations(protocol: type[Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for kind in reversed(protocol.__mro__):
        if kind in (object, Protocol) or kind.__module__ == "typing":
            continue
        found.update(inspect.get_annotations(kind))
    return found


@pytest.mark.parametrize("protocol", _protocols(), ids=lambda p: p.__name__)
def test_each_protocol_has_exactly_its_events_fields_and_annotations(protocol: type[Any]) -> None:
    event = _event_class(protocol)
    fields = {f.name: f.type for f in dataclasses.fields(event)}
    assert _annotations(protocol) == fields


def test_every_published_or_replayed_event_has_its_protocol() -> None:
    assert len(_protocols()) == 21
