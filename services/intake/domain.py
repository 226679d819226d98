"""Intake's aggregates: the case an accepted referral opens, the answer to a rejected one, and
the residency exceptions the administration grants.

A case and a rejection are keyed by :func:`~services.intake.referral_keys.referral_key` of
(source, referral_id), so at most one of them exists per referral: a referral sent again finds
the first answer and changes nothing. Personal numbers and names live only in these events, in
intake's encrypted store.

One room over 300 lines: events are stored by topic (this module and the class's name), which
the outbox and the watches select by, so the aggregates stay here. Their ids, refusals and a
case's figures are beside it (:mod:`~services.intake.referral_keys`,
:mod:`~services.intake.case_refusals`, :mod:`~services.intake.case_figures`).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

# Looks at a case were first recorded here: their stored topic names this module.
from infra.access import CaseAccess as CaseAccess
from services.intake.case_figures import CaseFigures
from services.intake.case_refusals import OUTCOMES, CaseClosedError
from services.intake.case_refusals import CaseError as CaseError  # also read from here
from services.intake.referral_keys import EXCEPTION_NAMESPACE, REFERRAL_NAMESPACE
from services.intake.referral_keys import referral_key as referral_key  # also read from here


class Case(CaseFigures, Aggregate):
    """A case opened by an accepted referral, followed until it is closed with an outcome; what
    it shows of the work done is :class:`~services.intake.case_figures.CaseFigures`."""

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
        fingerprint: str | None = None,
        decision_ref: str | None = None,
        consent_form_ref: str | None = None,
        consent_given_at: str | None = None,
        note: str | None = None,
        residency_exception_id: UUID | None = None,
        supersedes: UUID | None = None,
        no_contract_in_force: dict[str, Any] | None = None,
    ) -> None:
        # What the referral said beside its persons (the decision's reference, the consent
        # form's reference and date, the note) is in the event only sealed with the key of the
        # person the case is about (:mod:`services.intake.records`): erased with them.
        # ``residency_exception_id``: the exception whose recording accepted a referral first
        # rejected as not resident, replacing the answer ``supersedes``
        # (:mod:`services.intake.reevaluation`).
        self.source = source
        self.referral_id = referral_id
        #: The message that opened the case (or the residency exception that did), and its
        #: content's fingerprint (:mod:`services.intake.resubmission`; None if opened before
        #: fingerprints were kept).
        self.causation_id = causation_id
        self.fingerprint = fingerprint
        self.programme = programme
        self.basis = basis
        self.urgency = urgency
        self.priority = priority
        self.received_at = received_at
        self.first_contact_due = first_contact_due
        self.ack_due = ack_due
        self.household = household
        self.indicators_met = indicators_met
        #: Set when no contract of the programme was in force on the day received (rules.py).
        self.no_contract_in_force = no_contract_in_force
        self.acknowledged_at: datetime | None = None
        self.ack_overdue_noted = False
        self.first_contact_at: datetime | None = None
        self.meetings: dict[str, dict[str, Any]] = {}
        self.logged_minutes = 0
        # Lists and dicts, not sets: the state is snapshotted as JSON every 50 events.
        self.sessions: dict[str, int] = {}
        self.closed_at: datetime | None = None
        self.outcome: str | None = None

    # --- the acknowledgement within 24 weekday hours -----------------------------------------

    def acknowledge(self, at: datetime, by: str) -> None:
        if self.acknowledged_at is not None:
            return  # acknowledging twice changes nothing
        self._acknowledged(at=at, by=by, within_deadline=at <= self.ack_due, ack_due=self.ack_due)

    @event("Acknowledged")
    def _acknowledged(
        self, at: datetime, by: str, within_deadline: bool, ack_due: datetime
    ) -> None:
        self.acknowledged_at = at

    def note_ack_overdue(self, now: datetime) -> bool:
        """Record the breach once, when the deadline has passed unacknowledged."""
        if self.acknowledged_at is not None or self.ack_overdue_noted or now <= self.ack_due:
            return False
        self._acknowledgement_overdue(detected_at=now, ack_due=self.ack_due)
        return True

    @event("AcknowledgementOverdue")
    def _acknowledgement_overdue(self, detected_at: datetime, ack_due: datetime) -> None:
        self.ack_overdue_noted = True

    # --- kept up to date from scheduling and billing -----------------------------------------

    def record_meeting(
        self,
        meeting_id: str,
        kind: str,
        started_at: datetime,
        ended_at: datetime,
        client_visits: int,
        causation_id: str,
    ) -> None:
        if meeting_id in self.meetings:
            return
        minutes = max(0, int((ended_at - started_at).total_seconds() // 60))
        self._meeting_recorded(
            meeting_id=meeting_id,
            kind=kind,
            started_at=started_at,
            minutes=minutes,
            client_visits=client_visits,
            causation_id=causation_id,
        )

    @event("MeetingRecorded")
    def _meeting_recorded(
        self,
        meeting_id: str,
        kind: str,
        started_at: datetime,
        minutes: int,
        client_visits: int,
        causation_id: str,
    ) -> None:
        self.meetings[meeting_id] = {
            "kind": kind,
            "minutes": minutes,
            "client_visits": client_visits,
            "started_at": started_at,
        }
        if self.first_contact_at is None or started_at < self.first_contact_at:
            self.first_contact_at = started_at

    def record_logged_time(self, session_id: str, minutes: int, causation_id: str) -> None:
        """Preparation and follow-up time logged in billing (sessions without a meeting)."""
        if session_id in self.sessions:
            return
        self._time_logged(session_id=session_id, minutes=minutes, causation_id=causation_id)

    @event("TimeLogged")
    def _time_logged(self, session_id: str, minutes: int, causation_id: str) -> None:
        self.sessions[session_id] = minutes
        self.logged_minutes += minutes

    # --- closing -------------------------------------------------------------------------------

    def close(self, outcome: str, at: datetime, by: str, note: str | None) -> None:
        if outcome not in OUTCOMES:
            raise CaseError(f"unknown outcome {outcome!r}; known: {', '.join(OUTCOMES)}")
        if self.closed_at is not None:
            raise CaseClosedError(f"case {self.id} was closed on {self.closed_at.isoformat()}")
        if at < self.received_at:
            raise CaseError("a case cannot close before its referral was received")
        self._closed(outcome=outcome, closed_at=at, by=by, note=note)

    @event("Closed")
    def _closed(self, outcome: str, closed_at: datetime, by: str, note: str | None) -> None:
        self.outcome = outcome
        self.closed_at = closed_at


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
