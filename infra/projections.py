"""Projections kept in the store with the position they were folded up to.

A watch (intake's acknowledgement and retention watches, scheduling's case view) is a fold
over the service's own notification log. Folding the whole log at every start costs what the
log has grown to, years of it. Instead the watch's state is stored, from time to time, in the
service's own store (table ``projections``: name, position, state, one row written in one
statement, so a state is never stored with another fold's position), and a start loads it and
folds only what was recorded after that position. The state is sealed with the application's
cipher and compressor where it has them, as its events are.

Each projection names its stored form with a version (``name``): a projection whose shape or
rules change gets a new name, and its first start folds the log from the beginning once.
Which projection is stored, and how often, is each service's choice: they store from their
periodic jobs (:func:`keep`), never on the query path.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from infra.application import ServiceApplication

#: Store a projection again once it has moved this many log positions past its stored one ...
KEEP_EVERY_POSITIONS = 5_000
#: ... and this many seconds have passed since it was last stored by this process.
KEEP_EVERY_SECONDS = 60.0


class Projection(Protocol):
    #: The stored form's name and version, e.g. ``"intake.ack-watch/1"``.
    @property
    def name(self) -> str: ...

    #: The last log position folded in.
    position: int

    def dump(self) -> dict[str, Any]:
        """The state, as JSON-ready values."""

    def load(self, state: dict[str, Any]) -> None:
        """Take the state :meth:`dump` gave (on a projection that has folded nothing)."""


_KEPT = "_projection_kept"  # on the projection: (position stored, when), once resumed


def resume(app: ServiceApplication, projection: Projection) -> bool:
    """Load the projection's stored state if it has folded nothing yet; True if one was found."""
    if projection.position or hasattr(projection, _KEPT):
        return False
    found = app.store.projection(projection.name)
    setattr(projection, _KEPT, (found[0] if found else 0, time.monotonic()))
    if found is None:
        return False
    position, sealed = found
    projection.load(json.loads(_unseal(app, sealed)))
    projection.position = position
    return True


def keep(app: ServiceApplication, projection: Projection, *, force: bool = False) -> bool:
    """Store the projection if it moved far enough and long enough ago (or ``force``)."""
    stored, when = getattr(projection, _KEPT, (0, 0.0))
    moved = projection.position - stored
    if moved <= 0 or not (
        force or (moved >= KEEP_EVERY_POSITIONS and time.monotonic() - when >= KEEP_EVERY_SECONDS)
    ):
        return False
    position = projection.position
    state = _seal(app, json.dumps(projection.dump(), separators=(",", ":")).encode())
    app.store.save_projection(projection.name, position, state)
    setattr(projection, _KEPT, (position, time.monotonic()))
    return True


def _seal(app: ServiceApplication, data: bytes) -> bytes:
    mapper: Any = app.mapper
    if mapper.compressor:
        data = mapper.compressor.compress(data)
    if mapper.cipher:
        data = mapper.cipher.encrypt(data)
    return data


def _unseal(app: ServiceApplication, data: bytes) -> bytes:
    mapper: Any = app.mapper
    if mapper.cipher:
        data = mapper.cipher.decrypt(data)
    if mapper.compressor:
        data = mapper.compressor.decompress(data)
    return data


P = TypeVar("P", bound=Projection)


def from_scratch(projection: P) -> P:
    """Mark a projection that has folded nothing to fold the whole log, not resume (a check
    that the stored projection agrees with the log, as ``lots verify`` or a test makes)."""
    setattr(projection, _KEPT, (0, 0.0))
    return projection
