"""Intake's domain events as the public messages other services read on ``intake.events``.

The one place where intake translates outwards: personal numbers and names stop here, and a
person leaves intake only as its pseudonymous ``person_ref``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from events.intake import (
    AcknowledgementOverdue,
    CaseAcknowledged,
    CaseClosed,
    HouseholdMember,
    Reason,
    ReferralReceived,
    ReferralRejected,
)
from infra.outbox import Outgoing, Translator
from infra.topology import INTAKE_EVENTS
from services.intake import event_types as stored
from services.intake.domain import RateLimitedReferral, RejectedReferral
from services.intake.domain_case import Case
from services.intake.records import has_records
from services.intake.registers_public import REGISTER_EVENTS


def referral_received(event: stored.CaseOpened) -> Outgoing:
    has = has_records(event)
    return Outgoing(
        INTAKE_EVENTS,
        ReferralReceived(
            case_id=event.case_id,
            source=event.source,
            referral_id=event.referral_id,
            programme=event.programme,
            basis=event.basis,
            urgency=event.urgency,
            priority=event.priority,
            received_at=event.received_at,
            first_contact_due=event.first_contact_due,
            household=[
                HouseholdMember(person_ref=m["person_ref"], role=m["role"], age=m["age"])
                for m in event.household
            ],
            consent=event.consent,
            # Whether the referral gave its records, never their text (services/intake/records).
            has_decision_ref=has["decision_ref"],
            has_consent_form_ref=has["consent_form_ref"],
            has_consent_given_at=has["consent_given_at"],
            has_note=has["note"],
            residency_exception_id=getattr(event, "residency_exception_id", None),
            supersedes=getattr(event, "supersedes", None),
            # A programme with no contract in force on the day received (rules.py).
            no_contract_in_force=getattr(event, "no_contract_in_force", None),
        ),
        correlation_id=str(event.case_id),
        causation_id=event.causation_id,
    )


def referral_rejected(event: stored.Rejection) -> Outgoing:
    return Outgoing(
        INTAKE_EVENTS,
        ReferralRejected(
            source=event.source,
            referral_id=event.referral_id,
            received_at=event.received_at,
            reasons=[Reason(**r) for r in event.reasons],
        ),
        correlation_id=str(event.key),
        causation_id=event.causation_id,
    )


def exception_granted(event: stored.ExceptionGranted) -> Outgoing | None:
    """A referral rejected as not resident, evaluated again when its residency exception was
    recorded and still rejected: the new reasons, caused by the exception. (Accepted, the
    case's opening is the answer: :func:`referral_received`.)"""
    if not event.reasons:
        return None
    return Outgoing(
        INTAKE_EVENTS,
        ReferralRejected(
            source=event.source,
            referral_id=event.referral_id,
            received_at=event.received_at,
            reasons=[Reason(**r) for r in event.reasons],
            residency_exception_id=event.originator_id,
            supersedes=event.supersedes,
        ),
        correlation_id=str(event.key),
        causation_id=str(event.originator_id),
    )


def case_acknowledged(event: stored.CaseAcknowledged) -> Outgoing:
    return Outgoing(
        INTAKE_EVENTS,
        CaseAcknowledged(
            case_id=event.originator_id,
            acknowledged_at=event.at,
            ack_due=event.ack_due,
            within_deadline=event.within_deadline,
        ),
        correlation_id=str(event.originator_id),
    )


def acknowledgement_overdue(event: stored.CaseAcknowledgementOverdue) -> Outgoing:
    return Outgoing(
        INTAKE_EVENTS,
        AcknowledgementOverdue(
            case_id=event.originator_id, ack_due=event.ack_due, detected_at=event.detected_at
        ),
        correlation_id=str(event.originator_id),
    )


def case_closed(event: stored.CaseClosed) -> Outgoing:
    return Outgoing(
        INTAKE_EVENTS,
        CaseClosed(case_id=event.originator_id, outcome=event.outcome, closed_at=event.closed_at),
        correlation_id=str(event.originator_id),
    )


PUBLIC_EVENTS: Mapping[type[Any], Translator] = {
    Case.Opened: referral_received,  # type: ignore[attr-defined]
    Case.Acknowledged: case_acknowledged,  # type: ignore[attr-defined]
    Case.AcknowledgementOverdue: acknowledgement_overdue,  # type: ignore[attr-defined]
    Case.Closed: case_closed,  # type: ignore[attr-defined]
    RejectedReferral.Recorded: referral_rejected,  # type: ignore[attr-defined]
    RejectedReferral.ExceptionGranted: exception_granted,  # type: ignore[attr-defined]
    # The rate limit's transient refusals: ReferralRejected with the reason rate_limited.
    RateLimitedReferral.Refused: referral_rejected,  # type: ignore[attr-defined]
    RateLimitedReferral.RefusedAgain: referral_rejected,  # type: ignore[attr-defined]
    **REGISTER_EVENTS,
}
