"""The types the outbound translators read are the events' own fields.

eventsourcing makes each event class at run time from the signature of the method it decorates,
so mypy cannot see an event's fields: the translators type what they read with protocols that
restate them (``services/intake/event_types.py``, scheduling's ``published.py`` …). This test
holds every such protocol against the event class the outbox really hands its translator (the
``public_events`` of each application), so that a field renamed or removed from an event fails
here, not in production.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from services.billing.application import Billing
from services.intake.application import Intake
from services.scheduling.application import Scheduling

#: What every stored event has besides the fields of its method's signature.
ALWAYS = {"originator_id", "originator_version", "timestamp"}


def _pairs() -> Iterator[tuple[str, type[Any], Callable[..., Any]]]:
    for app in (Intake, Scheduling, Billing):
        for event, translate in app.public_events.items():
            yield app.__name__, event, translate


def _protocol_of(translate: Callable[..., Any]) -> type[Any] | None:
    first = next(iter(inspect.signature(translate).parameters))
    hint = typing.get_type_hints(translate).get(first)
    if hint is Any or not getattr(hint, "_is_protocol", False):
        return None
    return typing.cast(type[Any], hint)


def _read(protocol: type[Any]) -> set[str]:
    """The attributes a protocol (and the protocols it extends) says an event has."""
    names: set[str] = set()
    for klass in protocol.__mro__:
        if klass is object or klass is typing.Protocol or typing.Generic in (klass,):
            continue
        names |= set(getattr(klass, "__annotations__", {}))
        names |= {n for n, v in vars(klass).items() if isinstance(v, property)}
    return names


def _fields(event: type[Any]) -> set[str]:
    if dataclasses.is_dataclass(event):
        own = {f.name for f in dataclasses.fields(event)}
    else:
        own = set(inspect.signature(event).parameters)
    return own | ALWAYS


PAIRS = list(_pairs())


def test_every_service_publishes_through_translators() -> None:
    assert {app for app, _, _ in PAIRS} == {"Intake", "Scheduling", "Billing"}


@pytest.mark.parametrize(
    ("app", "event", "translate"), PAIRS, ids=[f"{a}:{e.__qualname__}" for a, e, _ in PAIRS]
)
def test_a_translators_protocol_names_only_fields_its_event_has(
    app: str, event: type[Any], translate: Callable[..., Any]
) -> None:
    protocol = _protocol_of(translate)
    assert protocol is not None, f"{translate.__qualname__} takes its event untyped"
    missing = _read(protocol) - _fields(event)
    assert not missing, f"{protocol.__qualname__} reads {sorted(missing)}, absent from {event}"
