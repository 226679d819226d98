"""The reasons intake answers with: every message in one place, and the two answers given
without evaluating a referral (``rate_limited``, ``conflicting_resubmission``).

Messages never echo an input value, so no personal number or name can reach a stream: their
placeholders are filled only with values of our own (a programme name, a count, an index).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType

from events.intake import Reason

# Every message in one place, keyed "code" or "code:variant"; placeholders are filled only
# with values of our own (a programme name, a count, an index), never with input.
MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "unknown_programme": "unknown programme; referable programmes: {known}",
        "unknown_programme:field": "field work is outreach and takes no referrals; "
        "referable programmes: {known}",
        "malformed:basis": "basis must be service or decision",
        "malformed:urgency": "urgency must be normal or acute",
        "basis_not_offered": "{programme} is a service that needs no assistance decision; "
        "send basis service",
        "missing_decision_ref": "basis decision needs the reference of the assistance decision",
        "missing_persons": "a referral must name at least one person",
        "invalid_role": "role must be one of child, guardian, partner, sibling, other",
        "invalid_personal_number:format": "a personal number has 12 digits, YYYYMMDDNNNN",
        "invalid_personal_number:date": "the date part is not a real date "
        "(a samordningsnummer adds 60 to the day)",
        "invalid_personal_number:serial": "serial number 000 is never issued",
        "invalid_personal_number:check": "the check digit does not match",
        "invalid_personal_number:unborn": "the birth date is after the day received",
        "duplicate_person": "the same person is already listed as persons[{first}]",
        "missing_child": "{programme} needs a person with role child",
        "age_out_of_range": "the child is {age} on the day received; "
        "this programme takes children aged {low} to {high}",
        "not_resident": "{programme} is for residents of municipality {home} "
        "unless the administration agreed an exception",
        "note_too_long": "the note has more than {limit} characters",
        "rate_limited": "this source sent more than {per_minute} referrals a minute "
        "(at most {burst} at once); send this one again in {seconds} s or later",
        "malformed:date": "must be a date from {earliest} to the day after the referral was "
        "received",
        "conflicting_resubmission": "another referral, with other content, was already "
        "received under this referral_id from this source; its answer stands. Send this "
        "referral under a new referral_id",
    }
)


def reason(key: str, field: str, **values: object) -> Reason:
    """The reason of ``key`` ("code" or "code:variant") for ``field``, its message filled in."""
    code = key.partition(":")[0]
    return Reason(code=code, field=field, message=MESSAGES[key].format(**values))


def rate_limited(per_minute: int, burst: int, retry_after: timedelta) -> Reason:
    """The transient refusal of a referral beyond its source's rate limit."""
    seconds = max(1, math.ceil(retry_after.total_seconds()))
    return reason("rate_limited", "source", per_minute=per_minute, burst=burst, seconds=seconds)


def conflicting_resubmission() -> Reason:
    """The answer to a referral whose ``(source, referral_id)`` was already used for another."""
    return reason("conflicting_resubmission", "referral_id")
