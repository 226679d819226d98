"""A referral over HTTP: read as on the stream, answered by the same handler, exactly once.

The token has bound the source, not a stream: the body is read as on ``intake.referrals`` and
applied as a batch of one (:meth:`infra.application.ServiceApplication.process`) under a
message id made from its content, so that the same referral sent again is answered without
effect, and other content under a used ``(source, referral_id)`` is refused as a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol
from uuid import UUID, uuid5

from pydantic import ValidationError

from events.codec import DecodeError, Envelope
from events.referrals import SubmitReferral
from events.strictjson import NotJson, loads
from infra.batches import Incoming
from infra.topology import REFERRALS
from services.intake.answers import Answer, answer_of, unrecorded
from services.intake.domain import RateLimitedReferral, RejectedReferral
from services.intake.domain_case import Case
from services.intake.inbound import Sender, UnreadableReferral
from services.intake.malformed import malformed
from services.intake.reasons import conflicting_resubmission
from services.intake.referral_keys import referral_key
from services.intake.resubmission import same_content

HTTP_CONSUMER = "http"


class Submitting(Protocol):
    """Intake as a referral over HTTP sees it."""

    def read(self, stream: str, fields: Mapping[Any, Any]) -> Envelope[Any]: ...

    def fingerprint(self, referral: SubmitReferral | UnreadableReferral) -> str: ...

    def process(self, group: str, items: list[Incoming]) -> dict[str, str | None]: ...

    def refused(self, key: UUID) -> RateLimitedReferral | None: ...

    def answered(self, source: str, referral_id: str) -> Case | RejectedReferral | None: ...


def submit(app: Submitting, body: bytes) -> Answer:
    """A referral over HTTP: the same rules and the same idempotency as on the stream."""
    try:
        text = body.decode("utf-8")  # as on the stream: UTF-8 only, not UTF-16 or -32
        data = loads(text)  # and the stream's strict JSON
    except (UnicodeDecodeError, NotJson) as exc:
        return unrecorded(f"the body is not JSON: {exc}")
    if not isinstance(data, dict):
        return unrecorded("the body is not a JSON object")
    try:
        sender = Sender.model_validate(data)
    except ValidationError as exc:  # nobody to answer under: nothing is recorded
        return Answer(False, None, None, reasons=[r.model_dump() for r in malformed(exc)])
    source, referral_id = sender.source, sender.referral_id
    fields = {"type": "SubmitReferral", "version": "1", "data": text}
    key = referral_key(source, referral_id)
    fields["id"] = str(uuid5(key, HTTP_CONSUMER))  # decoding needs one; replaced below
    try:  # the token has bound the source, not a stream
        envelope = app.read(REFERRALS, fields)
    except DecodeError as exc:  # past the stream's limits: refused as there, unrecorded
        return unrecorded(str(exc))
    content = app.fingerprint(envelope.message)
    # The message id is the same for the same content, so a repeat is answered without
    # effect; it is numbered on by each rate-limit refusal, so a send after one is
    # evaluated anew; other content under a used key is another message, refused.
    refused = app.refused(key)
    attempt = f"{HTTP_CONSUMER}/{content}"
    if refused is not None:
        attempt += f"/{refused.refusals}"
    envelope = replace(envelope, id=uuid5(key, attempt))
    error = app.process(HTTP_CONSUMER, [Incoming("http", REFERRALS, envelope)])["http"]
    if error is not None:
        raise RuntimeError(f"the referral could not be recorded: {error}")
    found = app.answered(source, referral_id)
    if found is not None and not same_content(found, content):
        reason = conflicting_resubmission().model_dump()
        return Answer(False, source, referral_id, reasons=[reason], conflict=True)
    if found is not None:
        return answer_of(found)
    refused = app.refused(key)
    assert refused is not None  # just refused, or answered (above)
    return Answer(
        False,
        source,
        referral_id,
        reasons=list(refused.reasons),
        retry_after=timedelta(milliseconds=refused.retry_after_ms),
    )
