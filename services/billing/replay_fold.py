"""What a replay's fold holds: billing's state rebuilt from its events, for one month.

The fold (:class:`services.billing.replay.Fold`) is this state and two sets of rules over it:
sessions priced and held against the cap again (:mod:`services.billing.replay_sessions`), and
what was booked on the month checked and settled again (:mod:`services.billing.replay_bookings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from events.billing import (
    AdjustmentRecorded,
    SeparateAmountRecorded,
    SessionLogged,
    SessionReportedApart,
)
from services.billing.cap_order import CapLedger
from services.billing.pricing_groups import NeedsDecision
from services.billing.session_sources import Source
from services.billing.tariff_book import catalogue_of
from services.billing.tariffs import Catalogue


@dataclass
class FoldState:
    """The state of billing rebuilt from its events, for one month's settlement.

    Aggregates are known by their ids as 32 hex digits, as the store keeps them, so that the
    rows a fold reads need no UUID built for them.
    """

    month: str
    book: list[tuple[dict[str, Any], ...]] = field(default_factory=list)
    offs: list[tuple[dict[str, Any], ...]] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    decisions: dict[str, Any] = field(default_factory=dict)
    ledgers: dict[tuple[str, int], CapLedger] = field(default_factory=dict)
    rebuilt: dict[str, SessionLogged] = field(default_factory=dict)
    months: dict[str, str] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    booked: list[str] = field(default_factory=list)
    adjustments: list[AdjustmentRecorded] = field(default_factory=list)
    pending: dict[UUID, NeedsDecision] = field(default_factory=dict)
    apart: list[SessionReportedApart] = field(default_factory=list)
    separate: list[SeparateAmountRecorded] = field(default_factory=list)
    #: The client visits of each session's meeting (time has none), for catch-ups' fees.
    visits: dict[str, int] = field(default_factory=dict)
    close_version: int | None = None
    differences: list[str] = field(default_factory=list)
    _catalogues: dict[int, Catalogue] = field(default_factory=dict)

    def catalogue(self, version: int) -> Catalogue:
        if version not in self._catalogues:
            self._catalogues[version] = catalogue_of(self.book[version - 1])
        return self._catalogues[version]

    def _differs(self, session: str, what: str) -> None:
        self.differences.append(f"session {UUID(hex=session)}: {what}")
