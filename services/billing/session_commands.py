"""People's commands on sessions: logged time, a decision on a flagged group session, a
dismissal of a session whose price is not known; and the reads of a session and the worklist.

A command on a month whose grace window has ended closes that month first (``closing.py``), so
that what it books lands as an adjustment on the first open month.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from pydantic import ValidationError

from events.codec import describe
from events.scheduling import MeetingHeld
from infra.calendar import local_date, month_of
from infra.months import month_of_date
from services.billing import views
from services.billing.booking import Booker
from services.billing.books import Books
from services.billing.closing import close_due
from services.billing.domain_accounts import CaseAccount
from services.billing.domain_session import Session
from services.billing.errors import BillingError, Conflict, NotFound
from services.billing.pricing import bills_for_leanlink, session_id_for
from services.billing.pricing_groups import DECISIONS, DecisionRefused, check_decision
from services.billing.session_sources import LoggedTime, time_session_id


def log_time(
    app: Books,
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
    close_due(app, [month_of_date(performed_on)])

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
        if performed_on > local_date(app.clock()):
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

    return app.transact(change)


def decide(
    app: Books, *, meeting_id: UUID, decision: str, decided_by: str, note: str | None = None
) -> dict[str, Any]:
    """Record a person's decision on a flagged group session, then price it accordingly."""
    if decision not in DECISIONS:
        raise BillingError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    if not decided_by.strip():
        raise BillingError("decided_by must name the person who decided")
    close_due(app, app.query(lambda booker: _meeting_month(booker, meeting_id)))

    def change(booker: Booker) -> dict[str, Any]:
        session = booker.uow.get(session_id_for(meeting_id), Session)
        if session is None or session.meeting is None:
            raise NotFound(f"no held meeting {meeting_id} is known to billing")
        if session.status == "awaiting_decision":
            try:  # the group rule allows no group billing of fewer than 5 participants
                check_decision(decision, int(session.meeting["participants"]))
            except DecisionRefused as exc:
                raise BillingError(str(exc)) from exc
        session.decide(decision=decision, decided_by=decided_by, note=note, decided_at=app.clock())
        booker.price(session, None)
        return views.session_view(session)

    return app.transact(change)


def dismiss(app: Books, *, session_id: UUID, reason: str, decided_by: str) -> dict[str, Any]:
    """Rule out billing a session whose price is not known; its month may then close."""
    if not reason.strip() or not decided_by.strip():
        raise BillingError("a dismissal needs a reason and the person who decided it")

    def change(booker: Booker) -> dict[str, Any]:
        session = booker.uow.get(session_id, Session)
        if session is None:
            raise NotFound(f"session {session_id} is not known to billing")
        waiting_in = session.waiting_in
        session.dismiss(reason=reason, decided_by=decided_by, decided_at=app.clock())
        if waiting_in is not None:
            booker.settlement(waiting_in).resolve_price(session.id)
        booker.worklist().clear(session.id)
        return views.session_view(session)

    return app.transact(change)


def _meeting_month(booker: Booker, meeting_id: UUID) -> list[str]:
    """The month of a held meeting known to billing (none if it is not known)."""
    found = booker.uow.get(session_id_for(meeting_id), Session)
    if found is None or found.meeting is None:
        return []
    held = MeetingHeld.model_validate(found.meeting)
    return [month_of(held.started_at)]


def session(app: Books, session_id: UUID) -> dict[str, Any]:
    """A session as billing holds it: its status, where it waits, its decision and price."""

    def read(booker: Booker) -> dict[str, Any]:
        found = booker.uow.get(session_id, Session)
        if found is None:
            raise NotFound(f"session {session_id} is not known to billing")
        return views.session_view(found)

    return app.query(read)


def worklist(app: Books) -> list[dict[str, Any]]:
    """Sessions waiting for a person: a decision, or a price that is not known."""
    return app.query(views.worklist)


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
