"""Intake's application: answer every referral once, follow the case, and publish.

A referral's answer is keyed by (source, referral_id): the first answer stands. The same
referral sent again (on the stream, over HTTP, or both) creates nothing new and gets the first
answer again; a different one under a used key is refused (:mod:`services.intake.resubmission`).
A referral beyond its source's rate limit is refused first (``rate_limited``, recorded as a
:class:`RateLimitedReferral`): that refusal is not its answer, so the referral sent again later
is evaluated anew. The handlers of what arrives are in :mod:`services.intake.handlers`;
persons and their sealed data in :mod:`services.intake.personal`; a referral over HTTP in
:mod:`services.intake.submission`.

It stays a little over 300 lines because it is where intake's slices meet: the registries
(:mod:`services.intake.registry`), the hooks of :class:`~infra.application.ServiceApplication`
intake fills in (reading an entry, preparing a batch, a case's events, dead letters), and the
case commands, each a few lines over the module that does the work.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate

from events.codec import DecodeError, Envelope
from events.referrals import SubmitReferral
from infra.batches import Handler, Incoming, Lookup
from infra.calendar import local_date
from infra.commands import Busy
from infra.outbox import Translator
from infra.pii import StagedKeys, seal
from infra.projections import keep
from infra.topology import is_referral_stream
from infra.unit_of_work import UnitOfWork
from services.intake import reevaluation, registry, resubmission
from services.intake.answers import Answer, answer_of
from services.intake.domain import (
    Case,
    CaseError,
    DeadReferral,
    RateLimitedReferral,
    RejectedReferral,
    ResidencyException,
    RetentionHold,
    referral_key,
)
from services.intake.inbound import UnreadableReferral, read_entry
from services.intake.limits import SourceLimiter
from services.intake.personal import Persons, erase_expired
from services.intake.records import main_subject
from services.intake.reevaluation import answer_in
from services.intake.registers import RegisterCommands
from services.intake.resubmission import (
    fingerprint,
    fingerprint_key,
    raw_fingerprint,
    reused_id,
)
from services.intake.retention import RetentionWatch
from services.intake.rules import (
    IntakePolicy,
    Member,
    parse_personal_number,
)
from services.intake.sources import StreamSources
from services.intake.submission import submit
from services.intake.watch import AckWatch

T = TypeVar("T")


class Intake(RegisterCommands):
    name = "intake"
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        Case: 50,
        RateLimitedReferral: 50,  # a source resending one referral while it is refused
    }
    handlers: ClassVar[Mapping[str, Handler]] = registry.HANDLERS
    lookups: ClassVar[Mapping[str, Lookup]] = registry.LOOKUPS
    public_events: ClassVar[Mapping[type[Any], Translator]] = registry.PUBLIC_EVENTS

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
        self._fingerprint_key = fingerprint_key(secret)
        self.ack_watch = AckWatch()
        self.retention_watch = RetentionWatch()
        # New persons' keys are saved with the events sealed with them, not one commit each.
        self.staged_keys = StagedKeys(self.store)
        self.keys = self.staged_keys
        self.persons = Persons(secret, self.staged_keys, self.store)

    def case_of(self, event: DomainEventProtocol[UUID]) -> UUID | None:
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

    def locked(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` on a fresh unit of work under the application's lock: a read, or a
        change that saves what it changed itself (not retried, unlike :meth:`transact`)."""
        with self.lock:
            return work(UnitOfWork(self))

    def member(self, member: Member, name: str | None) -> dict[str, Any]:
        return self.persons.member(member, name)

    def reveal(self, member: Mapping[str, Any]) -> dict[str, Any]:
        return self.persons.reveal(member)

    def person_ref(self, personal_number: str) -> UUID:
        return self.persons.person_ref(personal_number)

    def pseudonym(self, value: bytes) -> UUID:
        return self.persons.pseudonym(value)

    def fingerprint(self, referral: SubmitReferral | UnreadableReferral) -> str:
        """The keyed hash of a referral's content (:mod:`services.intake.resubmission`)."""
        if isinstance(referral, UnreadableReferral):
            return referral.fingerprint
        return fingerprint(self._fingerprint_key, referral)

    def already_processed(self, group: str, item: Incoming, earlier: Incoming | None) -> str | None:
        """A referral's message id used again for another referral is an error (dead-lettered
        as ``reused_message_id``); the same message again is done."""
        return reused_id(UnitOfWork(self), item, earlier)

    # --- reading entries -------------------------------------------------------------------

    def decode(self, stream: str, fields: Mapping[Any, Any]) -> Envelope[Any]:
        """An entry as intake reads it; refused (a dead letter) on a referral stream that may
        not carry its source (:mod:`services.intake.sources`)."""
        envelope = self.read(stream, fields)
        message = envelope.message
        referral = isinstance(message, SubmitReferral | UnreadableReferral)
        refusal = self.sources.refusal(stream, message.source if referral else None)
        if refusal is not None:
            raise DecodeError(refusal)
        return envelope

    def read(self, stream: str, fields: Mapping[Any, Any]) -> Envelope[Any]:
        """An entry as read on ``stream`` (:func:`services.intake.inbound.read_entry`)."""
        return read_entry(stream, fields, lambda data: raw_fingerprint(self._fingerprint_key, data))

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
        """A referral over HTTP (:func:`services.intake.submission.submit`)."""
        return submit(self, body)

    def refused(self, key: UUID) -> RateLimitedReferral | None:
        """The rate limit's record of refusing the referral under ``key``, if it has."""
        try:
            found: Aggregate = self.repository.get(RateLimitedReferral.create_id(key))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, RateLimitedReferral) else None

    def answer(self, source: str, referral_id: str) -> Answer | None:
        """The answer recorded for a referral, or None if it has not been received (a referral
        only refused by the rate limit has not been)."""
        found = self.answered(source, referral_id)
        return None if found is None else answer_of(found)

    def answered(self, source: str, referral_id: str) -> Case | RejectedReferral | None:
        """The referral's answer as recorded (:func:`services.intake.reevaluation.answer_in`)."""
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
        """Erase every person whose cases' retention has ended (:mod:`services.intake.personal`)."""
        return erase_expired(self, self.retention_watch, self.clock(), years, chunk)

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
