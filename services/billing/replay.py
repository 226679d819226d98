"""``lots settlement replay``: rebuild a closed month from billing's event log and compare.

The rebuild is a fresh, in-memory fold over billing's stored events in log order, up to the
month's ``Closed`` event. It does not trust any recorded amount: the tariff catalogue is rebuilt
from the recorded tariff entries (at the tariff-book version each session was priced with, and
the one the close used), every session is priced again from its recorded meeting or logged
time and decision, held again against the yearly cap in log order, and late sessions become
the same adjustments again. The month's document is then settled from the rebuilt sessions and
compared, byte for byte, with the closed one. Any session that prices differently from what was
logged, and any booking that breaks the rules (a session booked on a closed month, an adjustment
not on the first open month), is reported as a difference too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from events.messages import AdjustmentRecorded, MeetingHeld, SessionLogged
from services.billing.application import Billing
from services.billing.booking import Source, needs_of, price_source, source_of
from services.billing.domain import NotFound, Session, Settlement
from services.billing.pricing import (
    NeedsDecision,
    PricingError,
    apply_cap,
    call_offs_in_force,
    price_meeting,
    session_id_for,
)
from services.billing.settlement import (
    Document,
    canonical_json,
    first_open_month,
    late_adjustment,
    settle,
)
from services.billing.tariff_book import TariffBook, catalogue_of
from services.billing.tariffs import Catalogue, PriceNotKnown

BATCH = 1000


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


def replay_month(app: Billing, month: str, programme: str | None = None) -> Replayed:
    """Rebuild ``month`` (closed) from the log and compare it with its closed document."""
    closed = app.closed_document(month, programme)
    if closed is None:
        raise NotFound(f"{month} is not closed: there is no closed document to replay")
    fold = Fold(month)
    for notification in _notifications(app):
        if fold.skips(notification.topic, notification.originator_id):
            continue
        if fold.apply(app.mapper.to_domain_event(notification)):
            break
    document = fold.document(programme)
    differences = [*fold.differences, *compare(closed, document)]
    return Replayed(month, programme, closed, document, tuple(differences))


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


@dataclass
class Fold:
    """The state of billing rebuilt from its events, for one month's settlement."""

    month: str
    book: list[tuple[dict[str, Any], ...]] = field(default_factory=list)
    offs: list[tuple[dict[str, Any], ...]] = field(default_factory=list)
    sources: dict[UUID, Source] = field(default_factory=dict)
    decisions: dict[UUID, Any] = field(default_factory=dict)
    billed: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    rebuilt: dict[UUID, SessionLogged] = field(default_factory=dict)
    months: dict[UUID, str] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    booked: list[UUID] = field(default_factory=list)
    adjustments: list[AdjustmentRecorded] = field(default_factory=list)
    pending: dict[UUID, NeedsDecision] = field(default_factory=dict)
    close_version: int | None = None
    differences: list[str] = field(default_factory=list)
    _catalogues: dict[int, Catalogue] = field(default_factory=dict)

    def catalogue(self, version: int) -> Catalogue:
        if version not in self._catalogues:
            self._catalogues[version] = catalogue_of(self.book[version - 1])
        return self._catalogues[version]

    def skips(self, topic: str, originator_id: Any) -> bool:
        """Whether an event can be left undecoded: one booked on another month's settlement
        that is still open (it neither belongs to this month nor breaks a closed one)."""
        if topic not in _BOOKINGS:
            return False
        month = self.months.get(originator_id)
        return month is not None and month != self.month and month not in self.closed

    def apply(self, event: Any) -> bool:
        """Take one event into account; True once the month's close has been reached."""
        kind = type(event)
        if kind is TariffBook.Opened:  # type: ignore[attr-defined]
            self.book.append(tuple(event.entries))
            self.offs.append(())
        elif kind is TariffBook.EntriesRecorded:  # type: ignore[attr-defined]
            self.book.append((*self.book[-1], *event.entries))
            self.offs.append(self.offs[-1])
        elif kind is TariffBook.CallOffRecorded:  # type: ignore[attr-defined]
            off = {
                "reference": event.reference,
                "programme": event.programme,
                "year": event.year,
                "hours": event.hours,
                "effective_from": event.effective_from,
            }
            self.book.append(self.book[-1])
            self.offs.append((*self.offs[-1], off))
        elif kind is Session.Opened:  # type: ignore[attr-defined]
            self.sources[event.originator_id] = source_of(event.meeting, event.time_entry)
        elif kind is Session.Decided:  # type: ignore[attr-defined]
            self.decisions[event.originator_id] = event.decision
        elif kind is Session.Logged:  # type: ignore[attr-defined]
            self._logged(event)
            # Priced again and held against the cap: only the rebuilt session is needed now.
            self.sources.pop(event.originator_id, None)
            self.decisions.pop(event.originator_id, None)
        elif kind is Settlement.Opened:  # type: ignore[attr-defined]
            self.months[event.originator_id] = event.month
        elif kind is Settlement.Closed:  # type: ignore[attr-defined]
            month = self.months[event.originator_id]
            self.closed.add(month)
            if month == self.month:
                self.close_version = event.tariff_book_version
                return True
        elif kind.__qualname__.startswith("Settlement."):
            self._booked(event, self.months[event.originator_id])
        return False

    def _logged(self, event: Any) -> None:
        session_id: UUID = event.originator_id
        source = self.sources[session_id]
        version: int = event.tariff_book_version
        try:
            catalogue = self.catalogue(version)
            priced = price_source(source, self.decisions.get(session_id), catalogue)
            if isinstance(priced, NeedsDecision):
                self.differences.append(f"session {session_id}: logged without a decision")
                return
            key = (priced.programme, priced.performed_on.year)
            before = self.billed.get(key, Decimal(0))
            offs = call_offs_in_force(self.offs[version - 1], priced.programme, priced.performed_on)
            outcome = apply_cap(priced, before, offs, catalogue)
        except (PriceNotKnown, PricingError) as exc:
            self.differences.append(f"session {session_id}: cannot be priced again: {exc}")
            return
        if Decimal(event.billed_before) != before:
            self.differences.append(
                f"session {session_id}: logged with {event.billed_before} hours billed before "
                f"it in {key[1]}, the log gives {before}"
            )
        self.billed[key] = before + outcome.session.client_hours
        again = outcome.session.model_dump(mode="json")
        if again != event.session:
            self.differences.append(
                f"session {session_id}: logged {canonical_json(event.session)}, "
                f"priced again {canonical_json(again)}"
            )
        # Kept only if the month's document can need it: booked on the month, or late (its own
        # month closed) and so an adjustment, perhaps on this month. Memory stays a month's.
        own = outcome.session.settlement_month
        if own == self.month or own in self.closed:
            self.rebuilt[session_id] = outcome.session

    def _booked(self, event: Any, month: str) -> None:
        name = type(event).__qualname__.rsplit(".", 1)[-1]
        if month in self.closed:
            self.differences.append(f"{name} on {month} after {month} was closed")
        if month != self.month:
            return
        if name == "SessionBooked":
            self.booked.append(UUID(str(event.session["session_id"])))
        elif name == "AdjustmentBooked":
            self._adjustment(AdjustmentRecorded.model_validate(event.adjustment), month)
        elif name == "DecisionAwaited":
            pending = needs_of(event.pending)
            self.pending[pending.meeting_id] = pending
        elif name == "DecisionResolved":
            self.pending.pop(UUID(str(event.meeting_id)), None)

    def _adjustment(self, booked: AdjustmentRecorded, month: str) -> None:
        belongs = booked.belongs_to_month
        if belongs not in self.closed or first_open_month(belongs, self.closed.__contains__) != (
            month
        ):
            self.differences.append(
                f"adjustment {booked.adjustment_id}: {month} is not the first open month "
                f"after {belongs}"
            )
        self.adjustments.append(booked)

    def _rebuilt_adjustments(self) -> list[AdjustmentRecorded]:
        """The booked adjustments, each late session's made again from its rebuilt session.

        Events of one transaction are stored aggregate by aggregate, so a late session's
        adjustment may precede its ``Logged`` event: they are matched once the fold is done.
        """
        out = []
        for booked in self.adjustments:
            if booked.session_id is None:
                out.append(booked)
                continue
            session = self.rebuilt.get(booked.session_id)
            if session is None:
                self.differences.append(f"adjustment {booked.adjustment_id}: no session logged")
                out.append(booked)
                continue
            out.append(late_adjustment(session, booked.month))
        return out

    def _check_pending(self) -> None:
        """Every pending decision is a meeting the group rule, applied again, still flags."""
        for pending in self.pending.values():
            held = self.sources.get(session_id_for(pending.meeting_id))
            try:
                again = (
                    price_meeting(held, self.catalogue(len(self.book)))
                    if isinstance(held, MeetingHeld)
                    else None
                )
            except (PriceNotKnown, PricingError):
                again = None
            if not isinstance(again, NeedsDecision) or again.reason != pending.reason:
                self.differences.append(
                    f"meeting {pending.meeting_id}: pending a decision, but the group rule "
                    "applied again does not flag it for the same reason"
                )

    def document(self, programme: str | None) -> Document:
        if self.close_version is None:
            raise NotFound(f"the log holds no close of {self.month}")
        self._check_pending()
        return settle(
            self.month,
            [self.rebuilt[s] for s in self.booked if s in self.rebuilt],
            self.catalogue(self.close_version),
            programme=programme,
            adjustments=self._rebuilt_adjustments(),
            pending=list(self.pending.values()),
        )


