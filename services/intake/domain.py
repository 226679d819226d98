"""Intake's aggregates: the case an accepted referral opens, the answer to a rejected one, and
the residency exceptions the administration grants.

A case and a rejection are keyed by :func:`~services.intake.referral_keys.referral_key` of
(source, referral_id), so at most one of them exists per referral: a referral sent again finds
the first answer and changes nothing. Personal numbers and names live only in these events, in
intake's encrypted store.

Events are stored by topic (this module and the class's name), which the outbox and the
watches select by, so these aggregates stay here. The case lives in
:mod:`~services.intake.domain_case`, with explicit topics equal to the ones it was first stored
under here (``services.intake.domain:Case.Opened``, ...); this module imports it so that a
process which has not imported it yet still resolves those topics. Their ids, refusals and a
case's figures are beside it (:mod:`~services.intake.referral_keys`,
:mod:`~services.intake.case_refusals`, :mod:`~services.intake.case_figures`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

# Looks at a case were first recorded here: their stored topic names this module.
from infra.access import CaseAccess as CaseAccess
from services.intake.case_refusals import CaseError as CaseError  # also read from here

# A case was first stored from here: its stored topics name this module.
from services.intake.domain_case import Case as Case
from services.intake.referral_keys import EXCEPTION_NAMESPACE, REFERRAL_NAMESPACE
from services.intake.referral_keys import referral_key as referral_key  # also read from here


class RejectedReferral(Aggregate):
    """The recorded answer to a referral that was not accepted, with every reason.

    Kept under the referral's key, except a referral rejected only as not resident: that one
    waits for the administration's exception (:mod:`services.intake.reevaluation`), under the
    id the exception would have (``exception_id``), with its content sealed (``household``,
    ``content``) so that it can be evaluated again when the exception is recorded
    (:meth:`reconsider`). Its key stays free for the case the exception opens.
    """

    @staticmethod
    def create_id(key: UUID, exception_id: UUID | None = None, **_: object) -> UUID:
        return key if exception_id is None else exception_id

    @event("Recorded")
    def __init__(
        self,
        key: UUID,
        source: str,
        referral_id: str,
        received_at: datetime,
        reasons: list[dict[str, str]],
        causation_id: str | None,
        fingerprint: str | None = None,
        exception_id: UUID | None = None,
        household: list[dict[str, Any]] | None = None,
        content: str | None = None,
    ) -> None:
        self.key = key
        self.source = source
        self.referral_id = referral_id
        self.received_at = received_at
        self.reasons = reasons
        self.causation_id = causation_id
        self.fingerprint = fingerprint
        self.household = household
        self.content = content
        #: Set when the exception was recorded: whether the referral was evaluated again (its
        #: content still kept), and the case it opened if it was accepted.
        self.reconsidered = False
        self.reevaluated = False
        self.case_id: UUID | None = None

    def reconsider(
        self,
        granted_by: str,
        reason: str,
        at: datetime,
        case_id: UUID | None,
        reasons: list[dict[str, str]] | None,
        supersedes: UUID,
    ) -> None:
        """Record the residency exception granted for this referral and what evaluating it
        again gave: the case it opened (``case_id``), the reasons it is still rejected for
        (``reasons``), or neither when its content was erased before the exception came."""
        if self.reconsidered:
            raise CaseError(f"the residency exception of {self.id} is already recorded")
        self._exception_granted(
            key=self.key,
            source=self.source,
            referral_id=self.referral_id,
            received_at=self.received_at,
            granted_by=granted_by,
            reason=reason,
            at=at,
            case_id=case_id,
            reasons=reasons,
            supersedes=supersedes,
        )

    @event("ExceptionGranted")
    def _exception_granted(
        self,
        key: UUID,
        source: str,
        referral_id: str,
        received_at: datetime,
        granted_by: str,
        reason: str,
        at: datetime,
        case_id: UUID | None,
        reasons: list[dict[str, str]] | None,
        supersedes: UUID,
    ) -> None:
        self.reconsidered = True
        self.reevaluated = case_id is not None or bool(reasons)
        self.case_id = case_id
        if reasons:
            self.reasons = reasons


class RateLimitedReferral(Aggregate):
    """The refusals of one referral by the per-source rate limit: a transient answer.

    Kept apart from the referral's answer (:class:`Case` or :class:`RejectedReferral`, keyed by
    :func:`referral_key`), so that the same referral sent again after the wait is evaluated
    anew. Each refusal is an event, published as ``ReferralRejected`` with ``rate_limited``;
    ``refusals`` counts them (the HTTP path's message ids are numbered by it); ``messages``
    holds each refused message's content fingerprint, by message id (a redelivered message is
    told from an id used again for another referral by it).
    """

    @staticmethod
    def create_id(key: UUID, **_: object) -> UUID:
        return uuid5(REFERRAL_NAMESPACE, f"rate-limited/{key}")

    @event("Refused")
    def __init__(
        self,
        key: UUID,
        source: str,
        referral_id: str,
        received_at: datetime,
        retry_after_ms: int,
        reasons: list[dict[str, str]],
        causation_id: str | None,
        fingerprint: str | None = None,
    ) -> None:
        self.key = key
        self.source = source
        self.referral_id = referral_id
        self.refusals = 1
        self.retry_after_ms = retry_after_ms
        self.reasons = reasons
        self.messages: dict[str, str | None] = {}
        if causation_id is not None:
            self.messages[causation_id] = fingerprint

    def refuse(
        self,
        received_at: datetime,
        retry_after_ms: int,
        reasons: list[dict[str, str]],
        causation_id: str | None,
        fingerprint: str | None = None,
    ) -> None:
        self._refused_again(
            key=self.key,
            source=self.source,
            referral_id=self.referral_id,
            received_at=received_at,
            retry_after_ms=retry_after_ms,
            reasons=reasons,
            causation_id=causation_id,
            fingerprint=fingerprint,
        )

    @event("RefusedAgain")
    def _refused_again(
        self,
        key: UUID,
        source: str,
        referral_id: str,
        received_at: datetime,
        retry_after_ms: int,
        reasons: list[dict[str, str]],
        causation_id: str | None,
        fingerprint: str | None = None,
    ) -> None:
        self.refusals += 1
        self.retry_after_ms = retry_after_ms
        self.reasons = reasons
        if not hasattr(self, "messages"):  # a snapshot taken before messages were kept
            self.messages = {}
        if causation_id is not None:
            self.messages[causation_id] = fingerprint


class ResidencyException(Aggregate):
    """The administration's agreement that one counselling referral may be for non-residents."""

    @staticmethod
    def create_id(source: str, referral_id: str, **_: object) -> UUID:
        return uuid5(EXCEPTION_NAMESPACE, json.dumps([source, referral_id]))

    @event("Granted")
    def __init__(
        self, source: str, referral_id: str, granted_by: str, reason: str, granted_at: datetime
    ) -> None:
        self.granted_by = granted_by
        self.reason = reason


