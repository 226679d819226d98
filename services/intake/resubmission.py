"""A referral sent again: the same one is answered again, a different one is refused.

Once a referral has its answer (a :class:`~services.intake.domain_case.Case` or a
:class:`~services.intake.domain.RejectedReferral`, keyed by ``(source, referral_id)``; a
rejection only as not resident waits under its residency exception's id and is replaced by the
answer given when the exception is recorded, :mod:`services.intake.reevaluation`), another
message under the same key is one of two things:

* **the same referral again** (a sender that missed its answer): it gets the first answer
  again, as a new message caused by it (:class:`RepeatedReferral`: the same outcome, case id
  and reasons, with ``repeat_of`` naming the answer it repeats);
* **a different referral** under a key already used: it is refused with
  ``conflicting_resubmission`` (:class:`ConflictingReferral`), and the first referral's answer,
  case and ``GET /referrals/...`` stay as they were.

Both are recorded, one aggregate per message (keyed by the message id), so that a replay or a
republished outbox gives the same answers under the same ids.

**What counts as the same referral**: its content, fingerprinted as a keyed hash (HMAC-SHA256
with a key derived from intake's ``CIPHER_KEY``, so the fingerprint of a personal number cannot
be guessed by anyone without it) of the canonical JSON (keys sorted, no spaces) of the message
*as validated*: whitespace, the order of keys, unknown fields and defaults written out or left
implicit change nothing; every field intake reads counts, persons and their order, names and
the note included. One field is left out: ``submitted_at``, when the sender sent it. A sender
that stamps each attempt anew is still sending the same referral, and intake records nothing of
that time (deadlines run from receipt). A referral that could not be read (answered
``malformed``) is fingerprinted over its JSON as sent, without ``submitted_at`` likewise.
Referrals answered before fingerprints were kept have none: a message under their key is taken
as the same referral, as it was then.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from events.intake import ReferralReceived, ReferralRejected
from events.referrals import SubmitReferral
from infra.batches import Incoming, Refusal
from infra.outbox import Outgoing, Translator
from infra.topology import INTAKE_EVENTS
from infra.unit_of_work import UnitOfWork
from services.intake import event_types as stored
from services.intake.domain import RateLimitedReferral, RejectedReferral, ResidencyException
from services.intake.domain_case import Case
from services.intake.inbound import UnreadableReferral
from services.intake.public import referral_rejected
from services.intake.reasons import conflicting_resubmission
from services.intake.referral_keys import REFERRAL_NAMESPACE, referral_key

#: The field of a referral that is not its content (see the module docstring).
NOT_CONTENT = "submitted_at"
#: The error a message id used again for other content is dead-lettered with.
REUSED_ID = Refusal(
    "reused_message_id: this message id was already used for another referral; "
    "send each message under an id of its own"
)
_ANSWERS: Mapping[str, type[ReferralReceived | ReferralRejected]] = {
    ReferralReceived.type_name: ReferralReceived,
    ReferralRejected.type_name: ReferralRejected,
}


def fingerprint_key(secret: bytes) -> bytes:
    """The key of referral fingerprints, derived from intake's cipher key."""
    return hmac.new(secret, b"lots referral fingerprint v1", hashlib.sha256).digest()


def fingerprint(key: bytes, referral: SubmitReferral) -> str:
    """The fingerprint of a validated referral's content."""
    return _digest(key, b"valid", referral.model_dump(mode="json", exclude={NOT_CONTENT}))


def raw_fingerprint(key: bytes, data: Mapping[str, Any]) -> str:
    """The fingerprint of an unreadable referral's JSON object, as sent."""
    return _digest(key, b"unreadable", {k: v for k, v in data.items() if k != NOT_CONTENT})


def _digest(key: bytes, kind: bytes, content: Any) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, kind + b"\0" + canonical.encode(), hashlib.sha256).hexdigest()


def same_content(answer: Aggregate, fingerprint: str) -> bool:
    """Whether ``fingerprint`` is the answered referral's (or it was answered without one)."""
    recorded = getattr(answer, "fingerprint", None)
    return recorded is None or recorded == fingerprint


def resubmission_id(message_id: str) -> UUID:
    """The aggregate of what one message sent again was answered (either kind)."""
    return uuid5(REFERRAL_NAMESPACE, f"resubmission/{message_id}")


class RepeatedReferral(Aggregate):
    """The first answer, given again to the same referral sent again under a new message id."""

    @staticmethod
    def create_id(message_id: str, **_: object) -> UUID:
        return resubmission_id(message_id)

    @event("AnsweredAgain")
    def __init__(
        self,
        message_id: str,
        key: UUID,
        received_at: datetime,
        fingerprint: str,
        answer_type: str,
        answer: dict[str, Any],
        repeat_of: str,
        causation_id: str,
    ) -> None:
        self.key = key
        self.fingerprint = fingerprint


