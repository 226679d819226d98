"""What billing does when another service's event arrives.

Both handlers tolerate duplicates and any order: a case's account is opened by whichever of
its referral or its first meeting arrives first, and a meeting reaches the session whose id
derives from the meeting id, so a meeting seen again (under any message id) changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from events.codec import Envelope
from events.intake import ReferralReceived
from events.scheduling import MeetingHeld
from infra.batches import Lookup
from infra.unit_of_work import UnitOfWork
from services.billing.booking import Booking
from services.billing.domain_accounts import CaseAccount
from services.billing.domain_session import Session
from services.billing.pricing import session_id_for


def when_referral_received_open_account(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    referral: ReferralReceived = envelope.message
    if uow.get(referral.case_id, CaseAccount) is None:
        uow.add(
            CaseAccount(
                case_id=referral.case_id,
                programme=referral.programme,
                causation_id=str(envelope.id),
            )
        )


def when_meeting_held_log_session(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    held: MeetingHeld = envelope.message
    account = uow.get(held.case_id, CaseAccount)
    if account is None:  # scheduling's event overtook intake's
        account = CaseAccount(
            case_id=held.case_id, programme=held.programme, causation_id=str(envelope.id)
        )
        uow.add(account)
    if held.meeting_id not in account.meetings:
        account.record_meeting(held.meeting_id, held.started_at, held.ended_at, str(envelope.id))
    booker = cast(Booking, uow.app).booker(uow)
    if held.programme not in booker.catalogue.hourly_programmes():
        return  # paid by a fixed sum: its meetings carry no price of their own
    session_id = session_id_for(held.meeting_id)
    if uow.get(session_id, Session) is not None:
        return  # the same meeting again (a re-publication under another id)
    session = Session(
        session_id=session_id,
        case_id=held.case_id,
        meeting=held.model_dump(mode="json"),
        time_entry=None,
        causation_id=str(envelope.id),
    )
    uow.add(session)
    booker.price(session, str(envelope.id))


#: What each handler looks up, so that a batch asks the store once which of them exist.
LOOKUPS: Mapping[str, Lookup] = {
    ReferralReceived.type_name: lambda referral: (referral.case_id,),
    MeetingHeld.type_name: lambda held: (held.case_id, session_id_for(held.meeting_id)),
}
