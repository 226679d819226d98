"""What scheduling does when intake's events arrive: queue a received case, let a closed one go.

Both handlers are idempotent and tolerate either order: a CaseClosed that overtakes its
ReferralReceived is kept and applied when the case arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from events.codec import Envelope
from events.intake import CaseClosed, ReferralReceived
from infra.batches import Handler, Lookup
from infra.unit_of_work import UnitOfWork
from services.scheduling.desk import Desk
from services.scheduling.domain import EarlyClosure, WaitingCase
from services.scheduling.outcomes import cancel_booked
from services.scheduling.ports import Schedule

#: Roles of the adults a first contact is with: two of them make it a couple's conversation.
ADULT_ROLES = frozenset({"guardian", "partner"})


def when_referral_received_queue_case(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    referral: ReferralReceived = envelope.message
    if uow.get(referral.case_id, WaitingCase) is not None:
        return
    case = WaitingCase(
        case_id=referral.case_id,
        programme=referral.programme,
        priority=referral.priority,
        received_at=referral.received_at,
        first_contact_due=referral.first_contact_due,
        causation_id=str(envelope.id),
        adults=sum(1 for m in referral.household if m.role in ADULT_ROLES),
        urgency=referral.urgency,
    )
    uow.add(case)
    early = uow.get(EarlyClosure.create_id(referral.case_id), EarlyClosure)
    if early is not None:
        case.close(early.closed_at, early.outcome, str(envelope.id))


def when_case_closed_leave_queue(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    """Close the case and cancel its meetings that had not begun when it was closed."""
    closed: CaseClosed = envelope.message
    case = uow.get(closed.case_id, WaitingCase)
    if case is None:
        if uow.get(EarlyClosure.create_id(closed.case_id), EarlyClosure) is None:
            uow.add(
                EarlyClosure(closed.case_id, closed.closed_at, closed.outcome, str(envelope.id))
            )
        return
    if case.closed_at is not None:
        return
    case.close(closed.closed_at, closed.outcome, str(envelope.id))
    app = cast(Schedule, uow.app)
    desk = Desk(uow, app.policy, app.clock())
    for meeting_id in list(case.live):
        meeting = desk.meeting(meeting_id)
        if meeting.starts_at > closed.closed_at:
            reason = f"the case was closed ({closed.outcome})"
            cancel_booked(desk, meeting, "administration", reason, str(envelope.id))


HANDLERS: Mapping[str, Handler] = {
    ReferralReceived.type_name: when_referral_received_queue_case,
    CaseClosed.type_name: when_case_closed_leave_queue,
}


def _case_and_early_closure(message: Any) -> tuple[Any, ...]:
    return message.case_id, EarlyClosure.create_id(message.case_id)


#: What each handler looks up, so that a batch asks the store once which of them exist.
LOOKUPS: Mapping[str, Lookup] = {
    ReferralReceived.type_name: _case_and_early_closure,
    CaseClosed.type_name: _case_and_early_closure,
}
