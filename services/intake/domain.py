"""Intake's aggregates: the case an accepted referral opens, and the answer to a rejected one.

Both are keyed by :func:`referral_key` of (source, referral_id), so at most one of them exists per
referral: a referral sent again finds the first answer and changes nothing. Personal numbers and
names live only in these events, in intake's encrypted store.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

REFERRAL_NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/referral")


def referral_key(source: str, referral_id: str) -> UUID:
    """The case id of a referral: the same for the same (source, referral_id), never ambiguous."""
    return uuid5(REFERRAL_NAMESPACE, json.dumps([source, referral_id]))


class Case(Aggregate):
    """A case opened by an accepted referral."""

    @staticmethod
    def create_id(case_id: UUID, **_: object) -> UUID:
        return case_id

    @event("Opened")
    def __init__(
        self,
        case_id: UUID,
        source: str,
        referral_id: str,
        programme: str,
        basis: str,
        urgency: str,
        priority: int,
        received_at: datetime,
        first_contact_due: date,
        ack_due: datetime,
        household: list[dict[str, Any]],
        indicators_met: list[str],
        consent: bool,
        causation_id: str | None,
    ) -> None:
        self.source = source
        self.referral_id = referral_id
        self.programme = programme
        self.priority = priority
        self.received_at = received_at
        self.first_contact_due = first_contact_due
        self.ack_due = ack_due
        self.household = household


class RejectedReferral(Aggregate):
    """The recorded answer to a referral that was not accepted, with every reason."""

    @staticmethod
    def create_id(key: UUID, **_: object) -> UUID:
        return key

    @event("Recorded")
    def __init__(
        self,
        key: UUID,
        source: str,
        referral_id: str,
        received_at: datetime,
        reasons: list[dict[str, str]],
        causation_id: str | None,
    ) -> None:
        self.source = source
        self.referral_id = referral_id
        self.reasons = reasons


class DeadReferral(Aggregate):
    """An inbound entry intake could not read at all, kept (encrypted) instead of on Redis."""

    @event("Kept")
    def __init__(self, stream: str, fields: dict[str, str], error: str) -> None:
        self.fields = fields
        self.error = error
