"""``lots settlement replay``: rebuild a closed month from billing's event log and compare.

The rebuild is a fresh, in-memory fold over billing's stored events in log order, up to the
month's ``Closed`` event. It does not trust any recorded amount: the tariff catalogue is rebuilt
from the recorded tariff entries (at the tariff-book version each session was priced with, and
the one the close used); every session's hours are derived again from its recorded meeting or
logged time and decision and held again against the yearly cap in log order, in the order
performed as billing holds them (:mod:`services.billing.cap_order`: the same ledger, the same
sessions of open months giving way and cut again); the sessions the
month's document is made of (its own, and late sessions of closed months, which become its
adjustments) are priced again in full, and late sessions become the same adjustments again. The
month's document is then settled from the rebuilt sessions and compared, byte for byte, with the
closed one. Any session that prices differently from what was logged, any session logged with
other hours billed before it than the log gives, and any booking that breaks the rules (a
session booked on a closed month, an adjustment not on the first open month), is reported as a
difference too.

The fold is in three rooms: its state (:mod:`services.billing.replay_fold`), its sessions priced
again (:mod:`services.billing.replay_sessions`) and its month's bookings checked and settled
again (:mod:`services.billing.replay_bookings`); here it is fed and compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from services.billing.application import Billing
from services.billing.domain_session import Session
from services.billing.domain_settlement import Settlement
from services.billing.errors import NotFound
from services.billing.recorded_events import (
    SessionDecidedEvent,
    SessionLoggedEvent,
    SessionOpenedEvent,
    SettlementClosedEvent,
    SettlementOpenedEvent,
    TariffBookCallOffRecordedEvent,
    TariffBookEntriesRecordedEvent,
    TariffBookOpenedEvent,
)
from services.billing.replay_bookings import BookingsAgain
from services.billing.replay_reader import BOOKINGS, Reader, topics
from services.billing.replay_sessions import SessionsAgain
from services.billing.session_sources import source_of
from services.billing.settlement import DOCUMENT_VERSION, Document, canonical_json
from services.billing.tariff_book import TariffBook


@dataclass(frozen=True)
class Replayed:
    month: str
    programme: str | None
    closed: Document
    document: Document
    differences: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not self.differences


def replay_month(
    app: Billing, month: str, programme: str | None = None, *, lean: bool = True
) -> Replayed:
    """Rebuild ``month`` (closed) from the log and compare it with its closed document.

    ``lean=False`` decodes every row through the application's mapper (see :class:`Reader`).
    """
    closed = app.closed_document(month, programme)
    if closed is None:
        raise NotFound(f"{month} is not closed: there is no closed document to replay")
    fold = Fold(month)
    read = Reader(app.mapper, lean=lean)
    for _, topic, originator, version, state in app.store.scan_topics(topics(), lock=app.lock):
        if fold.skips(topic, originator):
            continue
        if read(fold, topic, originator, version, state):
            break
    document = fold.document(programme)
    differences = [*_rules_changed(closed), *fold.differences, *compare(closed, document)]
    return Replayed(month, programme, closed, document, tuple(differences))


def _rules_changed(closed: Document) -> list[str]:
    """A month closed under other settlement rules cannot replay to its document: say so."""
    version = closed.get("document_version")
    if version == DOCUMENT_VERSION:
        return []
    return [
        f"{closed.get('month')} was closed under settlement document version {version}; this "
        f"replay applies version {DOCUMENT_VERSION} (docs/billing.md, document versions)"
    ]


def compare(closed: Document, rebuilt: Document) -> list[str]:
    """What differs between two settlement documents, line by line; empty if byte-identical."""
    if canonical_json(closed) == canonical_json(rebuilt):
        return []
    out = [
        f"{key}: closed {closed.get(key)!r}, replayed {rebuilt.get(key)!r}"
        for key in sorted(set(closed) | set(rebuilt))
        if key != "lines" and closed.get(key) != rebuilt.get(key)
    ]
    was = {canonical_json(line) for line in closed.get("lines", [])}
    now = {canonical_json(line) for line in rebuilt.get("lines", [])}
    out += [f"line only in the closed document: {line}" for line in sorted(was - now)]
    out += [f"line only in the replay: {line}" for line in sorted(now - was)]
    return out


class Fold(SessionsAgain, BookingsAgain):
    """The state of billing rebuilt from its events, for one month's settlement, and the
    rules that rebuild it: each event taken into account in log order (:meth:`apply`)."""

    def skips(self, topic: str, originator: str) -> bool:
        """Whether an event can be left undecoded: one booked on another month's settlement
        that is still open (it neither belongs to this month nor breaks a closed one)."""
        if topic not in BOOKINGS:
            return False
        month = self.months.get(originator)
        return month is not None and month != self.month and month not in self.closed

    def apply(self, event: DomainEventProtocol[UUID]) -> bool:
        """Take one event into account; True once the month's close has been reached."""
        kind = type(event)
        originator: str = event.originator_id.hex
        if kind is TariffBook.Opened:  # type: ignore[attr-defined]
            self.book.append(tuple(cast(TariffBookOpenedEvent, event).entries))
            self.offs.append(())
        elif kind is TariffBook.EntriesRecorded:  # type: ignore[attr-defined]
            recorded = cast(TariffBookEntriesRecordedEvent, event)
            self.book.append((*self.book[-1], *recorded.entries))
            self.offs.append(self.offs[-1])
        elif kind is TariffBook.CallOffRecorded:  # type: ignore[attr-defined]
            self._call_off(cast(TariffBookCallOffRecordedEvent, event))
        elif kind is Session.Opened:  # type: ignore[attr-defined]
            opened = cast(SessionOpenedEvent, event)
            self.opened(originator, source_of(opened.meeting, opened.time_entry))
        elif kind is Session.Decided:  # type: ignore[attr-defined]
            self.decisions[originator] = cast(SessionDecidedEvent, event).decision
        elif kind is Session.Logged:  # type: ignore[attr-defined]
            logged = cast(SessionLoggedEvent, event)
            billed_before = Decimal(logged.billed_before)
            session = logged.session
            self.logged(originator, logged.tariff_book_version, billed_before, lambda: session)
        elif kind is Settlement.Opened:  # type: ignore[attr-defined]
            self.months[originator] = cast(SettlementOpenedEvent, event).month
        elif kind is Settlement.Closed:  # type: ignore[attr-defined]
            month = self.months[originator]
            self.closed.add(month)
            if month == self.month:
                self.close_version = cast(SettlementClosedEvent, event).tariff_book_version
                return True
        elif kind.__qualname__.startswith("Settlement."):
            self._booked(event, self.months[originator])
        return False

    def _call_off(self, event: TariffBookCallOffRecordedEvent) -> None:
        off = {
            "reference": event.reference,
            "programme": event.programme,
            "year": event.year,
            "hours": event.hours,
            "effective_from": event.effective_from,
        }
        self.book.append(self.book[-1])
        self.offs.append((*self.offs[-1], off))
