"""Billing's application: what it does with intake's and scheduling's events."""

from __future__ import annotations

from typing import Any, ClassVar

from events.codec import Envelope
from events.messages import MeetingHeld, ReferralReceived
from infra.application import Handler, ServiceApplication, UnitOfWork
from services.billing.domain import CaseAccount


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


def when_meeting_held_record_it(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    held: MeetingHeld = envelope.message
    account = uow.get(held.case_id, CaseAccount)
    if account is None:  # scheduling's event overtook intake's
        account = CaseAccount(
            case_id=held.case_id, programme=held.programme, causation_id=str(envelope.id)
        )
        uow.add(account)
    if held.meeting_id not in account.meetings:
        account.record_meeting(held.meeting_id, held.started_at, held.ended_at, str(envelope.id))


class Billing(ServiceApplication):
    name = "billing"
    handlers: ClassVar[dict[str, Handler]] = {
        ReferralReceived.type_name: when_referral_received_open_account,
        MeetingHeld.type_name: when_meeting_held_record_it,
    }