class DeadReferral(Aggregate):
    """An inbound entry intake could not read at all, kept (encrypted) instead of on Redis."""

    @event("Kept")
    def __init__(self, stream: str, fields: dict[str, str], error: str) -> None:
        self.fields = fields
        self.error = error


class RetentionHold(Aggregate):
    """An exception to erasure: the case's persons are kept past the retention period."""

    @staticmethod
    def create_id(case_id: UUID, **_: object) -> UUID:
        return uuid5(REFERRAL_NAMESPACE, f"retention-hold/{case_id}")

    @event("Placed")
    def __init__(self, case_id: UUID, reason: str, by: str, at: datetime) -> None:
        self.case_id = case_id


class PersonErased(Aggregate):
    """A person's key was destroyed when the retention of all their cases had ended.

    ``erasure`` counts a person's erasures: one referred again after an erasure is erased again
    when the new cases' retention ends (their key's later generations, :mod:`infra.pii`). The
    id is the same for the same erasure wherever it is decided, so two instances record it once.
    """

    @staticmethod
    def create_id(person_ref: str, erasure: int = 1, **_: object) -> UUID:
        suffix = "" if erasure == 1 else f"/{erasure}"
        return uuid5(REFERRAL_NAMESPACE, f"erased/{person_ref}{suffix}")

    @event("Erased")
    def __init__(
        self, person_ref: str, at: datetime, last_entry: datetime, erasure: int = 1
    ) -> None:
        self.person_ref = person_ref
        self.erasure = erasure
