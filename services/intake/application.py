"""Intake's application: answer every referral once, follow the case, and publish.

A referral's answer is keyed by (source, referral_id): the first answer stands. The same
referral sent again (on the stream, over HTTP, or both) creates nothing new and gets the first
answer again; a different one under a used key is refused (:mod:`services.intake.resubmission`).
A referral beyond its source's rate limit is refused first (``rate_limited``, recorded as a
:class:`RateLimitedReferral`): that refusal is not its answer, so the referral sent again later
is evaluated anew. Persons
leave intake only as pseudonymous ``person_ref`` UUIDs: a keyed hash of the personal number, so
the same person gets the same reference in every case, and nobody without intake's key can
compute it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID, uuid5

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate
from pydantic import ValidationError

from events.billing import SessionLogged
from events.codec import DecodeError, Envelope, decode
from events.referrals import SubmitReferral
from events.scheduling import MeetingHeld
from events.strictjson import NotJson, loads
from infra.application import (
    Busy,
    Handler,
    Incoming,
    Lookup,
    Translator,
    UnitOfWork,
)
from infra.calendar import local_date
from infra.pii import StagedKeys, seal, unseal
from infra.projections import keep
from infra.topology import REFERRALS, is_referral_stream
from services.intake import polare, reevaluation, resubmission, terms
from services.intake.domain import (
    Case,
    CaseError,
    DeadReferral,
    PersonErased,
    RateLimitedReferral,
    RejectedReferral,
    ResidencyException,
    RetentionHold,
    referral_key,
)
from services.intake.eligibility import RULE_ID, policy_at
from services.intake.inbound import Sender, UnreadableReferral, envelope_id, read_sender
from services.intake.limits import SourceLimiter
from services.intake.public import PUBLIC_EVENTS
from services.intake.records import main_subject, open_case
from services.intake.reevaluation import answer_in, awaiting_id, rejection
from services.intake.registers import RegisterCommands
from services.intake.resubmission import (
    answer_again,
    fingerprint,
    fingerprint_key,
    raw_fingerprint,
    reused_id,
    same_content,
)
from services.intake.retention import RetentionWatch
from services.intake.rules import (
    Accepted,
    IntakePolicy,
    Member,
    conflicting_resubmission,
    evaluate,
    malformed,
    parse_personal_number,
    rate_limited,
)
from services.intake.sources import StreamSources
from services.intake.watch import AckWatch

HTTP_CONSUMER = "http"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Answer:
    """What a sender is told: accepted with its case, rejected with every reason, refused for
    now by the rate limit (``retry_after``: when to send it again), or refused as a different
    referral under a used ``(source, referral_id)`` (``conflict``)."""

    accepted: bool
    source: str | None
    referral_id: str | None
    case_id: UUID | None = None
    reasons: list[dict[str, str]] = field(default_factory=list)
    retry_after: timedelta | None = None
    conflict: bool = False
    #: Accepted with no contract of its programme in force on the day received (rules.py).
    no_contract_in_force: dict[str, Any] | None = None


def when_referral_submitted_answer(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    app: Intake = uow.app  # type: ignore[assignment]
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
    app: Intake,
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


class Intake(RegisterCommands):
    name = "intake"
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        Case: 50,
        RateLimitedReferral: 50,  # a source resending one referral while it is refused
    }
    handlers: ClassVar[Mapping[str, Handler]] = {
        SubmitReferral.type_name: when_referral_submitted_answer,
        UnreadableReferral.type_name: when_referral_submitted_answer,
        MeetingHeld.type_name: when_meeting_held_update_case,
        SessionLogged.type_name: when_session_logged_count_time,
        **terms.HANDLERS,
        **polare.HANDLERS,
    }
    #: What the handlers look up, so that a batch asks the store once which of them exist.
    lookups: ClassVar[Mapping[str, Lookup]] = {
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
        **terms.LOOKUPS,
        **polare.LOOKUPS,
    }
    public_events: ClassVar[Mapping[type[Any], Translator]] = {
        **PUBLIC_EVENTS,
        **resubmission.PUBLIC_EVENTS,
        **polare.PUBLIC_EVENTS,
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        policy: IntakePolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: SourceLimiter | None = None,
        sources: StreamSources | None = None,
    ) -> None:
        super().__init__(env)
        self.policy = policy or IntakePolicy()
        self.clock = clock
        #: The per-source rate limit; by default none (the composition root sets the deployed one).
        self.limiter = limiter or SourceLimiter()
        #: Which referral stream may carry which source (none of their own by default).
        self.sources = sources or StreamSources()
        secret = base64.b64decode(self.env.get("CIPHER_KEY") or "")
        self._pseudonym_key = hmac.new(secret, b"lots person_ref v1", hashlib.sha256).digest()
        self._fingerprint_key = fingerprint_key(secret)
        self.ack_watch = AckWatch()
        self.retention_watch = RetentionWatch()
        # New persons' keys are saved with the events sealed with them, not one commit each.
        self.staged_keys = StagedKeys(self.store)
        self.keys = self.staged_keys

    def case_of(self, event: Any) -> UUID | None:
        """A case's own events belong to it; so does the answer to the referral that opened it."""
        if isinstance(event, Case.Event):
            return event.originator_id
        if isinstance(event, RejectedReferral.Event):  # kept under its key, or its exception's
            return UUID(str(getattr(event, "key", event.originator_id)))
        if isinstance(event, ResidencyException.Event):  # the exception is in the referral's
            granted: Any = event
            return referral_key(granted.source, granted.referral_id)
        if isinstance(
            event,
            RateLimitedReferral.Event
            | resubmission.RepeatedReferral.Event
            | resubmission.ConflictingReferral.Event,
        ):
            attempt: Any = event  # a refused or repeated attempt belongs to the referral's history
            return UUID(str(attempt.key))
        return super().case_of(event)

    def prepare(self, items: Sequence[Incoming]) -> None:
        """Read the keys of every person referred in the batch in one query."""
        day = local_date(self.clock())
        refs = set()
        for item in items:
            if isinstance(item.envelope.message, SubmitReferral):
                for person in item.envelope.message.persons:
                    parsed = parse_personal_number(person.personal_number, day)
                    if not isinstance(parsed, str):
                        refs.add(str(self.person_ref(parsed[0])))
        self.staged_keys.prefetch(refs)

    def _apply(self, group: str, items: Sequence[Incoming]) -> None:
        """Apply a unit of work; what the rate limit admitted in it counts only once it is
        saved (a batch applied again after a conflict is not counted twice)."""
        self.limiter.begin()
        try:
            super()._apply(group, items)
        except BaseException:
            self.limiter.rollback()
            raise
        self.limiter.commit(self.clock())

    def member(self, member: Member, name: str | None) -> dict[str, Any]:
        """A household member as intake stores it: personal number and name sealed with the
        person's own key (erasable), everything else as it is."""
        ref = str(self.person_ref(member.personal_number))
        return {
            "person_ref": ref,
            "personal_number": seal(self.staged_keys, ref, member.personal_number),
            "name": seal(self.staged_keys, ref, name),
            "role": member.role,
            "age": member.age,
        }

    def reveal(self, member: Mapping[str, Any]) -> dict[str, Any]:
        """A stored household member with personal number and name readable (or erased)."""
        ref = member["person_ref"]
        return {
            **member,
            "personal_number": unseal(self.store, ref, member.get("personal_number")),
            "name": unseal(self.store, ref, member.get("name")),
        }

    def person_ref(self, personal_number: str) -> UUID:
        return self.pseudonym(personal_number.encode())

    def fingerprint(self, referral: SubmitReferral | UnreadableReferral) -> str:
        """The keyed hash of a referral's content (:mod:`services.intake.resubmission`)."""
        if isinstance(referral, UnreadableReferral):
            return referral.fingerprint
        return fingerprint(self._fingerprint_key, referral)

    def already_processed(self, group: str, item: Incoming, earlier: Incoming | None) -> str | None:
        """A referral's message id used again for another referral is an error (dead-lettered
        as ``reused_message_id``); the same message again is done."""
        return reused_id(UnitOfWork(self), item, earlier)

    def pseudonym(self, value: bytes) -> UUID:
        """A UUID only intake's key can compute from ``value`` (a keyed hash)."""
        digest = hmac.new(self._pseudonym_key, value, hashlib.sha256).digest()
        return UUID(bytes=digest[:16], version=4)

    # --- reading entries -------------------------------------------------------------------

    def decode(self, stream: str, fields: Mapping[Any, Any]) -> Envelope[Any]:
        """An entry as intake reads it; refused (a dead letter) on a referral stream that may
        not carry its source (:mod:`services.intake.sources`)."""
        envelope = self._read(stream, fields)
        message = envelope.message
        referral = isinstance(message, SubmitReferral | UnreadableReferral)
        refusal = self.sources.refusal(stream, message.source if referral else None)
        if refusal is not None:
            raise DecodeError(refusal)
        return envelope

    def _read(self, stream: str, fields: Mapping[Any, Any]) -> Envelope[Any]:
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
                    fingerprint=raw_fingerprint(self._fingerprint_key, data),
                ),
                id=envelope_id(fields, source, referral_id),
            )

    def redact_dead_letter(self, stream: str, fields: dict[str, str], error: str) -> dict[str, str]:
        """Referrals may carry personal data: keep the entry here, encrypted; name it on Redis."""
        if not is_referral_stream(stream):
            return fields
        with self.lock:
            kept = DeadReferral(stream=stream, fields=fields, error=error)
            self.save(kept)
        return {"type": fields.get("type", "")[:100], "dead_letter_ref": str(kept.id)}

    # --- commands ----------------------------------------------------------------------------

    def submit(self, body: bytes) -> Answer:
        """A referral over HTTP: the same rules and the same idempotency as on the stream."""
        try:
            text = body.decode("utf-8")  # as on the stream: UTF-8 only, not UTF-16 or -32
            data = loads(text)  # and the stream's strict JSON
        except (UnicodeDecodeError, NotJson) as exc:
            return _unrecorded(f"the body is not JSON: {exc}")
        if not isinstance(data, dict):
            return _unrecorded("the body is not a JSON object")
        try:
            sender = Sender.model_validate(data)
        except ValidationError as exc:  # nobody to answer under: nothing is recorded
            return Answer(False, None, None, reasons=[r.model_dump() for r in malformed(exc)])
        source, referral_id = sender.source, sender.referral_id
        fields = {"type": "SubmitReferral", "version": "1", "data": text}
        key = referral_key(source, referral_id)
        fields["id"] = str(uuid5(key, HTTP_CONSUMER))  # decoding needs one; replaced below
        try:  # the token has bound the source, not a stream
            envelope = self._read(REFERRALS, fields)
        except DecodeError as exc:  # past the stream's limits: refused as there, unrecorded
            return _unrecorded(str(exc))
        content = self.fingerprint(envelope.message)
        # The message id is the same for the same content, so a repeat is answered without
        # effect; it is numbered on by each rate-limit refusal, so a send after one is
        # evaluated anew; other content under a used key is another message, refused.
        refused = self._refused(key)
        attempt = f"{HTTP_CONSUMER}/{content}"
        if refused is not None:
            attempt += f"/{refused.refusals}"
        envelope = replace(envelope, id=uuid5(key, attempt))
        error = self.process(HTTP_CONSUMER, [Incoming("http", REFERRALS, envelope)])["http"]
        if error is not None:
            raise RuntimeError(f"the referral could not be recorded: {error}")
        found = self._answered(source, referral_id)
        if found is not None and not same_content(found, content):
            reason = conflicting_resubmission().model_dump()
            return Answer(False, source, referral_id, reasons=[reason], conflict=True)
        if found is not None:
            return _answer_of(found)
        refused = self._refused(key)
        assert refused is not None  # just refused, or answered (above)
        return Answer(
            False,
            source,
            referral_id,
            reasons=list(refused.reasons),
            retry_after=timedelta(milliseconds=refused.retry_after_ms),
        )

    def _refused(self, key: UUID) -> RateLimitedReferral | None:
        try:
            found: Aggregate = self.repository.get(RateLimitedReferral.create_id(key))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, RateLimitedReferral) else None

    def answer(self, source: str, referral_id: str) -> Answer | None:
        """The answer recorded for a referral, or None if it has not been received (a referral
        only refused by the rate limit has not been)."""
        found = self._answered(source, referral_id)
        return None if found is None else _answer_of(found)

    def _answered(self, source: str, referral_id: str) -> Case | RejectedReferral | None:
        return answer_in(UnitOfWork(self), source, referral_id)

    def grant_residency_exception(
        self, source: str, referral_id: str, granted_by: str, reason: str
    ) -> tuple[UUID, bool]:
        """Record the administration's exception: it applies to that referral when it arrives,
        and a referral rejected only as not resident is evaluated again now
        (:mod:`services.intake.reevaluation`). The exception's id, and whether it was."""
        return reevaluation.grant(self, source, referral_id, granted_by, reason)

    def acknowledge(self, case_id: UUID, by: str) -> Case:
        return self._change(case_id, lambda case: case.acknowledge(self.clock(), by))

    def close_case(self, case_id: UUID, outcome: str, by: str, note: str | None = None) -> Case:
        """Close the case; its note, free text about the family, sealed as the referral's is
        (:mod:`services.intake.records`), so that it is erased with the person."""

        def close(case: Case) -> None:
            self.staged_keys.clear()
            sealed = seal(self.staged_keys, main_subject(case.household), note) if note else note
            case.close(outcome, self.clock(), by, sealed)

        return self._change(case_id, close)

    def case(self, case_id: UUID) -> Case:
        found: Aggregate = self.repository.get(case_id)
        if not isinstance(found, Case):
            raise CaseError(f"{case_id} is not a case")
        return found

    def _change(self, case_id: UUID, change: Callable[[Case], object]) -> Case:
        """Change one case and save it (:meth:`infra.application.ServiceApplication.transact`)."""

        def on_case(uow: UnitOfWork) -> Case:
            case = self.case(case_id)
            uow.add(case)
            change(case)
            return case

        return self.transact(
            on_case,
            busy=lambda: Busy(f"case {case_id} kept changing under this command; try again"),
        )

    def service_levels(self) -> dict[str, int]:
        now = self.clock()
        with self.ack_watch.lock:
            self.ack_watch.advance(self)
            return {
                "acknowledgements_past_due": self.ack_watch.past_due(now),
                "acknowledgements_waiting": len(self.ack_watch.waiting),
            }

    def notices(self) -> list[dict[str, str]]:
        return self.quality_notices()

    def hold_for_retention(self, case_id: UUID, reason: str, by: str) -> None:
        """Keep the case's persons past the retention period (a recorded exception)."""
        with self.lock:
            self.case(case_id)  # the case must exist
            try:
                self.repository.get(RetentionHold.create_id(case_id))
            except AggregateNotFoundError:
                self.save(RetentionHold(case_id=case_id, reason=reason, by=by, at=self.clock()))

    def erase_expired(self, years: int, chunk: int = 100) -> list[str]:
        """Destroy the keys of every person whose cases' retention has ended; return them.

        The watch catches up with the log under its own lock only, so that its first scan of
        the whole log at start does not hold up the batches. Persons are then erased a chunk at
        a time, each chunk checked again under the application's lock with what was stored
        meanwhile: a person referred again since the check began keeps their data. The lock is
        let go between chunks, so referrals keep flowing.
        """
        now = self.clock()
        watch = self.retention_watch
        with watch.lock:
            watch.advance(self)
            keep(self, watch)
            due = sorted(watch.expired(now, years))
        erased: list[str] = []
        for start in range(0, len(due), chunk):
            with self.lock, watch.lock:
                self.retention_watch.advance(self)
                still = self.retention_watch.expired(now, years, due[start : start + chunk])
                for ref, last_entry in sorted(still.items()):
                    self.store.erase_subject(ref, now.isoformat())
                    erasure = self.retention_watch.erasures.get(ref, 0) + 1
                    self.save(
                        PersonErased(person_ref=ref, at=now, last_entry=last_entry, erasure=erasure)
                    )
                    erased.append(ref)
            for ref in sorted(still):
                log.info("personal data erased", person_ref=ref)
        return erased

    def check_acknowledgements(self) -> list[UUID]:
        """Record every acknowledgement deadline missed by now; return the cases breached.

        The watch catches up under its own lock, not the application's (its first scan of the
        whole log at start would hold up the batches); each breach is recorded on the case under
        the application's lock, where the case itself says whether it is still unacknowledged.
        """
        now = self.clock()
        with self.ack_watch.lock:
            self.ack_watch.advance(self)
            keep(self, self.ack_watch)
            due = self.ack_watch.due(now)
        breached = []
        for case_id in due:
            try:
                self._change(case_id, lambda case: case.note_ack_overdue(now))
            except RuntimeError:
                continue  # retried on the next check
            breached.append(case_id)
        return breached


def _answer_of(found: Case | RejectedReferral) -> Answer:
    if isinstance(found, Case):
        notice = getattr(found, "no_contract_in_force", None)  # cases opened before: none
        return Answer(
            True, found.source, found.referral_id, case_id=found.id, no_contract_in_force=notice
        )
    return Answer(False, found.source, found.referral_id, reasons=list(found.reasons))


def _unrecorded(message: str) -> Answer:
    return Answer(
        False, None, None, reasons=[{"code": "malformed", "field": "", "message": message}]
    )
