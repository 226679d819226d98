"""Intake's application: answer every referral, once, and publish the answer.

A referral's answer is keyed by (source, referral_id): the first answer stands, and a repeat
(on the stream, over HTTP, or both) creates nothing new. Persons leave intake only as
pseudonymous ``person_ref`` UUIDs: a keyed hash of the personal number, so the same person gets
the same reference in every case, and nobody without intake's key can compute it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from pydantic import ValidationError

from events.codec import DecodeError, Envelope, decode
from events.messages import (
    HouseholdMember,
    Message,
    Reason,
    ReferralReceived,
    ReferralRejected,
    SubmitReferral,
)
from infra.application import Handler, Outgoing, ServiceApplication, Translator, UnitOfWork
from infra.calendar import local_date
from infra.topology import INTAKE_EVENTS, REFERRALS
from services.intake.domain import Case, DeadReferral, RejectedReferral, referral_key
from services.intake.rules import (
    Accepted,
    IntakePolicy,
    evaluate,
    malformed,
    parse_personal_number,
)


class UnreadableReferral(Message):
    """Internal: a referral whose payload is not a valid SubmitReferral but says who sent it."""

    source: str
    referral_id: str
    reasons: list[Reason]


def when_referral_submitted_answer(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    app: Intake = uow.app  # type: ignore[assignment]
    message = envelope.message
    key = referral_key(message.source, message.referral_id)
    if uow.get(key, Aggregate) is not None:
        return  # answered before (accepted or rejected): the first answer stands
    received_at = app.clock()
    outcome = (
        evaluate(message, received_at=received_at, policy=app.policy)
        if isinstance(message, SubmitReferral)
        else None
    )
    if isinstance(outcome, Accepted):
        uow.add(
            Case(
                case_id=key,
                source=message.source,
                referral_id=message.referral_id,
                programme=outcome.programme,
                basis=outcome.basis,
                urgency=outcome.urgency,
                priority=outcome.priority,
                received_at=received_at,
                first_contact_due=outcome.first_contact_due,
                ack_due=outcome.ack_due,
                household=[
                    {
                        "person_ref": str(app.person_ref(m.personal_number)),
                        "personal_number": m.personal_number,
                        "name": _name_of(message, m.personal_number, received_at),
                        "role": m.role,
                        "age": m.age,
                    }
                    for m in outcome.household
                ],
                indicators_met=list(outcome.indicators_met),
                consent=outcome.consent,
                causation_id=str(envelope.id),
            )
        )
        return
    reasons = outcome.reasons if outcome is not None else tuple(message.reasons)
    uow.add(
        RejectedReferral(
            key=key,
            source=message.source,
            referral_id=message.referral_id,
            received_at=received_at,
            reasons=[r.model_dump() for r in reasons],
            causation_id=str(envelope.id),
        )
    )


def _name_of(referral: SubmitReferral, personal_number: str, received_at: datetime) -> str | None:
    day = local_date(received_at)
    for person in referral.persons:
        parsed = parse_personal_number(person.personal_number, day)
        if not isinstance(parsed, str) and parsed[0] == personal_number:
            return person.name
    return None


def _referral_received(event: Case.Opened) -> Outgoing:  # type: ignore[name-defined]
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
        ),
        correlation_id=str(event.case_id),
        causation_id=event.causation_id,
    )


def _referral_rejected(event: RejectedReferral.Recorded) -> Outgoing:  # type: ignore[name-defined]
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


class Intake(ServiceApplication):
    name = "intake"
    handlers: ClassVar[Mapping[str, Handler]] = {
        SubmitReferral.type_name: when_referral_submitted_answer,
        UnreadableReferral.type_name: when_referral_submitted_answer,
    }
    public_events: ClassVar[Mapping[type[Any], Translator]] = {
        Case.Opened: _referral_received,  # type: ignore[attr-defined]
        RejectedReferral.Recorded: _referral_rejected,  # type: ignore[attr-defined]
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        policy: IntakePolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(env)
        self.policy = policy or IntakePolicy()
        self.clock = clock
        secret = base64.b64decode(self.env.get("CIPHER_KEY") or "")
        self._pseudonym_key = hmac.new(secret, b"lots person_ref v1", hashlib.sha256).digest()

    def person_ref(self, personal_number: str) -> UUID:
        digest = hmac.new(self._pseudonym_key, personal_number.encode(), hashlib.sha256).digest()
        return UUID(bytes=digest[:16], version=4)

    def decode(self, stream: str, fields: Mapping[Any, Any]) -> Envelope[Any]:
        try:
            return decode(fields)
        except DecodeError as exc:
            if stream != REFERRALS or not isinstance(exc.__cause__, ValidationError):
                raise
            sender = _sender(fields)
            if sender is None:
                raise
            envelope_id = _envelope_id(fields, sender)
            reasons = malformed(exc.__cause__)
            return Envelope(
                UnreadableReferral(source=sender[0], referral_id=sender[1], reasons=reasons),
                id=envelope_id,
            )

    def redact_dead_letter(self, stream: str, fields: dict[str, str], error: str) -> dict[str, str]:
        """Referrals may carry personal data: keep the entry here, encrypted; name it on Redis."""
        if stream != REFERRALS:
            return fields
        with self.lock:
            kept = DeadReferral(stream=stream, fields=fields, error=error)
            self.save(kept)
        return {"type": fields.get("type", "")[:100], "dead_letter_ref": str(kept.id)}


def _sender(fields: Mapping[Any, Any]) -> tuple[str, str] | None:
    raw = fields.get(b"data", fields.get("data"))
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    source, referral_id = data.get("source"), data.get("referral_id")
    if isinstance(source, str) and isinstance(referral_id, str) and source and referral_id:
        return source[:200], referral_id[:200]
    return None


def _envelope_id(fields: Mapping[Any, Any], sender: tuple[str, str]) -> UUID:
    raw = fields.get(b"id", fields.get("id"))
    try:
        return UUID(raw.decode() if isinstance(raw, bytes) else str(raw))
    except (ValueError, AttributeError):
        return uuid5(referral_key(*sender), "unreadable")
