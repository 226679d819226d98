"""Billing's aggregates: cases, sessions, yearly caps, monthly settlements, and the worklist.

Every fact billing acts on is recorded here before it is acted on: the tariffs in force (so a
settlement replays with exactly the prices it used), the meeting or logged time behind each
session, a person's decision on a flagged group session, the hours billed against each year's
cap, and what was booked on each month until it was closed. Commands check, then change: the
public methods raise a :class:`BillingError` before any event is triggered.

Over 400 lines on purpose, and nothing but the aggregates: every event here is stored under
this module's path (the topic ``services.billing.domain:Session.Logged``, ...), replay scans the
store by those topics (``replay_reader.topics``), and an aggregate moved to another module
would store its new events under a new topic that a store's older readers (and a rollback)
cannot resolve. So the five aggregates stay together in this one module; what is not an
aggregate lives elsewhere (the errors they raise in :mod:`services.billing.errors`, the cap's
order in :mod:`services.billing.cap_order`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.months import month_of_date
from infra.words import counted
from services.billing.cap_order import CapLedger, day_key
from services.billing.errors import BillingError as BillingError
from services.billing.errors import Conflict, MonthClosed
from services.billing.errors import NotFound as NotFound

NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/billing")
WORKLIST_ID = uuid5(NAMESPACE, "worklist")


class CaseAccount(Aggregate):
    """What billing knows of a case: its programme, and the meetings held in it."""

    @staticmethod
    def create_id(case_id: UUID, **_: object) -> UUID:
        return case_id

    @event("Opened")
    def __init__(self, case_id: UUID, programme: str, causation_id: str | None) -> None:
        self.programme = programme
        self.meetings: list[UUID] = []

    @event("MeetingRecorded")
    def record_meeting(
        self, meeting_id: UUID, started_at: datetime, ended_at: datetime, causation_id: str | None
    ) -> None:
        self.meetings.append(meeting_id)


class Session(Aggregate):
    """One billable session: a held meeting or logged time, until it is priced and logged."""

    @staticmethod
    def create_id(session_id: UUID, **_: object) -> UUID:
        return session_id

    @event("Opened")
    def __init__(
        self,
        session_id: UUID,
        case_id: UUID,
        meeting: dict[str, Any] | None,
        time_entry: dict[str, Any] | None,
        causation_id: str | None,
    ) -> None:
        self.case_id = case_id
        self.meeting = meeting
        self.time_entry = time_entry
        self.status = "received"
        self.waiting_in: str | None = None
        self.decision: str | None = None
        self.logged: dict[str, Any] | None = None
        #: Another provider's meeting: what is reported apart (providers.py), never billed.
        self.apart: dict[str, Any] | None = None

    def flag(
        self,
        *,
        settlement_month: str,
        reason: str,
        minutes: int,
        participants: int,
        performed_on: date,
    ) -> None:
        self._check_not_logged()
        assert self.meeting is not None  # only held group meetings are ever flagged
        self._flag(
            meeting_id=UUID(str(self.meeting["meeting_id"])),
            case_id=self.case_id,
            programme=str(self.meeting["programme"]),
            settlement_month=settlement_month,
            reason=reason,
            minutes=minutes,
            participants=participants,
            performed_on=performed_on,
        )

    @event("Flagged")
    def _flag(
        self,
        meeting_id: UUID,
        case_id: UUID,
        programme: str,
        settlement_month: str,
        reason: str,
        minutes: int,
        participants: int,
        performed_on: date,
    ) -> None:
        self.status = "awaiting_decision"
        self.waiting_in = settlement_month

    def await_price(self, *, settlement_month: str, reason: str) -> None:
        self._check_not_logged()
        self._await_price(settlement_month=settlement_month, reason=reason)

    @event("PriceAwaited")
    def _await_price(self, settlement_month: str, reason: str) -> None:
        self.status = "awaiting_price"
        self.waiting_in = settlement_month

    def decide(
        self, *, decision: str, decided_by: str, note: str | None, decided_at: datetime
    ) -> None:
        if self.status != "awaiting_decision":
            if self.decision is not None:
                raise Conflict(f"session {self.id} was already decided: {self.decision}")
            raise Conflict(f"session {self.id} is not waiting for a decision")
        assert self.meeting is not None
        self._decide(
            meeting_id=UUID(str(self.meeting["meeting_id"])),
            case_id=self.case_id,
            decision=decision,
            decided_by=decided_by,
            note=note,
            decided_at=decided_at,
        )

    @event("Decided")
    def _decide(
        self,
        meeting_id: UUID,
        case_id: UUID,
        decision: str,
        decided_by: str,
        note: str | None,
        decided_at: datetime,
    ) -> None:
        self.decision = decision
        self.status = "decided"

    def dismiss(self, *, reason: str, decided_by: str, decided_at: datetime) -> None:
        """A person rules out billing a session whose price is not known (e.g. no contract)."""
        if self.status != "awaiting_price":
            raise Conflict(f"session {self.id} is not waiting for a price; it cannot be dismissed")
        meeting_id = None if self.meeting is None else UUID(str(self.meeting["meeting_id"]))
        self._dismiss(
            meeting_id=meeting_id,
            case_id=self.case_id,
            reason=reason,
            decided_by=decided_by,
            decided_at=decided_at,
        )

    @event("Dismissed")
    def _dismiss(
        self,
        meeting_id: UUID | None,
        case_id: UUID,
        reason: str,
        decided_by: str,
        decided_at: datetime,
    ) -> None:
        self.status = "dismissed"

    def report_apart(self, *, record: dict[str, Any], causation_id: str | None) -> None:
        """Record that another provider held the meeting: reported apart, never billed."""
        self._check_not_logged()
        if self.status != "received":
            raise Conflict(f"session {self.id} is {self.status}; it cannot be reported apart")
        self._report_apart(record=record, causation_id=causation_id)

    @event("ReportedApart")
    def _report_apart(self, record: dict[str, Any], causation_id: str | None) -> None:
        self.status = "reported_apart"
        self.apart = record

    def log(
        self,
        *,
        session: dict[str, Any],
        tariff_book_version: int,
        billed_before: Decimal,
        over_cap_hours: Decimal,
        causation_id: str | None,
    ) -> None:
        self._check_not_logged()
        self._log(
            session=session,
            tariff_book_version=tariff_book_version,
            billed_before=billed_before,
            over_cap_hours=over_cap_hours,
            causation_id=causation_id,
        )

    @event("Logged")
    def _log(
        self,
        session: dict[str, Any],
        tariff_book_version: int,
        billed_before: Decimal,
        over_cap_hours: Decimal,
        causation_id: str | None,
    ) -> None:
        self.logged = session
        self.status = "logged"
        self.waiting_in = None

    def recut(self, *, session: dict[str, Any], given_to: UUID, reason: str) -> None:
        """Re-book the logged session with fewer hours: it gave way at the yearly cap to a
        session performed before it that was recorded after it (cap_order.py)."""
        if self.logged is None:
            raise Conflict(f"session {self.id} is not logged; it has no hours to give way")
        self._recut(session=session, given_to=given_to, reason=reason)

    @event("Recut")
    def _recut(self, session: dict[str, Any], given_to: UUID, reason: str) -> None:
        self.logged = session

    def _check_not_logged(self) -> None:
        if self.logged is not None:
            raise Conflict(f"session {self.id} is already logged")
        if self.status == "dismissed":
            raise Conflict(f"session {self.id} was dismissed")


class CapAccount(Aggregate):
    """Hours billed against one programme's cap in one calendar year, and the warnings given."""

    @staticmethod
    def create_id(programme: str, year: int) -> UUID:
        return uuid5(NAMESPACE, f"cap/{programme}/{year}")

    @event("Opened")
    def __init__(self, programme: str, year: int) -> None:
        self.programme = programme
        self.year = year
        self.billed = Decimal(0)
        self.over_cap = Decimal(0)
        self.limit: Decimal | None = None
        self.warnings: list[dict[str, Any]] = []
        #: Hours billed per performed-on date (ISO), for the pace of the cap forecast.
        self.daily: dict[str, Decimal] = {}
        #: Every session's hours, in the order performed (who gives way to whom).
        self.ledger = CapLedger()

    @event("HoursBilled")
    def bill(
        self,
        session_id: UUID,
        billed_hours: Decimal,
        over_cap_hours: Decimal,
        limit_hours: Decimal,
        performed_on: date | None = None,
        performed_at: str | None = None,
        month: str | None = None,
    ) -> None:
        # ``performed_on`` was added later: hours billed before it carry no date, count in the
        # year's total and not in any pace. ``performed_at`` and ``month`` (the session's place
        # in the order performed, cap_order.py) later still: hours billed before them are
        # placed at the start of their day, or first.
        self.billed += billed_hours
        self.over_cap += over_cap_hours
        self.limit = limit_hours
        if performed_on is not None:
            day = performed_on.isoformat()
            self.daily[day] = self.daily.get(day, Decimal(0)) + billed_hours
        if performed_at is not None:
            key = (performed_at, session_id.hex)
        elif performed_on is not None:
            key = day_key(performed_on, session_id)
        else:
            key = ("", session_id.hex)
        on = performed_on or date(self.year, 1, 1)
        place = month or month_of_date(on)
        self.ledger.record(session_id.hex, key, place, on, billed_hours)

    def give_way(
        self, *, session_id: UUID, billed_hours: Decimal, given_to: UUID, performed_on: date
    ) -> None:
        """A billed session keeps only ``billed_hours``: one performed before it, recorded
        after it, took the rest (cap_order.py); never more than it had."""
        row = self.ledger.rows.get(session_id.hex)
        if row is None or not Decimal(0) <= billed_hours < row.billed:
            raise BillingError(f"session {session_id} cannot give way to {billed_hours} hours")
        self._give_way(
            session_id=session_id,
            billed_hours=billed_hours,
            given_to=given_to,
            performed_on=performed_on,
        )

    @event("HoursGivenWay")
    def _give_way(
        self, session_id: UUID, billed_hours: Decimal, given_to: UUID, performed_on: date
    ) -> None:
        given = self.ledger.give_way(session_id.hex, billed_hours)
        self.billed -= given
        self.over_cap += given
        day = performed_on.isoformat()
        self.daily[day] = self.daily.get(day, Decimal(0)) - given

    def warn(
        self,
        *,
        percent: int,
        billed_hours: Decimal,
        limit_hours: Decimal,
        session_id: UUID,
        performed_on: date,
    ) -> None:
        self._warn(
            programme=self.programme,
            year=self.year,
            percent=percent,
            billed_hours=billed_hours,
            limit_hours=limit_hours,
            session_id=session_id,
            performed_on=performed_on,
        )

    @event("ThresholdCrossed")
    def _warn(
        self,
        programme: str,
        year: int,
        percent: int,
        billed_hours: Decimal,
        limit_hours: Decimal,
        session_id: UUID,
        performed_on: date,
    ) -> None:
        self.warnings.append(
            {"percent": percent, "billed_hours": billed_hours, "limit_hours": limit_hours}
        )


