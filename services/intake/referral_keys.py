"""The ids intake derives from what it is sent: a referral's key, and the namespaces of the
other ids it makes (a residency exception's, a rate-limit refusal's, a rule's).

A case and a rejection are keyed by :func:`referral_key` of (source, referral_id), so at most one
of them exists per referral: a referral sent again finds the first answer and changes nothing.
"""

from __future__ import annotations

import json
from uuid import NAMESPACE_URL, UUID, uuid5

REFERRAL_NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/referral")
EXCEPTION_NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/residency-exception")


def referral_key(source: str, referral_id: str) -> UUID:
    """The case id of a referral: the same for the same (source, referral_id), never ambiguous."""
    return uuid5(REFERRAL_NAMESPACE, json.dumps([source, referral_id]))