class ConflictingReferral(Aggregate):
    """A different referral under a ``(source, referral_id)`` already answered: refused."""

    @staticmethod
    def create_id(message_id: str, **_: object) -> UUID:
        return resubmission_id(message_id)

    @event("Refused")
    def __init__(
        self,
        message_id: str,
        key: UUID,
        source: str,
        referral_id: str,
        received_at: datetime,
        fingerprint: str,
        reasons: list[dict[str, str]],
        causation_id: str,
    ) -> None:
        self.key = key
        self.fingerprint = fingerprint


def answer_again(
    uow: UnitOfWork,
    message_id: str,
    answer: Case | RejectedReferral,
    fingerprint: str,
    received_at: datetime,
) -> None:
    """Record the answer to a message under a key already answered: the first answer again for
    the same content, ``conflicting_resubmission`` for other content."""
    key = answer.key if isinstance(answer, RejectedReferral) else answer.id
    if not same_content(answer, fingerprint):
        uow.add(
            ConflictingReferral(
                message_id=message_id,
                key=key,
                source=answer.source,
                referral_id=answer.referral_id,
                received_at=received_at,
                fingerprint=fingerprint,
                reasons=[conflicting_resubmission().model_dump()],
                causation_id=message_id,
            )
        )
        return
    app: Any = uow.app
    first = _answer_event(app, answer)
    original: Outgoing = app.public_events[type(first)](first)
    uow.add(
        RepeatedReferral(
            message_id=message_id,
            key=key,
            received_at=received_at,
            fingerprint=fingerprint,
            answer_type=original.message.type_name,
            answer=original.message.model_dump(mode="json"),
            repeat_of=str(app.message_id(first)),
            causation_id=message_id,
        )
    )


def _answer_event(app: Any, answer: Aggregate) -> Any:
    """The event the answer standing was published from (it may be in this unit of work,
    unsaved): a case's opening; a rejection's, or its reasons when its residency exception was
    recorded and it was still rejected (:mod:`services.intake.reevaluation`)."""
    pending = answer.pending_events
    if pending and pending[0].originator_version == 1:
        return pending[0]
    if isinstance(answer, Case):
        return next(iter(app.events.get(answer.id, lte=1)))
    events = list(app.events.get(answer.id))
    return next(e for e in reversed(events) if getattr(e, "reasons", None))


def reused_id(uow: UnitOfWork, item: Incoming, earlier: Incoming | None) -> str | None:
    """``REUSED_ID`` if ``item`` is a referral under a message id already processed for another
    referral (``earlier``: an entry of the same batch with that id), None if it is the same."""
    message = item.envelope.message
    if not isinstance(message, SubmitReferral | UnreadableReferral):
        return None
    app: Any = uow.app
    key = referral_key(message.source, message.referral_id)
    content = app.fingerprint(message)
    if earlier is None:
        same = processed_as(
            uow, message.source, message.referral_id, str(item.envelope.id), content
        )
    else:
        first = earlier.envelope.message
        same = (
            isinstance(first, SubmitReferral | UnreadableReferral)
            and referral_key(first.source, first.referral_id) == key
            and app.fingerprint(first) == content
        )
    return None if same else REUSED_ID


def processed_as(
    uow: UnitOfWork, source: str, referral_id: str, message_id: str, fingerprint: str
) -> bool:
    """Whether the message ``message_id``, processed before, carried this referral: the same
    key and content. False when it carried another (its id is used again)."""
    key = referral_key(source, referral_id)
    # The answer under the key, and a rejection that waited for a residency exception (whose
    # message stays the one that carried the referral after a case took the key).
    for answer_id in (key, ResidencyException.create_id(source, referral_id)):
        answer = uow.get(answer_id, Aggregate)
        if answer is not None and getattr(answer, "causation_id", None) == message_id:
            return same_content(answer, fingerprint)
    again = uow.get(resubmission_id(message_id), Aggregate)
    if isinstance(again, RepeatedReferral | ConflictingReferral):
        return again.key == key and again.fingerprint == fingerprint
    refused = uow.get(RateLimitedReferral.create_id(key), RateLimitedReferral)
    messages: dict[str, str | None] = getattr(refused, "messages", {})
    if message_id in messages:
        return messages[message_id] in (None, fingerprint)
    return False


def answered_again(event: stored.AnsweredAgain) -> Outgoing:
    cls = _ANSWERS[event.answer_type]
    return Outgoing(
        INTAKE_EVENTS,
        cls.model_validate({**event.answer, "repeat_of": event.repeat_of}),
        correlation_id=str(event.key),
        causation_id=event.causation_id,
    )


PUBLIC_EVENTS: Mapping[type[Any], Translator] = {
    RepeatedReferral.AnsweredAgain: answered_again,  # type: ignore[attr-defined]
    # published as any rejection is
    ConflictingReferral.Refused: referral_rejected,  # type: ignore[attr-defined]
}