class Settlement(Aggregate):
    """A month's settlement: what was booked on it, and, once closed, its document."""

    @staticmethod
    def create_id(month: str) -> UUID:
        return uuid5(NAMESPACE, f"settlement/{month}")

    @event("Opened")
    def __init__(self, month: str) -> None:
        self.month = month
        self.sessions: dict[str, dict[str, Any]] = {}
        self.adjustments: dict[str, dict[str, Any]] = {}
        self.awaiting_decision: dict[str, dict[str, Any]] = {}
        self.awaiting_price: dict[str, str] = {}
        #: Meetings other providers held, reported apart on this month (never billed).
        self.apart: dict[str, dict[str, Any]] = {}
        self.closed: dict[str, Any] | None = None

    @property
    def is_closed(self) -> bool:
        return self.closed is not None

    def book_session(self, session: dict[str, Any]) -> None:
        self._check_open()
        if session["settlement_month"] != self.month:
            raise BillingError(f"a session of {session['settlement_month']} is not {self.month}'s")
        self._book_session(session=session)

    @event("SessionBooked")
    def _book_session(self, session: dict[str, Any]) -> None:
        self.sessions[str(session["session_id"])] = session

    def book_adjustment(self, adjustment: dict[str, Any]) -> None:
        self._check_open()
        self._book_adjustment(adjustment=adjustment)

    @event("AdjustmentBooked")
    def _book_adjustment(self, adjustment: dict[str, Any]) -> None:
        self.adjustments[str(adjustment["adjustment_id"])] = adjustment

    def adjust(self, adjustment: dict[str, Any]) -> None:
        """Book a manual adjustment (adjustments.py) on this open month; the same one twice is
        refused. Booked as late sessions' adjustments are, so it is one of the month's lines."""
        self._check_open()
        if adjustment["month"] != self.month:
            raise BillingError(f"an adjustment for {adjustment['month']} is not {self.month}'s")
        if str(adjustment["adjustment_id"]) in self.adjustments:
            raise Conflict(
                f"an adjustment with reference {adjustment['reference']} for "
                f"{adjustment['belongs_to_month']} is already booked on {self.month}"
            )
        self._book_adjustment(adjustment=adjustment)

    def report_apart(self, record: dict[str, Any]) -> None:
        self._check_open()
        if record["settlement_month"] != self.month:
            raise BillingError(f"a record of {record['settlement_month']} is not {self.month}'s")
        self._report_apart(record=record)

    @event("TimeReportedApart")
    def _report_apart(self, record: dict[str, Any]) -> None:
        self.apart[str(record["session_id"])] = record

    def record_separately(self, record: dict[str, Any]) -> None:
        """Record a premises share or a state grant on this open month (separate.py)."""
        self._check_open()
        if record["settlement_month"] != self.month:
            raise BillingError(f"an amount for {record['settlement_month']} is not {self.month}'s")
        if str(record["item_id"]) in self.separate:
            raise Conflict(
                f"{record['kind']} {record['reference']} is already recorded on {self.month}"
            )
        self._record_separately(record=record)

    @event("AmountRecordedSeparately")
    def _record_separately(self, record: dict[str, Any]) -> None:
        self.separate[str(record["item_id"])] = record

    @property
    def separate(self) -> dict[str, dict[str, Any]]:
        """Premises shares and state grants recorded on this month (never lines)."""
        found: dict[str, dict[str, Any]] = self.__dict__.setdefault("_separate", {})
        return found

    def await_decision(self, pending: dict[str, Any]) -> None:
        self._check_open()
        self._await_decision(pending=pending)

    @event("DecisionAwaited")
    def _await_decision(self, pending: dict[str, Any]) -> None:
        self.awaiting_decision[str(pending["meeting_id"])] = pending

    def resolve_decision(self, meeting_id: UUID) -> None:
        """Take a decided session off the pending list; a closed month's list stays as closed."""
        if self.closed is None and str(meeting_id) in self.awaiting_decision:
            self._resolve_decision(meeting_id=meeting_id)

    @event("DecisionResolved")
    def _resolve_decision(self, meeting_id: UUID) -> None:
        self.awaiting_decision.pop(str(meeting_id), None)

    def await_price(self, session_id: UUID, reason: str) -> None:
        self._check_open()
        self._await_price(session_id=session_id, reason=reason)

    @event("PriceAwaited")
    def _await_price(self, session_id: UUID, reason: str) -> None:
        self.awaiting_price[str(session_id)] = reason

    def resolve_price(self, session_id: UUID) -> None:
        if self.closed is None and str(session_id) in self.awaiting_price:
            self._resolve_price(session_id=session_id)

    @event("PriceResolved")
    def _resolve_price(self, session_id: UUID) -> None:
        self.awaiting_price.pop(str(session_id), None)

    def close(
        self,
        *,
        document: str,
        documents: dict[str, str],
        digest: str,
        closed_at: datetime,
        closed_by: str | None,
        tariff_book_version: int,
        cap_usage: list[dict[str, Any]],
        grace: dict[str, Any] | None = None,
    ) -> None:
        self._check_open()
        if self.awaiting_price:
            reasons = "; ".join(sorted(set(self.awaiting_price.values())))
            raise Conflict(
                f"{self.month} cannot be closed: {counted(len(self.awaiting_price), 'session')} "
                f"{'waits' if len(self.awaiting_price) == 1 else 'wait'} for "
                f"a price ({reasons}); record the missing tariff first"
            )
        self._close(
            document=document,
            documents=documents,
            digest=digest,
            closed_at=closed_at,
            closed_by=closed_by,
            tariff_book_version=tariff_book_version,
            cap_usage=cap_usage,
            grace=grace,
        )

    @event("Closed")
    def _close(
        self,
        document: str,
        documents: dict[str, str],
        digest: str,
        closed_at: datetime,
        closed_by: str | None,
        tariff_book_version: int,
        cap_usage: list[dict[str, Any]],
        grace: dict[str, Any] | None = None,
    ) -> None:
        # ``grace`` (the grace window in force and how the month closed) was added later; a
        # month closed before it has none.
        self.closed = {
            "document": document,
            "documents": documents,
            "digest": digest,
            "closed_at": closed_at,
            "closed_by": closed_by,
            "tariff_book_version": tariff_book_version,
            "cap_usage": cap_usage,
            "grace": grace,
        }

    def _check_open(self) -> None:
        if self.closed is not None:
            raise MonthClosed(f"{self.month} is closed; a closed month never changes")


class Worklist(Aggregate):
    """Sessions waiting for a person: a decision on a group session, or a missing price."""

    @staticmethod
    def create_id(**_: object) -> UUID:
        return WORKLIST_ID

    @event("Opened")
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    @event("ItemAdded")
    def add(
        self,
        session_id: UUID,
        meeting_id: UUID | None,
        case_id: UUID,
        need: str,
        month: str,
        reason: str,
    ) -> None:
        self.items[str(session_id)] = {
            "session_id": str(session_id),
            "meeting_id": None if meeting_id is None else str(meeting_id),
            "case_id": str(case_id),
            "need": need,
            "month": month,
            "reason": reason,
        }

    def clear(self, session_id: UUID) -> None:
        if str(session_id) in self.items:
            self._clear(session_id=session_id)

    @event("ItemCleared")
    def _clear(self, session_id: UUID) -> None:
        self.items.pop(str(session_id), None)