#: What is booked on a month's settlement after it was opened, and before it is closed.
_BOOKINGS = frozenset(
    get_topic(kind)
    for kind in vars(Settlement).values()
    if isinstance(kind, type)
    and issubclass(kind, DomainEvent)
    and kind.__name__ not in ("Opened", "Closed", "Created", "Event")
)


def _topics() -> list[str]:
    """The topics of the events the fold reads; the rest (case accounts, the cap's own
    account, the worklist) cannot change a settlement's document and are not decoded."""
    session = [Session.Opened, Session.Decided, Session.Logged]  # type: ignore[attr-defined]
    kinds = [*session, *_events_of(TariffBook), *_events_of(Settlement)]
    return [get_topic(kind) for kind in kinds]


def _events_of(aggregate: type[Any]) -> list[type[Any]]:
    return [
        v for v in vars(aggregate).values() if isinstance(v, type) and issubclass(v, DomainEvent)
    ]


def _notifications(app: Billing) -> Iterator[Notification]:
    """Billing's stored events of the fold's topics in log order, a batch at a time, not yet
    decoded (the fold decides which it needs)."""
    topics = _topics()
    position = 0
    while True:
        with app.lock:
            batch = app.recorder.select_notifications(
                start=position + 1, limit=BATCH, topics=topics
            )
        if not batch:
            return
        yield from batch
        position = batch[-1].id
