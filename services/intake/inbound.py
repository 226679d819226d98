"""What intake reads of a referral entry before its rules: who sent it, and a referral that
could not be read but says validly who sent it (answered ``malformed`` under its sender)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID, uuid5

from pydantic import BaseModel, ValidationError

from events.codec import DecodeError, Envelope, decode
from events.intake import Reason
from events.referrals import ReferralId, Source
from events.types import Message
from infra.topology import is_referral_stream
from services.intake.malformed import malformed
from services.intake.referral_keys import referral_key


class Sender(BaseModel):
    """Who a referral is from. Its answer is published under them, so both must be valid: a
    source of the shared pattern, a printable referral id (``events.referrals``)."""

    source: Source
    referral_id: ReferralId


class UnreadableReferral(Message):
    """Internal: a referral whose payload is not a valid SubmitReferral but says who sent it."""

    source: str
    referral_id: str
    reasons: list[Reason]
    #: Of its JSON as sent (:func:`services.intake.resubmission.raw_fingerprint`).
    fingerprint: str


def read_sender(fields: Mapping[Any, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """Who sent a referral entry's data, if it says so validly, and the data; None if it does
    not, or the data is not a JSON object (then nobody can be answered)."""
    raw = fields.get(b"data", fields.get("data"))
    try:
        data = json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        sender = Sender.model_validate(data)
    except ValidationError:
        return None
    return sender.source, sender.referral_id, data


def envelope_id(fields: Mapping[Any, Any], source: str, referral_id: str) -> UUID:
    """The entry's id, or one derived from its sender when the id is not a UUID."""
    raw = fields.get(b"id", fields.get("id"))
    try:
        return UUID(raw.decode() if isinstance(raw, bytes) else str(raw))
    except (ValueError, AttributeError):
        return uuid5(referral_key(source, referral_id), "unreadable")


def read_entry(
    stream: str, fields: Mapping[Any, Any], fingerprint: Callable[[dict[str, Any]], str]
) -> Envelope[Any]:
    """An entry as intake reads it on ``stream``: a referral that cannot be read but names its
    sender validly becomes an :class:`UnreadableReferral` (answered ``malformed``), its
    ``fingerprint`` of the data as sent; anything else unreadable raises DecodeError."""
    try:
        return decode(fields)
    except DecodeError as exc:
        if not is_referral_stream(stream) or not isinstance(exc.__cause__, ValidationError):
            raise
        sender = read_sender(fields)
        if sender is None:
            raise
        source, referral_id, data = sender
        return Envelope(
            UnreadableReferral(
                source=source,
                referral_id=referral_id,
                reasons=malformed(exc.__cause__),
                fingerprint=fingerprint(data),
            ),
            id=envelope_id(fields, source, referral_id),
        )
