"""Scheduling's application: what it does with intake's events."""

from __future__ import annotations

from typing import Any, ClassVar

from events.codec import Envelope
from events.messages import ReferralReceived
from infra.application import Handler, ServiceApplication, UnitOfWork
from services.scheduling.domain import WaitingCase


def when_referral_received_queue_case(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    referral: ReferralReceived = envelope.message
    if uow.get(referral.case_id, WaitingCase) is not None:
        return
    uow.add(
        WaitingCase(
            case_id=referral.case_id,
            programme=referral.programme,
            priority=referral.priority,
            received_at=referral.received_at,
            first_contact_due=referral.first_contact_due,
            causation_id=str(envelope.id),
        )
    )


class Scheduling(ServiceApplication):
    name = "scheduling"
    handlers: ClassVar[dict[str, Handler]] = {
        ReferralReceived.type_name: when_referral_received_queue_case,
    }
