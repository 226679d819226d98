"""Billing's application: sessions from held meetings, people's commands, monthly settlements.

Handlers apply intake's and scheduling's events (a case's programme; a held meeting becomes a
session). Commands (logged time, a decision on a flagged group session, tariffs, call-offs,
closing a month) load, change and save under the application's lock, and are retried if
another process changed the same aggregates first. Queries read what is recorded; a closed
month is read from its closed document and never recomputed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError
from pydantic import ValidationError

from events.codec import describe
from events.messages import MeetingHeld, ReferralReceived
from infra.application import Handler, Lookup, ServiceApplication, Translator, UnitOfWork
from services.billing import polare, views
from services.billing.booking import (
    Booker,
    LoggedTime,
    new_tariff_book,
    time_session_id,
)
from services.billing.domain import (
    BillingError,
    CaseAccount,
    Conflict,
    MonthClosed,
    NotFound,
    Session,
    Settlement,
    Worklist,
)
from services.billing.handlers import (
    LOOKUPS,
    when_meeting_held_log_session,
    when_referral_received_open_account,
)
from services.billing.pricing import DECISIONS, local_date, session_id_for
from services.billing.public import PUBLIC_EVENTS
from services.billing.settlement import (
    PROGRAMMES,
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
    YearlyCap,
    last_day,
)

T = TypeVar("T")
ATTEMPTS = 3


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
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self._catalogues: dict[int, Catalogue] = {}

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

    def _command(self, change: Callable[[Booker], T]) -> T:
        """Load, change and save in one transaction; try again if another writer came first."""
        for attempt in range(ATTEMPTS):
            with self.lock:
                uow = UnitOfWork(self)
                result = change(self.booker(uow))
                try:
                    self.save(*uow.aggregates)
                except IntegrityError as exc:
                    if attempt + 1 == ATTEMPTS:
                        raise Conflict("billing changed meanwhile; please try again") from exc
                    continue
                return result
        raise AssertionError("unreachable")

    def _query(self, read: Callable[[Booker], T]) -> T:
        with self.lock:
            return read(self.booker(UnitOfWork(self)))

    # --- polare fees (services/billing/polare.py) ------------------------------------------

    def polare_command(self, change: Callable[[UnitOfWork], T]) -> T:
        return self._command(lambda booker: change(booker.uow))

    def polare_query(self, read: Callable[[UnitOfWork], T]) -> T:
        return self._query(lambda booker: read(booker.uow))

    def catalogue_of(self, uow: UnitOfWork) -> Catalogue:
        return self.booker(uow).catalogue

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
        """Log preparation or follow-up time on a case; priced and booked like a meeting."""
        session_id = time_session_id(entry_id or uuid4())

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

        return self._command(change)

    def decide(
        self, *, meeting_id: UUID, decision: str, decided_by: str, note: str | None = None
    ) -> dict[str, Any]:
        """Record a person's decision on a flagged group session, then price it accordingly."""
        if decision not in DECISIONS:
            raise BillingError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
        if not decided_by.strip():
            raise BillingError("decided_by must name the person who decided")

        def change(booker: Booker) -> dict[str, Any]:
            session = booker.uow.get(session_id_for(meeting_id), Session)
            if session is None or session.meeting is None:
                raise NotFound(f"no held meeting {meeting_id} is known to billing")
            session.decide(
                decision=decision, decided_by=decided_by, note=note, decided_at=self.clock()
            )
            booker.price(session, None)
            return views.session_view(session)

        return self._command(change)

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

        return self._command(change)

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
            done = sum(1 for e in catalogue.extensions if e.contract == contract)
            return [Extension(entry_id=f"{contract}-extension-{done + 1}", contract=contract)]

        return self._record_entries(entries, f"extension of {contract}", reference, recorded_by)

    def record_price(
        self,
        entry: HourlyRate | ClientFee | YearlyCap | FixedPayment | ContractTerm,
        *,
        reference: str,
        recorded_by: str | None = None,
    ) -> dict[str, Any]:
        """Record a new price or contract term (rate, client fee, yearly cap, fixed payment)."""
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
            return {
                "book_version": booker.book.version,
                "recorded": [e.entry_id for e in made],
                "repriced_sessions": repriced,
            }

        return self._command(change)

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

        return self._command(change)

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
        def read(booker: Booker) -> dict[str, Any]:
            usage = views.cap_usage(booker, programme, date(year, 12, 31))
            if usage is None:
                raise NotFound(f"{programme} has no yearly cap in {year}")
            return usage

        return self._query(read)

    # --- settlements ----------------------------------------------------------------------------

    def settlement(self, month: str, programme: str | None = None) -> dict[str, Any]:
        """The month's document as it stands (closed: as closed) and what is known about it."""
        _check(month, programme)

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
                }
            return {
                "document": views.document_of(booker, found, month, programme),
                "status": "open",
                "closed_at": None,
                "closed_by": None,
                "cap_usage": views.month_cap_usage(booker, month),
                "awaiting_price": sorted(set((found.awaiting_price if found else {}).values())),
            }

        return self._query(read)

    def close_month(self, month: str, closed_by: str | None = None) -> Document:
        """Close the month: record its canonical document and digest; it never changes again."""
        _check(month, None)
        last = last_day(month_start(month).year, month_start(month).month)

        def change(booker: Booker) -> Document:
            today = local_date(self.clock())
            if today <= last:
                raise Conflict(f"{month} is not over (today is {today}); it is settled in arrears")
            if booker.is_closed(month):
                raise MonthClosed(f"{month} is already closed")
            settlement = booker.settlement(month)
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
            )
            return documents[""]

        return self._command(change)

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
