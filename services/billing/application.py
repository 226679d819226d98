"""Billing's application: sessions from held meetings, people's commands, monthly settlements.

Handlers apply intake's and scheduling's events (a case's programme; a held meeting becomes a
session). Commands (logged time, a decision on a flagged group session, tariffs, call-offs,
closing a month) load, change and save under the application's lock, and are retried if
another process changed the same aggregates first. Queries read what is recorded; a closed
month is read from its closed document and never recomputed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

import structlog
from eventsourcing.persistence import IntegrityError
from pydantic import ValidationError

from events.codec import describe
from events.intake import ReferralReceived
from events.scheduling import MeetingHeld
from events.types import PROGRAMMES
from infra.application import (
    Handler,
    Incoming,
    Lookup,
    ServiceApplication,
    Translator,
    UnitOfWork,
)
from infra.calendar import DEFAULT_CALENDAR, CalendarPolicy, local_date, month_of
from infra.months import end_of_month, month_of_date, previous_month
from infra.words import counted
from services.billing import polare, views
from services.billing.adjustments import AdjustmentError, manual_adjustment
from services.billing.booking import (
    Booker,
    LoggedTime,
    new_tariff_book,
    time_session_id,
)
from services.billing.cap import call_offs_in_force
from services.billing.catchup_book import book_catch_ups, own_of
from services.billing.domain import (
    BillingError,
    CapAccount,
    CaseAccount,
    Conflict,
    MonthClosed,
    NotFound,
    Session,
    Settlement,
    Worklist,
)
from services.billing.forecast import forecast
from services.billing.grace import (
    GRACE_CLOSER,
    CloseKind,
    grace_ends,
    grace_over,
    grace_record,
    in_grace,
)
from services.billing.handlers import (
    LOOKUPS,
    when_meeting_held_log_session,
    when_referral_received_open_account,
)
from services.billing.pricing import (
    DECISIONS,
    DecisionRefused,
    bills_for_leanlink,
    check_decision,
    session_id_for,
)
from services.billing.public import PUBLIC_EVENTS
from services.billing.separate import KINDS as SEPARATE_KINDS
from services.billing.separate import SeparateAmountError, separate_amount
from services.billing.settlement import (
    Document,
    SettlementError,
    canonical_json,
    month_start,
)
from services.billing.tariff_book import TariffBook
from services.billing.tariffs import (
    Catalogue,
    ClientFee,
    ContractTerm,
    Entry,
    Extension,
    FixedPayment,
    HourlyRate,
    Indexation,
    Posts,
    PriceNotKnown,
    Termination,
    YearlyCap,
)
from services.billing.terms import notice_end, term_notices

T = TypeVar("T")
#: How many months back the periodic job looks for months whose grace window has ended.
SWEEP_MONTHS = 13

log = structlog.get_logger(__name__)


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
        self._closed_months: set[str] = set()

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

    def _query(self, read: Callable[[Booker], T]) -> T:
        with self.lock:
            return read(self.booker(UnitOfWork(self)))

    # --- polare fees (services/billing/polare.py) ------------------------------------------

    def polare_command(self, change: Callable[[UnitOfWork], T]) -> T:
        return self.transact(lambda booker: change(booker.uow))

    def polare_query(self, read: Callable[[UnitOfWork], T]) -> T:
        return self._query(lambda booker: read(booker.uow))

    def catalogue_of(self, uow: UnitOfWork) -> Catalogue:
        return self.booker(uow).catalogue

    # --- the grace window (services/billing/grace.py) -------------------------------------------

    def process(self, group: str, items: list[Incoming]) -> dict[str, str | None]:
        """Apply a batch; first close, each in its own transaction, the months of its meetings
        whose grace window has ended, so that their sessions become adjustments."""
        self.close_due(
            month_of(item.envelope.message.started_at)
            for item in items
            if isinstance(item.envelope.message, MeetingHeld)
        )
        return super().process(group, items)

    def close_due(self, months: Iterable[str], *, recorded_only: bool = False) -> list[str]:
        """Close each of ``months`` whose grace window has ended and that is still open; return
        the months closed now. A month with sessions waiting for a price cannot close and stays
        open (its sessions keep landing in it until it is closed). ``recorded_only``: leave a
        month that nothing was ever booked on alone (the periodic job's sweep)."""
        if self.grace_days == 0:
            return []
        closed = []
        for month in sorted(set(months)):
            if month in self._closed_months or not grace_over(
                month, self.clock(), self.grace_days, self.calendar
            ):
                continue
            try:
                outcome = self.transact(
                    partial(self._close_due, month=month, recorded_only=recorded_only)
                )
            except (BillingError, PriceNotKnown, SettlementError) as exc:
                log.warning("grace window over, month not closed", month=month, error=str(exc))
                continue
            if outcome != "open":
                self._closed_months.add(month)
            if outcome == "closed":
                log.info("month closed: grace window over", month=month)
                closed.append(month)
        return closed

    def close_due_months(self) -> list[str]:
        """The periodic job: close the months of the last ``SWEEP_MONTHS`` (and every month a
        session waits in) that have a settlement and whose grace window has ended."""
        if self.grace_days == 0:
            return []
        month = month_of(self.clock())
        recent = []
        for _ in range(SWEEP_MONTHS):
            month = previous_month(month)
            recent.append(month)
        waiting = {str(item["month"]) for item in self.worklist()}
        return self.close_due([*recent, *waiting], recorded_only=True)

    def _close_due(self, booker: Booker, *, month: str, recorded_only: bool) -> str:
        found = booker.uow.get(Settlement.create_id(month), Settlement)
        if found is not None and found.is_closed:
            return "closed before"
        if (found is None and recorded_only) or (found is not None and found.awaiting_price):
            return "open"
        self._close(booker, month, GRACE_CLOSER, "automatic")
        return "closed"

    def grace(self, month: str) -> dict[str, Any]:
        """The month's grace window as set now: its end, and whether it is running."""
        _check(month, None)
        now = self.clock()
        if self.grace_days == 0:
            return {"grace_days": 0, "grace_ends": None, "in_grace": False, "grace_over": False}
        return {
            "grace_days": self.grace_days,
            "grace_ends": grace_ends(month, self.grace_days, self.calendar).isoformat(),
            "in_grace": in_grace(month, now, self.grace_days, self.calendar),
            "grace_over": grace_over(month, now, self.grace_days, self.calendar),
        }

    # --- sessions -----------------------------------------------------------------------------

    def log_time(
        self,
        *,
        case_id: UUID,
        minutes: int,
        performed_on: date,
        activity: str,
        provider: str = "leanlink",
        programme: str | None = None,
        entry_id: UUID | None = None,
        logged_by: str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Log preparation or follow-up time on a case; priced and booked like a meeting.
        Only Leanlink's own time is Leanlink's to bill (003 §1.2): another provider's is refused."""
        if not bills_for_leanlink(provider):
            raise BillingError(
                f"time performed by {provider} is not Leanlink's to bill (003 §1.2, §2.3): "
                "only Leanlink's own time is logged here"
            )
        session_id = time_session_id(entry_id or uuid4())
        self.close_due([month_of_date(performed_on)])

        def change(booker: Booker) -> dict[str, Any]:
            case = booker.uow.get(case_id, CaseAccount)
            if case is None:
                raise NotFound(f"case {case_id} is not known to billing")
            if programme is not None and programme != case.programme:
                raise BillingError(f"case {case_id} is a {case.programme} case, not {programme}")
            if case.programme not in booker.catalogue.hourly_programmes():
                raise BillingError(
                    f"{case.programme} is paid by a fixed sum; its time is not billed by the hour"
                )
            today = local_date(self.clock())
            if performed_on > today:
                raise BillingError(f"performed_on {performed_on} is in the future")
            entry = _logged_time(
                session_id, case_id, case.programme, provider, performed_on, minutes, activity,
                logged_by, note,
            )  # fmt: skip
            existing = booker.uow.get(session_id, Session)
            if existing is not None:
                if existing.time_entry != entry.model_dump(mode="json"):
                    raise Conflict(f"time entry {entry_id} was logged with other content")
                return views.session_view(existing)
            session = Session(
                session_id=session_id,
                case_id=case_id,
                meeting=None,
                time_entry=entry.model_dump(mode="json"),
                causation_id=None,
            )
            booker.uow.add(session)
            booker.price(session, None)
            return views.session_view(session)

        return self.transact(change)

    def decide(
        self, *, meeting_id: UUID, decision: str, decided_by: str, note: str | None = None
    ) -> dict[str, Any]:
        """Record a person's decision on a flagged group session, then price it accordingly."""
        if decision not in DECISIONS:
            raise BillingError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
        if not decided_by.strip():
            raise BillingError("decided_by must name the person who decided")
        self.close_due(self._meeting_month(meeting_id))

        def change(booker: Booker) -> dict[str, Any]:
            session = booker.uow.get(session_id_for(meeting_id), Session)
            if session is None or session.meeting is None:
                raise NotFound(f"no held meeting {meeting_id} is known to billing")
            if session.status == "awaiting_decision":
                try:  # the group rule allows no group billing of fewer than 5 participants
                    check_decision(decision, int(session.meeting["participants"]))
                except DecisionRefused as exc:
                    raise BillingError(str(exc)) from exc
            session.decide(
                decision=decision, decided_by=decided_by, note=note, decided_at=self.clock()
            )
            booker.price(session, None)
            return views.session_view(session)

        return self.transact(change)

    def dismiss(self, *, session_id: UUID, reason: str, decided_by: str) -> dict[str, Any]:
        """Rule out billing a session whose price is not known; its month may then close."""
        if not reason.strip() or not decided_by.strip():
            raise BillingError("a dismissal needs a reason and the person who decided it")

        def change(booker: Booker) -> dict[str, Any]:
            session = booker.uow.get(session_id, Session)
            if session is None:
                raise NotFound(f"session {session_id} is not known to billing")
            waiting_in = session.waiting_in
            session.dismiss(reason=reason, decided_by=decided_by, decided_at=self.clock())
            if waiting_in is not None:
                booker.settlement(waiting_in).resolve_price(session.id)
            booker.worklist().clear(session.id)
            return views.session_view(session)

        return self.transact(change)

    def _meeting_month(self, meeting_id: UUID) -> list[str]:
        """The month of a held meeting known to billing (none if it is not known)."""

        def read(booker: Booker) -> list[str]:
            found = booker.uow.get(session_id_for(meeting_id), Session)
            if found is None or found.meeting is None:
                return []
            held = MeetingHeld.model_validate(found.meeting)
            return [month_of(held.started_at)]

        return self._query(read)

    def session(self, session_id: UUID) -> dict[str, Any]:
        def read(booker: Booker) -> dict[str, Any]:
            found = booker.uow.get(session_id, Session)
            if found is None:
                raise NotFound(f"session {session_id} is not known to billing")
            return views.session_view(found)

        return self._query(read)

    def worklist(self) -> list[dict[str, Any]]:
        """Sessions waiting for a person: a decision, or a price that is not known."""

        def read(booker: Booker) -> list[dict[str, Any]]:
            found = booker.uow.get(Worklist.create_id(), Worklist)
            items = [] if found is None else list(found.items.values())
            return sorted(items, key=lambda i: (i["month"], i["need"], i["session_id"]))

        return self._query(read)

    # --- tariffs and call-offs --------------------------------------------------------------

    def record_indexation(
        self,
        *,
        series: str,
        year: int,
        percent: Decimal,
        applies_from: date,
        reference: str,
        recorded_by: str | None = None,
    ) -> dict[str, Any]:
        if applies_from.year != year:
            raise BillingError(f"applies_from {applies_from} is not in {year}")
        entry = Indexation(
            entry_id=f"{series}-{year}",
            series=series,
            year=year,
            percent=percent,
            applies_from=applies_from,
        )
        return self._record_entries(
            [entry], f"{series} indexation for {year}", reference, recorded_by
        )

    def record_extension(
        self, *, contract: str, reference: str, recorded_by: str | None = None
    ) -> dict[str, Any]:
        def entries(catalogue: Catalogue) -> list[Entry]:
            notice = catalogue.termination(contract)
            if notice is not None:
                raise Conflict(
                    f"{contract} was terminated by the notice given on {notice.given_on}; "
                    "it cannot be extended"
                )
            done = sum(1 for e in catalogue.extensions if e.contract == contract)
            return [Extension(entry_id=f"{contract}-extension-{done + 1}", contract=contract)]

        return self._record_entries(entries, f"extension of {contract}", reference, recorded_by)

    def record_termination(
        self,
        *,
        contract: str,
        given_on: date,
        reference: str,
        ends_on: date | None = None,
        recorded_by: str | None = None,
    ) -> dict[str, Any]:
        """Record a written notice of termination; the term ends as ``terms.py`` says, or on
        ``ends_on`` where the parties agreed another end."""

        def entries(catalogue: Catalogue) -> list[Entry]:
            if catalogue.termination(contract) is not None:
                raise Conflict(f"a notice of termination of {contract} is already recorded")
            if not any(t.contract == contract for t in catalogue.terms):
                raise NotFound(f"no contract {contract!r}")
            end = ends_on or notice_end(catalogue, contract, given_on)
            return [
                Termination(
                    entry_id=f"{contract}-termination", contract=contract, given_on=given_on,
                    ends_on=end,
                )
            ]  # fmt: skip

        return self._record_entries(entries, f"notice of termination of {contract}", reference,
                                    recorded_by)  # fmt: skip

    def catalogue_end(self, contract: str) -> str:
        """A contract's last day as recorded now ("until further notice" if none)."""
        end = self._query(lambda booker: booker.catalogue.term_end(contract))
        return end.isoformat() if end is not None else "until further notice"

    def notices(self) -> list[dict[str, str]]:
        """Programmes with no contract in force, fixed terms near their notice deadline, and
        terms ending by a notice (``terms.py``), judged on today's date in Stockholm."""
        today = local_date(self.clock())
        return self._query(lambda booker: term_notices(booker.catalogue, PROGRAMMES, today))

    def record_price(
        self,
        entry: HourlyRate | ClientFee | YearlyCap | FixedPayment | ContractTerm | Posts,
        *,
        reference: str,
        recorded_by: str | None = None,
    ) -> dict[str, Any]:
        """Record a new price or contract term (rate, client fee, yearly cap, fixed payment,
        agreed posts)."""
        return self._record_entries([entry], f"new {type(entry).__name__}", reference, recorded_by)

    def _record_entries(
        self,
        entries: list[Entry] | Callable[[Catalogue], list[Entry]],
        reason: str,
        reference: str,
        recorded_by: str | None,
    ) -> dict[str, Any]:
        if not reference.strip():
            raise BillingError("reference must name the written decision or agreement")

        def change(booker: Booker) -> dict[str, Any]:
            made = entries(booker.catalogue) if callable(entries) else entries
            booker.book.record(
                made,
                reason=reason,
                reference=reference,
                recorded_by=recorded_by,
                recorded_at=self.clock(),
            )
            repriced = self._reprice_waiting(booker)
            # A revision that reaches closed months: catch-ups on the first open month.
            caught = book_catch_ups(booker, made, local_date(self.clock()), reference)
            return {
                "book_version": booker.book.version,
                "recorded": [e.entry_id for e in made],
                "repriced_sessions": repriced,
                "catch_ups": [
                    {
                        "adjustment_id": str(a.adjustment_id),
                        "month": a.month,
                        "belongs_to_month": a.belongs_to_month,
                        "line": a.line,
                        "amount_ore": a.amount_ore,
                        "fee_ore": a.fee_ore or 0,
                    }
                    for a in caught
                ],
            }

        return self.transact(change)

    def record_call_off(
        self,
        *,
        programme: str,
        year: int,
        hours: Decimal,
        reference: str,
        effective_from: date | None = None,
        recorded_by: str | None = None,
    ) -> dict[str, Any]:
        """Record a written call-off of hours beyond the year's cap; it applies from its date."""
        if programme not in PROGRAMMES:
            raise BillingError(f"unknown programme {programme!r}; expected one of {PROGRAMMES}")
        if hours <= 0 or (hours * 4) % 1 != 0:
            raise BillingError(f"hours must be a positive number of quarter hours, got {hours}")
        if not reference.strip():
            raise BillingError("reference must name the written call-off")

        def change(booker: Booker) -> dict[str, Any]:
            if programme not in booker.catalogue.hourly_programmes():
                raise BillingError(f"{programme} has no yearly cap of hours to call off beyond")
            booker.book.record_call_off(
                reference=reference,
                programme=programme,
                year=year,
                hours=hours,
                effective_from=effective_from or date(year, 1, 1),
                recorded_by=recorded_by,
                recorded_at=self.clock(),
            )
            return {"book_version": booker.book.version, "reference": reference}

        return self.transact(change)

    def record_separately(
        self, *, kind: str, programme: str, month: str, **fields: Any
    ) -> dict[str, Any]:
        """Record a premises share or a state grant on an open month's statement, reported
        apart from Leanlink's lines (003 §1.2, separate.py); a closed month is refused."""
        _check(month, programme)
        if kind not in SEPARATE_KINDS:
            raise BillingError(f"unknown kind {kind!r}; expected one of {SEPARATE_KINDS}")
        try:
            record = separate_amount(kind=kind, programme=programme, month=month, **fields)
        except SeparateAmountError as exc:
            raise BillingError(str(exc)) from exc

        def change(booker: Booker) -> dict[str, Any]:
            booker.settlement(month).record_separately(record.model_dump(mode="json"))
            return {"item_id": str(record.item_id), "month": month, "kind": kind}

        return self.transact(change)

    def adjust(
        self, *, month: str, programme: str, amount_ore: int, **fields: Any
    ) -> dict[str, Any]:
        """Book a manual adjustment (adjustments.py) on an open month that has begun; a closed
        month is refused (409) naming the first open month, and never changes."""
        _check(month, programme)
        if month > month_of(self.clock()):
            raise BillingError(f"{month} has not begun; adjustments are booked on open months")
        try:
            adjustment = manual_adjustment(
                month=month, programme=programme, amount_ore=amount_ore, **fields
            )
        except AdjustmentError as exc:
            raise BillingError(str(exc)) from exc
        self.close_due([month])  # a month whose grace window has ended is closed first

        def change(booker: Booker) -> dict[str, Any]:
            if booker.is_closed(month):
                raise MonthClosed(
                    f"{month} is closed and never changes; book the adjustment on the first "
                    f"open month, {booker.open_month(month)} (with corrects {month})"
                )
            booker.settlement(month).adjust(adjustment.model_dump(mode="json"))
            return {
                "adjustment_id": str(adjustment.adjustment_id),
                "month": month,
                "belongs_to_month": adjustment.belongs_to_month,
                "amount_ore": amount_ore,
            }

        return self.transact(change)

    def adjustments(self, month: str, programme: str | None = None) -> list[dict[str, Any]]:
        """The adjustments booked on the month (late sessions' and manual), for auditors."""
        _check(month, programme)

        def read(booker: Booker) -> list[dict[str, Any]]:
            found = booker.uow.get(Settlement.create_id(month), Settlement)
            booked = [] if found is None else list(found.adjustments.values())
            return sorted(
                (a for a in booked if programme in (None, a["programme"])),
                key=lambda a: (a["programme"], a["belongs_to_month"], str(a["adjustment_id"])),
            )

        return self._query(read)

    def _reprice_waiting(self, booker: Booker) -> int:
        """Price again every session that waited for a price; return how many now have one."""
        waiting = [
            UUID(item["session_id"])
            for item in booker.worklist().items.values()
            if item["need"] == "price"
        ]
        done = 0
        for session_id in sorted(waiting, key=str):
            session = booker.uow.get(session_id, Session)
            if session is None:
                continue
            booker.price(session, None)
            done += session.logged is not None
        return done

    def tariffs(self) -> dict[str, Any]:
        def read(booker: Booker) -> dict[str, Any]:
            return {
                "book_version": booker.book.version,
                "entries": list(booker.book.records),
                "call_offs": [
                    {**c, "hours": str(c["hours"]), "effective_from": str(c["effective_from"])}
                    for c in booker.book.call_offs
                ],
            }

        return self._query(read)

    def service_levels(self) -> dict[str, int]:
        """What operators see: the counselling cap used this year, and work waiting for a
        person (group sessions to decide, prices not known)."""
        year = local_date(self.clock()).year
        try:
            used = self.cap_usage("counselling", year)["used_percent"]
        except NotFound:
            used = "0"
        return {
            "counselling_cap_used_percent": int(Decimal(used)) if used != "-" else 0,
            "billing_worklist_open": len(self.worklist()),
        }

    def cap_usage(self, programme: str, year: int) -> dict[str, Any]:
        """Hours billed against the year's cap, and the forecast of when it is reached."""

        def read(booker: Booker) -> dict[str, Any]:
            usage = views.cap_usage(booker, programme, date(year, 12, 31))
            if usage is None:
                raise NotFound(f"{programme} has no yearly cap in {year}")
            return usage | {"forecast": self._forecast(booker, programme, year)}

        return self._query(read)

    def cap_forecast(self, programme: str, year: int | None = None) -> dict[str, Any]:
        """The date the year's cap (with call-offs) will be reached at the current pace."""
        if programme not in PROGRAMMES:
            raise SettlementError(f"unknown programme {programme!r}; expected one of {PROGRAMMES}")
        year = local_date(self.clock()).year if year is None else year

        def read(booker: Booker) -> dict[str, Any]:
            if views.cap_usage(booker, programme, date(year, 12, 31)) is None:
                raise NotFound(f"{programme} has no yearly cap in {year}")
            return {"programme": programme, **self._forecast(booker, programme, year)}

        return self._query(read)

    def _forecast(self, booker: Booker, programme: str, year: int) -> dict[str, Any]:
        account = booker.uow.get(CapAccount.create_id(programme, year), CapAccount)
        catalogue, offs = booker.catalogue, booker.book.call_offs

        def limit_on(day: date) -> Decimal:
            try:
                cap = Decimal(catalogue.yearly_cap(programme, day).hours)
            except PriceNotKnown:
                cap = Decimal(0)  # no cap recorded for that day: nothing can be billed
            offs_then = call_offs_in_force(offs, programme, day)
            return cap + sum((c.hours for c in offs_then), Decimal(0))

        daily = account.daily if account else {}
        return forecast(
            today=local_date(self.clock()),
            year=year,
            billed=account.billed if account else Decimal(0),
            limit_on=limit_on,
            hours_by_day={date.fromisoformat(d): h for d, h in daily.items()},
            pace_weeks=self.pace_weeks,
            policy=self.calendar,
        )

    # --- settlements ----------------------------------------------------------------------------

    def settlement(self, month: str, programme: str | None = None) -> dict[str, Any]:
        """The month's document as it stands (closed: as closed) and what is known about it."""
        _check(month, programme)
        grace = self.grace(month)

        def read(booker: Booker) -> dict[str, Any]:
            found = booker.uow.get(Settlement.create_id(month), Settlement)
            if found is not None and found.closed is not None:
                closed = found.closed
                document = json.loads(closed["documents"][programme or ""])
                return {
                    "document": document,
                    "status": "closed",
                    "closed_at": closed["closed_at"].isoformat(),
                    "closed_by": closed["closed_by"],
                    "cap_usage": closed["cap_usage"],
                    "awaiting_price": [],
                    "grace": closed.get("grace"),
                    "term_ends": views.term_ends(booker),
                }
            return {
                "document": views.document_of(booker, found, month, programme),
                "status": "open",
                "closed_at": None,
                "closed_by": None,
                "cap_usage": views.month_cap_usage(booker, month),
                "awaiting_price": sorted(set((found.awaiting_price if found else {}).values())),
                "grace": grace,
                "term_ends": views.term_ends(booker),
            }

        return self._query(read)

    def preview(self, month: str, programme: str | None = None) -> dict[str, Any]:
        """What closing the open month now would record, computed and recorded nowhere.

        The document is exactly the one :meth:`close_month` would record at this moment (so,
        if nothing changes in between, the close gives the same document and digest); the view
        around it says it is a preview, not final, and whether a close would be allowed now.
        """
        _check(month, programme)
        now = self.clock()
        grace = self.grace(month)

        def read(booker: Booker) -> dict[str, Any]:
            found = booker.uow.get(Settlement.create_id(month), Settlement)
            if found is not None and found.closed is not None:
                raise MonthClosed(
                    f"{month} is closed; its document is final (lots settlement show {month})"
                )
            awaiting = sorted(set((found.awaiting_price if found else {}).values()))
            return {
                "preview": True,
                "final": False,
                "month": month,
                "programme": programme,
                "computed_at": now.isoformat(),
                "status": self._phase(month, now),
                "grace": grace,
                "closable": self._close_refusal(month, now, early=False, awaiting=awaiting),
                "document": views.document_of(booker, found, month, programme),
                "cap_usage": views.month_cap_usage(booker, month),
                "awaiting_price": awaiting,
                "term_ends": views.term_ends(booker),
            }

        view = self._query(read)
        refusal = view.pop("closable")
        view["closable"] = refusal is None
        view["close_refusal"] = refusal
        return view

    def _phase(self, month: str, now: datetime) -> str:
        """``current`` (not over), ``in_grace``, or ``over`` (over, and any grace has ended)."""
        if local_date(now) <= end_of_month(month_start(month)):
            return "current"
        if in_grace(month, now, self.grace_days, self.calendar):
            return "in_grace"
        return "over"

    def _close_refusal(
        self, month: str, now: datetime, *, early: bool, awaiting: list[str]
    ) -> str | None:
        """Why a close by hand of the open ``month`` is refused at ``now``; None if it is not."""
        today = local_date(now)
        if today <= end_of_month(month_start(month)):
            return f"{month} is not over (today is {today}); it is settled in arrears"
        if not early and in_grace(month, now, self.grace_days, self.calendar):
            ends = grace_ends(month, self.grace_days, self.calendar)
            return (
                f"{month} is in its grace window of "
                f"{counted(self.grace_days, 'business day')} until "
                f"{ends.strftime('%Y-%m-%d %H:%M')} Europe/Stockholm: late sessions still land "
                "in it, and it is closed when the window ends; close it early (--early, or "
                "early=true) to end the window now"
            )
        if awaiting:
            return (
                f"{month} cannot be closed: {counted(len(awaiting), 'session')} "
                f"{'waits' if len(awaiting) == 1 else 'wait'} for a price "
                f"({'; '.join(awaiting)}); record the missing tariff first"
            )
        return None

    def close_month(
        self, month: str, closed_by: str | None = None, *, early: bool = False
    ) -> Document:
        """Close the month: record its canonical document and digest; it never changes again.

        With a grace window set, a month in its window is closed only if ``early`` is given
        (the close records that it ended the window early); afterwards it may be closed by
        hand until billing closes it itself.
        """
        _check(month, None)

        def change(booker: Booker) -> Document:
            now = self.clock()
            if local_date(now) <= end_of_month(month_start(month)):
                raise Conflict(
                    f"{month} is not over (today is {local_date(now)}); it is settled in arrears"
                )
            if booker.is_closed(month):
                raise MonthClosed(f"{month} is already closed")
            refusal = self._close_refusal(month, now, early=early, awaiting=[])
            if refusal is not None:
                raise Conflict(refusal)
            kind: CloseKind = (
                "early" if in_grace(month, now, self.grace_days, self.calendar) else "by_hand"
            )
            return self._close(booker, month, closed_by, kind)

        document = self.transact(change)
        self._closed_months.add(month)
        return document

    def _close(
        self, booker: Booker, month: str, closed_by: str | None, kind: CloseKind
    ) -> Document:
        settlement = booker.settlement(month)
        # Its own sessions logged before a revision reach the new price (catchup.py).
        for adjustment in own_of(booker, settlement):
            settlement.book_adjustment(adjustment.model_dump(mode="json"))
        documents = {
            key or "": views.document_of(booker, settlement, month, key)
            for key in (None, *PROGRAMMES)
        }
        settlement.close(
            document=canonical_json(documents[""]),
            documents={k: canonical_json(v) for k, v in documents.items()},
            digest=documents[""]["digest"],
            closed_at=self.clock(),
            closed_by=closed_by,
            tariff_book_version=booker.book.version,
            cap_usage=views.month_cap_usage(booker, month),
            grace=grace_record(month, self.grace_days, kind, self.calendar),
        )
        return documents[""]

    def closed_document(self, month: str, programme: str | None = None) -> Document | None:
        _check(month, programme)

        def read(booker: Booker) -> Document | None:
            found = booker.uow.get(Settlement.create_id(month), Settlement)
            if found is None or found.closed is None:
                return None
            return json.loads(found.closed["documents"][programme or ""])  # type: ignore[no-any-return]

        return self._query(read)


def _logged_time(
    session_id: UUID,
    case_id: UUID,
    programme: str,
    provider: str,
    performed_on: date,
    minutes: int,
    activity: str,
    logged_by: str | None,
    note: str | None,
) -> LoggedTime:
    try:
        return LoggedTime.model_validate(
            {
                "session_id": session_id,
                "case_id": case_id,
                "programme": programme,
                "provider": provider,
                "performed_on": performed_on,
                "minutes": minutes,
                "activity": activity,
                "logged_by": logged_by,
                "note": note,
            }
        )
    except ValidationError as exc:
        raise BillingError(f"invalid time entry: {describe(exc)}") from exc


def _check(month: str, programme: str | None) -> None:
    month_start(month)
    if programme is not None and programme not in PROGRAMMES:
        raise SettlementError(f"unknown programme {programme!r}; expected one of {PROGRAMMES}")
