"""Billing's application: its store, the one way it runs a command, and its commands wired in.

Handlers apply intake's and scheduling's events (a case's programme; a held meeting becomes a
session). The commands and queries live in their feature modules as functions of the small
:class:`~services.billing.books.Books` interface, and are wired here as the application's
methods: the month's close (``closing.py``), the tariff book (``tariff_commands.py``), people's
commands on sessions (``session_commands.py``), what is booked on a month beside its sessions
and how it reads (``settlement_commands.py``), and the yearly caps (``cap_queries.py``). Each
command loads, changes and saves under the application's lock, and is retried if another
process changed the same aggregates first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from eventsourcing.persistence import IntegrityError

from events.intake import ReferralReceived
from events.scheduling import MeetingHeld
from infra.application import ServiceApplication
from infra.batches import Handler, Incoming, Lookup
from infra.calendar import DEFAULT_CALENDAR, CalendarPolicy
from infra.outbox import Translator
from infra.unit_of_work import UnitOfWork
from services.billing import (
    cap_queries,
    closing,
    polare,
    session_commands,
    settlement_commands,
    tariff_commands,
)
from services.billing.booking import Booker, new_tariff_book
from services.billing.errors import Conflict
from services.billing.handlers import (
    LOOKUPS,
    when_meeting_held_log_session,
    when_referral_received_open_account,
)
from services.billing.public import PUBLIC_EVENTS
from services.billing.tariff_book import TariffBook
from services.billing.tariffs import Catalogue

T = TypeVar("T")


class Billing(ServiceApplication):
    name = "billing"
    handlers: ClassVar[Mapping[str, Handler]] = {
        ReferralReceived.type_name: when_referral_received_open_account,
        MeetingHeld.type_name: when_meeting_held_log_session,
        **polare.HANDLERS,
    }
    lookups: ClassVar[Mapping[str, Lookup]] = {**LOOKUPS, **polare.LOOKUPS}
    #: Every session booked writes the month's settlement and the year's cap: instances take
    #: turns applying batches rather than collide (measured: ``docs/performance.md``).
    exclusive_batches: ClassVar[bool] = True
    public_events: ClassVar[Mapping[type[Any], Translator]] = {
        **PUBLIC_EVENTS,
        **polare.PUBLIC_EVENTS,
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        grace_days: int = 0,
        pace_weeks: int = 8,
        calendar: CalendarPolicy = DEFAULT_CALENDAR,
    ) -> None:
        super().__init__(env)
        if grace_days < 0 or pace_weeks < 1:
            raise ValueError("grace_days must not be negative and pace_weeks must be positive")
        self.clock = clock
        self.grace_days = grace_days
        self.pace_weeks = pace_weeks
        self.calendar = calendar
        self._catalogues: dict[int, Catalogue] = {}
        #: Months known to be closed (a closed month never opens again): no store read needed.
        self.closed_months: set[str] = set()

    def booker(self, uow: UnitOfWork) -> Booker:
        return Booker(uow, self.clock, self._catalogues)

    def record_default_tariffs(self) -> bool:
        """Record the default catalogue if this store has no tariff book yet; True if it did."""
        with self.lock:
            if UnitOfWork(self).get(TariffBook.create_id(), TariffBook) is not None:
                return False
            try:
                self.save(new_tariff_book(self.clock()))
            except IntegrityError:  # another process recorded it first
                return False
            return True

    def transact(self, command: Callable[[Booker], T]) -> T:  # type: ignore[override]
        """Run ``command`` with the booker of a fresh unit of work, through the one way every
        service runs a command (:meth:`infra.application.ServiceApplication.transact`)."""
        return super().transact(
            lambda uow: command(self.booker(uow)),
            busy=lambda: Conflict("billing changed meanwhile; please try again"),
        )

    def query(self, read: Callable[[Booker], T]) -> T:
        """Run ``read`` with the booker of a fresh unit of work, under the lock, saving nothing."""
        with self.lock:
            return read(self.booker(UnitOfWork(self)))

    def process(self, group: str, items: list[Incoming]) -> dict[str, str | None]:
        """Apply a batch; first close, each in its own transaction, the months of its meetings
        whose grace window has ended, so that their sessions become adjustments."""
        closing.close_months_of_meetings(self, items)
        return super().process(group, items)

    # --- the commands and queries, each a function of :class:`~services.billing.books.Books`
    # (a function assigned in a class body is a method: Billing is passed as the Books, and
    # mypy checks that it is one and that every call matches the function's signature).

    close_month = closing.close_month
    close_due = closing.close_due
    close_due_months = closing.close_due_months
    grace = closing.grace_window
    preview = closing.preview

    record_price = tariff_commands.record_price
    record_indexation = tariff_commands.record_indexation
    record_extension = tariff_commands.record_extension
    record_termination = tariff_commands.record_termination
    record_call_off = tariff_commands.record_call_off
    tariffs = tariff_commands.tariffs
    catalogue_end = tariff_commands.catalogue_end
    notices = tariff_commands.notices

    log_time = session_commands.log_time
    decide = session_commands.decide
    dismiss = session_commands.dismiss
    session = session_commands.session
    worklist = session_commands.worklist

    adjust = settlement_commands.adjust
    adjustments = settlement_commands.adjustments
    record_separately = settlement_commands.record_separately
    settlement = settlement_commands.settlement
    closed_document = settlement_commands.closed_document

    service_levels = cap_queries.service_levels
    cap_usage = cap_queries.cap_usage
    cap_forecast = cap_queries.cap_forecast
