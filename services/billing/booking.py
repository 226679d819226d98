"""Where a session goes: priced, held against the yearly cap and booked, or left for a person.

The handlers (a held meeting) and the commands (logged time, a decision, a newly recorded
price) share these rules, applied inside one unit of work so that the session, the cap account,
the month's settlement and the worklist change together or not at all:

- a session is priced with the tariff book as it stands (the version is recorded with it);
- the billed part is what fits under the year's cap plus the call-offs in force on its date;
- it is booked on its own month (its Stockholm local date) if that month is open, and otherwise
  as an adjustment on the first open month after it, naming the month it belongs to;
- a group session the group rule does not clearly cover waits for a decision, and a session
  whose price is not known waits for the price, each listed on the first open month from its own.

What a session is opened from and what it bills before the cap (shared with the replay and the
offline computation) are in :mod:`services.billing.session_sources`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from events.billing import SessionLogged
from events.scheduling import MeetingHeld
from infra.calendar import local_date, month_of
from infra.unit_of_work import UnitOfWork
from services.billing.cap import CallOff, CapOutcome, apply_cap, call_offs_in_force
from services.billing.cap_order import (
    Key,
    cut_to,
    give_way,
    limit_on,
    thresholds_crossed,
)
from services.billing.domain_accounts import Worklist
from services.billing.domain_cap import CapAccount
from services.billing.domain_session import Session
from services.billing.domain_settlement import Settlement
from services.billing.pricing import bills_for_leanlink
from services.billing.pricing_groups import Decision, NeedsDecision
from services.billing.providers import report_apart
from services.billing.session_sources import (
    Source,
    month_of_source,
    pending_of,
    place_of,
    price_source,
    source_of,
)
from services.billing.settlement import first_open_month, late_adjustment
from services.billing.tariff_book import TariffBook
from services.billing.tariff_entries import entry_record
from services.billing.tariff_quotes import PriceNotKnown
from services.billing.tariff_seeds import default_catalogue
from services.billing.tariffs import Catalogue


class Booking(Protocol):
    """What a handler needs of the application: a booker over its unit of work."""

    def booker(self, uow: UnitOfWork) -> Booker: ...


class Booker:
    """Prices sessions and books them, within one unit of work."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Callable[[], datetime],
        catalogues: dict[int, Catalogue] | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.book = tariff_book(uow, clock)
        self._catalogues = catalogues if catalogues is not None else {}

    @property
    def catalogue(self) -> Catalogue:
        """The tariff book's catalogue; a saved version never changes, so it is kept."""
        if self.book.pending_events:
            return self.book.catalogue()
        found = self._catalogues.get(self.book.version)
        if found is None:
            found = self._catalogues[self.book.version] = self.book.catalogue()
        return found

    # --- the aggregates a booking touches ---------------------------------------------------

    def settlement(self, month: str) -> Settlement:
        found = self.uow.get(Settlement.create_id(month), Settlement)
        if found is None:
            found = Settlement(month=month)
            self.uow.add(found)
        return found

    def is_closed(self, month: str) -> bool:
        found = self.uow.get(Settlement.create_id(month), Settlement)
        return found is not None and found.is_closed

    def open_month(self, month: str) -> str:
        return first_open_month(month, self.is_closed)

    def cap_account(self, programme: str, year: int) -> CapAccount:
        found = self.uow.get(CapAccount.create_id(programme, year), CapAccount)
        if found is None:
            found = CapAccount(programme=programme, year=year)
            self.uow.add(found)
        return found

    def worklist(self) -> Worklist:
        found = self.uow.get(Worklist.create_id(), Worklist)
        if found is None:
            found = Worklist()
            self.uow.add(found)
        return found

    # --- pricing and booking ------------------------------------------------------------------

    def price(self, session: Session, causation_id: str | None) -> None:
        """Price a session and book it, or leave it waiting for a decision or a price; a
        meeting another provider held is reported apart instead (providers.py)."""
        source = source_of(session.meeting, session.time_entry)
        if isinstance(source, MeetingHeld) and not bills_for_leanlink(source.provider):
            self._report_apart(session, source, causation_id)
            return
        decision: Decision | None = session.decision  # type: ignore[assignment]
        try:
            priced = price_source(source, decision, self.catalogue)
            if isinstance(priced, NeedsDecision):
                self._flag(session, priced)
                return
            cap = self.cap_account(priced.programme, priced.performed_on.year)
            call_offs = call_offs_in_force(
                self.book.call_offs, priced.programme, priced.performed_on
            )
            place = place_of(source, session.id)
            before = cap.ledger.billed_before(place, priced.settlement_month, self.is_closed)
            outcome = apply_cap(priced, before, call_offs, self.catalogue)
        except PriceNotKnown as exc:
            self._await_price(session, source, str(exc))
            return
        self._log(session, outcome, cap, place, causation_id)

    def _report_apart(self, session: Session, held: MeetingHeld, causation_id: str | None) -> None:
        if session.status == "reported_apart":
            return
        month = self.open_month(month_of(held.started_at))
        record = report_apart(held, month).model_dump(mode="json")
        session.report_apart(record=record, causation_id=causation_id)
        self.settlement(month).report_apart(record)

    def _flag(self, session: Session, needs: NeedsDecision) -> None:
        if session.status == "awaiting_decision":
            return
        month = self.open_month(needs.settlement_month)
        held = source_of(session.meeting, None)
        assert isinstance(held, MeetingHeld)
        session.flag(
            settlement_month=month,
            reason=needs.reason,
            minutes=needs.minutes,
            participants=needs.participants,
            performed_on=local_date(held.started_at),
        )
        self.settlement(month).await_decision(pending_of(replace(needs, settlement_month=month)))
        self.worklist().add(
            session_id=session.id,
            meeting_id=held.meeting_id,
            case_id=session.case_id,
            need="decision",
            month=month,
            reason=needs.reason,
        )

    def _await_price(self, session: Session, source: Source, reason: str) -> None:
        if session.status == "awaiting_price":
            return  # still unknown: it keeps waiting where it waits
        month = self.open_month(month_of_source(source))
        session.await_price(settlement_month=month, reason=reason)
        self.settlement(month).await_price(session.id, reason)
        self.worklist().add(
            session_id=session.id,
            meeting_id=source.meeting_id if isinstance(source, MeetingHeld) else None,
            case_id=session.case_id,
            need="price",
            month=month,
            reason=reason,
        )

    def _log(
        self,
        session: Session,
        outcome: CapOutcome,
        cap: CapAccount,
        place: Key,
        causation_id: str | None,
    ) -> None:
        logged, split = outcome.session, outcome.split
        waited_in, status = session.waiting_in, session.status
        billed_before = split.billed_after - split.billed_hours  # in the order performed
        year_before = cap.billed
        cap.bill(
            session_id=session.id,
            billed_hours=split.billed_hours,
            over_cap_hours=split.over_cap_hours,
            limit_hours=split.limit_hours,
            performed_on=logged.performed_on,
            performed_at=place[0],
            month=logged.settlement_month,
        )
        self._give_way(cap, place, billed_before, logged, session.id)
        for percent in thresholds_crossed(year_before, cap.billed, split.limit_hours):
            cap.warn(
                percent=percent,
                billed_hours=cap.billed,
                limit_hours=split.limit_hours,
                session_id=session.id,
                performed_on=logged.performed_on,
            )
        payload = logged.model_dump(mode="json")
        session.log(
            session=payload,
            tariff_book_version=self.book.version,
            billed_before=billed_before,
            over_cap_hours=split.over_cap_hours,
            causation_id=causation_id,
        )
        if waited_in is not None:
            waiting = self.settlement(waited_in)
            if status == "decided" and logged.meeting_id is not None:
                waiting.resolve_decision(logged.meeting_id)
            waiting.resolve_price(session.id)
            self.worklist().clear(session.id)
        month = self.open_month(logged.settlement_month)
        if month == logged.settlement_month:
            self.settlement(month).book_session(payload)
        else:
            adjustment = late_adjustment(logged, month)
            self.settlement(month).book_adjustment(adjustment.model_dump(mode="json"))

    def _give_way(
        self, cap: CapAccount, place: Key, before: Decimal, taker: SessionLogged, taker_id: UUID
    ) -> None:
        """The sessions of open months performed after ``taker`` give way to it at the cap,
        each re-booked on its month with the hours it keeps (cap_order.py)."""
        programme = taker.programme

        def offs(day: date) -> list[CallOff]:
            return call_offs_in_force(self.book.call_offs, programme, day)

        limit = limit_on(self.catalogue, programme, offs)
        month = taker.settlement_month
        for session_hex, keeps in give_way(
            cap.ledger, place, month, (before, taker.client_hours), limit, self.is_closed
        ):
            other = self.uow.get(UUID(hex=session_hex), Session)
            assert other is not None and other.logged is not None  # the ledger holds logged ones
            was = SessionLogged.model_validate(other.logged)
            cap_version = self.catalogue.yearly_cap(programme, was.performed_on).tariff_version
            payload = cut_to(was, keeps, cap_version).model_dump(mode="json")
            other.recut(session=payload, given_to=taker_id, reason=gave_way(taker))
            self.settlement(was.settlement_month).book_session(payload)
            cap.give_way(
                session_id=other.id, billed_hours=keeps, given_to=taker_id,
                performed_on=was.performed_on,
            )  # fmt: skip


def gave_way(taker: SessionLogged) -> str:
    return (
        f"the yearly cap goes in the order sessions were performed: session {taker.session_id}, "
        f"performed on {taker.performed_on.isoformat()} and recorded later, comes first"
    )


def tariff_book(uow: UnitOfWork, clock: Callable[[], datetime]) -> TariffBook:
    """The store's tariff book; the first use records the default catalogue (the seeds)."""
    found = uow.get(TariffBook.create_id(), TariffBook)
    if found is None:
        found = new_tariff_book(clock())
        uow.add(found)
    return found


def new_tariff_book(now: datetime) -> TariffBook:
    return TariffBook(
        entries=[entry_record(e) for e in default_catalogue().entries()],
        reason="default catalogue: the seeds' prices (000, 002, 003, 004)",
        recorded_at=now,
    )
