"""The contracts' terms as billing records them, followed by intake (issue 14 item 7).

Intake accepts a referral to a programme with no contract in force and flags it
(``no_contract_in_force``, :mod:`services.intake.rules`). Which contracts are in force is
billing's to record: an extension (``POST /tariffs/extensions``), a new term (``/tariffs/terms``)
or a notice of termination (``/tariffs/terminations``, ``lots settlement terminate``). Billing
publishes each such entry in ``TariffRecorded`` on ``billing.events``, which intake consumes;
intake keeps the entries of kind ``term``, ``extension`` and ``termination`` in its own store as
events of :class:`FollowedTerms`, saved in the same transaction as the consumer's tracking
record, so a restart neither loses nor repeats one. A referral is judged by the seeds' terms
followed by these entries in the order billing recorded them, with billing's own rule
(:func:`infra.contract_terms.followed`, :func:`~infra.contract_terms.term_end`).

An entry already followed (the same ``entry_id``: a redelivered or republished message) is not
kept again. Until intake has read billing's entries (billing not yet started, or intake's
consumer behind), referrals are judged by the seeds' terms alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from events.billing import TariffRecorded
from events.codec import Envelope
from infra.contract_terms import FOLLOWED_KINDS, ContractTerm, followed
from infra.unit_of_work import UnitOfWork
from services.intake.policy import IntakePolicy
from services.intake.referral_keys import REFERRAL_NAMESPACE

TERMS_ID = uuid5(REFERRAL_NAMESPACE, "contract-terms/billing")


class FollowedTerms(Aggregate):
    """Billing's recorded term, extension and termination entries, in the order recorded."""

    @staticmethod
    def create_id(**_: object) -> UUID:
        return TERMS_ID

    @event("Followed")
    def __init__(self, entries: list[dict[str, Any]], book_version: int, causation_id: str) -> None:
        # Plain JSON values (the TariffEntry records as published): the state may be snapshotted.
        self.entries: list[dict[str, Any]] = []
        self.book_version = 0
        self._note(entries, book_version)

    def follow(self, entries: list[dict[str, Any]], book_version: int, causation_id: str) -> None:
        """Keep the entries not followed yet (none new: nothing is recorded)."""
        known = {e["entry_id"] for e in self.entries}
        new = [e for e in entries if e["entry_id"] not in known]
        if new:
            self._followed_again(entries=new, book_version=book_version, causation_id=causation_id)

    @event("FollowedAgain")
    def _followed_again(
        self, entries: list[dict[str, Any]], book_version: int, causation_id: str
    ) -> None:
        self._note(entries, book_version)

    def _note(self, entries: list[dict[str, Any]], book_version: int) -> None:
        self.entries.extend(entries)
        self.book_version = max(self.book_version, book_version)

    def terms(self, seeds: tuple[ContractTerm, ...]) -> tuple[ContractTerm, ...]:
        return followed(seeds, self.entries)


def when_tariffs_recorded_follow_terms(uow: UnitOfWork, envelope: Envelope[Any]) -> None:
    recorded: TariffRecorded = envelope.message
    entries = [
        {"kind": e.kind, "entry_id": e.entry_id, "ref": e.ref, "fields": e.fields}
        for e in recorded.entries
        if e.kind in FOLLOWED_KINDS
    ]
    if not entries:
        return  # a price, an index, posts: not intake's
    book = uow.get(TERMS_ID, FollowedTerms)
    if book is None:
        uow.add(FollowedTerms(entries, recorded.book_version, str(envelope.id)))
    else:
        book.follow(entries, recorded.book_version, str(envelope.id))


def policy_for(policy: IntakePolicy, book: FollowedTerms | None) -> IntakePolicy:
    """``policy`` with the contract terms billing has recorded (the seeds' where none)."""
    if book is None:
        return policy
    return replace(policy, contract_terms=book.terms(policy.contract_terms))


HANDLERS = {TariffRecorded.type_name: when_tariffs_recorded_follow_terms}
LOOKUPS = {TariffRecorded.type_name: lambda _recorded: (TERMS_ID,)}
