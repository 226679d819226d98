"""Intake's handlers of what arrives on its streams: a referral answered once, a meeting held
and a session logged followed on the case.

Each handler is a function over the unit of work; what it needs of the application it reads
through :class:`~services.intake.ports.Answering`. The application assembles :data:`HANDLERS`
and :data:`LOOKUPS` with those of its feature modules (terms, polare).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate

from events.billing import SessionLogged
from events.codec import Envelope
from events.referrals import SubmitReferral
from events.scheduling import MeetingHeld
from infra.batches import Handler, Lookup
from infra.unit_of_work import UnitOfWork
from services.intake import terms
from services.intake.domain import RateLimitedReferral
from services.intake.domain_case import Case
from services.intake.eligibility import RULE_ID, policy_at
from services.intake.inbound import UnreadableReferral
from services.intake.ports import Answering
from services.intake.reasons import rate_limited
from services.intake.records import open_case
from services.intake.reevaluation import answer_in, awaiting_id, rejection
from services.intake.referral_keys import referral_key
from services.intake.resubmission import answer_again
from services.intake.rules import Accepted, evaluate


def when_referral_submitted_answer(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    app = cast(Answering, uow.app)
    message = envelope.message
    key = referral_key(message.source, message.referral_id)
    content = app.fingerprint(message)
    received_at = app.clock()
    answered = answer_in(uow, message.source, message.referral_id)
    if answered is not None:
        # The first answer stands: given again, or this other referral refused. Outside the
        # rate limit, which guards evaluating referrals: this is answered from the record.
        answer_again(uow, str(envelope.id), answered, content, received_at)
        return
    wait = app.limiter.admit(message.source, received_at)
    if wait is not None:
        _refuse(uow, app, envelope, key, received_at, wait, content)
        return
    outcome = None
    if isinstance(message, SubmitReferral):
        # Nothing but an exception can be stored there now: a referral waiting for one is
        # an answer (above).
        exception = uow.get(awaiting_id(message.source, message.referral_id), Aggregate)
        outcome = evaluate(
            message,
            received_at=received_at,
            policy=policy_at(app, uow, received_at),
            residency_exception=exception is not None,
        )
    if isinstance(outcome, Accepted):
        uow.add(open_case(app, message, outcome, received_at, str(envelope.id), content))
        return
    reasons = outcome.reasons if outcome is not None else tuple(message.reasons)
    uow.add(rejection(app, message, received_at, reasons, str(envelope.id), content))


def _refuse(
    uow: UnitOfWork,
    app: Answering,
    envelope: Envelope[Any],
    key: UUID,
    received_at: datetime,
    wait: timedelta,
    content: str,
) -> None:
    """Record the rate limit's refusal: published as ``ReferralRejected`` (``rate_limited``),
    never the referral's answer."""
    message = envelope.message
    rate = app.limiter.rate_of(message.source)
    assert rate is not None  # only a limited source is refused
    reasons = [rate_limited(rate.per_minute, rate.burst, wait).model_dump()]
    wait_ms = -(-wait // timedelta(milliseconds=1))
    refused = uow.get(RateLimitedReferral.create_id(key), RateLimitedReferral)
    if refused is None:
        uow.add(
            RateLimitedReferral(
                key=key,
                source=message.source,
                referral_id=message.referral_id,
                received_at=received_at,
                retry_after_ms=wait_ms,
                reasons=reasons,
                causation_id=str(envelope.id),
                fingerprint=content,
            )
        )
    else:
        refused.refuse(received_at, wait_ms, reasons, str(envelope.id), content)


def when_meeting_held_update_case(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    held: MeetingHeld = envelope.message
    case = uow.get(held.case_id, Case)
    if case is None:
        return  # not a case of intake's (or opened elsewhere): nothing to follow
    case.record_meeting(
        str(held.meeting_id),
        held.kind,
        held.started_at,
        held.ended_at,
        held.client_visits,
        str(envelope.id),
    )


def when_session_logged_count_time(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    logged: SessionLogged = envelope.message
    if logged.meeting_id is not None:
        return  # the meeting itself is counted from MeetingHeld
    case = uow.get(logged.case_id, Case)
    if case is not None:
        case.record_logged_time(str(logged.session_id), logged.minutes, str(envelope.id))


HANDLERS: Mapping[str, Handler] = {
    SubmitReferral.type_name: when_referral_submitted_answer,
    UnreadableReferral.type_name: when_referral_submitted_answer,
    MeetingHeld.type_name: when_meeting_held_update_case,
    SessionLogged.type_name: when_session_logged_count_time,
}

#: What the handlers look up, so that a batch asks the store once which of them exist.
LOOKUPS: Mapping[str, Lookup] = {
    SubmitReferral.type_name: lambda r: (
        referral_key(r.source, r.referral_id),
        awaiting_id(r.source, r.referral_id),
        RateLimitedReferral.create_id(referral_key(r.source, r.referral_id)),
        RULE_ID,
        terms.TERMS_ID,
    ),
    UnreadableReferral.type_name: lambda r: (
        referral_key(r.source, r.referral_id),
        awaiting_id(r.source, r.referral_id),
        RateLimitedReferral.create_id(referral_key(r.source, r.referral_id)),
    ),
    MeetingHeld.type_name: lambda held: (held.case_id,),
    SessionLogged.type_name: lambda logged: (logged.case_id,),
}
