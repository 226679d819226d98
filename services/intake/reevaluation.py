"""A referral rejected as not resident, answered again when its residency exception is recorded.

Counselling serves residents of Linköping, with exceptions agreed with the administration (003
§2.3). An exception recorded before its referral arrives applies when it does. One recorded
after the referral was rejected as ``not_resident`` takes effect too (issue 14, item 13):

* **What is kept.** A referral rejected only as not resident (every reason ``not_resident``:
  the one rejection an exception turns into an acceptance) keeps its content, so that it can be
  evaluated again: its persons sealed with their own keys like a case's (``household``), the
  rest of the message sealed with the key of the person it is about (``content``). It is erased
  like a case's personal data: five years after its last entry, unless a case of the same
  person keeps them longer (:mod:`services.intake.retention`). Other rejections keep nothing.
* **Where.** That rejection is kept under the id the referral's exception would have
  (:func:`awaiting_id`), not under the referral's key, so that the key is free for the case the
  exception opens: ``case_id`` stays the referral's key as for every case. Its answer is found
  there (:func:`answer_in`) by a repeat, by ``GET /referrals/...`` and by the exception.
  Sharing one id with the exception also settles the race of two instances, one answering the
  referral while the other records its exception: only one of the two can be stored there
  first; the other's write is refused and applied again on what the first stored.
* **What recording the exception does** (``POST /residency-exceptions``, :func:`grant`): in
  one transaction it records the exception on the rejection (``RejectedReferral
  .ExceptionGranted``, with who granted it and why) and evaluates the kept referral again with
  the rules of the day it was received (age on that day, the indicator rule then in force) and
  the exception. Accepted, it opens the case; its ``ReferralReceived`` names the exception as
  its cause (``causation_id`` and ``residency_exception_id``) and the rejection it replaces
  (``supersedes``). Deadlines run from the moment the exception was recorded, when the
  provider could first take the case: the first contact 14 days, the acknowledgement 24
  weekday hours from then (``received_at`` stays the referral's own). Were it still rejected
  (a rule changed meanwhile), a ``ReferralRejected`` with the new reasons is published the same
  way. A replay or a republished outbox gives the same messages under the same ids.
* **Afterwards** the referral's key has the new answer: ``GET /referrals/{source}/{id}``
  returns it, and the referral sent again is answered with it (``repeat_of`` naming it).
* **Not re-evaluated**: a referral rejected for other reasons as well (an exception cannot
  mend them: the sender corrects it and sends it under a new ``referral_id``, for which the
  administration records the exception), or rejected before intake kept rejected referrals'
  content, or whose content was erased: the exception is recorded and the answer stands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from events.intake import Reason
from events.referrals import SubmitReferral
from infra.calendar import local_date
from infra.commands import Busy
from infra.pii import ERASED, seal, unseal
from infra.unit_of_work import UnitOfWork
from services.intake.domain import RejectedReferral, ResidencyException
from services.intake.domain_case import Case
from services.intake.eligibility import policy_at
from services.intake.inbound import UnreadableReferral
from services.intake.personal_numbers import parse_personal_number
from services.intake.ports import Answering, Recording
from services.intake.records import main_subject, open_case
from services.intake.referral_keys import referral_key
from services.intake.rules import Accepted, evaluate


def awaiting_id(source: str, referral_id: str) -> UUID:
    """Where a referral rejected only as not resident waits: its exception's id."""
    return ResidencyException.create_id(source, referral_id)


def answer_in(uow: UnitOfWork, source: str, referral_id: str) -> Case | RejectedReferral | None:
    """The referral's answer as it stands: under its key, else waiting for an exception."""
    found = uow.get(referral_key(source, referral_id), Aggregate)
    if isinstance(found, Case | RejectedReferral):
        return found
    waiting = uow.get(awaiting_id(source, referral_id), Aggregate)
    return waiting if isinstance(waiting, RejectedReferral) else None


def only_residency(reasons: Sequence[Reason]) -> bool:
    return bool(reasons) and all(r.code == "not_resident" for r in reasons)


def rejection(
    app: Answering,
    referral: SubmitReferral | UnreadableReferral,
    received_at: datetime,
    reasons: Sequence[Reason],
    causation_id: str,
    fingerprint: str,
) -> RejectedReferral:
    """The recorded rejection; one only as not resident keeps the referral (sealed)."""
    kept: dict[str, Any] = {}
    if isinstance(referral, SubmitReferral) and only_residency(reasons):
        kept = _kept(app, referral, received_at)
    return RejectedReferral(
        key=referral_key(referral.source, referral.referral_id),
        source=referral.source,
        referral_id=referral.referral_id,
        received_at=received_at,
        reasons=[r.model_dump() for r in reasons],
        causation_id=causation_id,
        fingerprint=fingerprint,
        **kept,
    )


def _kept(app: Answering, referral: SubmitReferral, received_at: datetime) -> dict[str, Any]:
    day = local_date(received_at)
    household = []
    for person in referral.persons:
        parsed = parse_personal_number(person.personal_number, day)
        assert not isinstance(parsed, str)  # only residency was wrong: every number is valid
        ref = str(app.person_ref(parsed[0]))
        household.append(
            {
                "person_ref": ref,
                "personal_number": seal(app.staged_keys, ref, parsed[0]),
                "name": seal(app.staged_keys, ref, person.name),
                "role": person.role,
                "municipality_code": person.municipality_code,
            }
        )
    rest = referral.model_dump(mode="json", exclude={"source", "referral_id", "persons"})
    text = json.dumps(rest, sort_keys=True, ensure_ascii=False)
    return {
        "exception_id": awaiting_id(referral.source, referral.referral_id),
        "household": household,
        "content": seal(app.staged_keys, main_subject(household), text),
    }


def restore(app: Recording, rejected: RejectedReferral) -> SubmitReferral | None:
    """The kept referral as it was received; None if it was not kept or has been erased."""
    if not rejected.household or rejected.content is None:
        return None
    text = unseal(app.store, main_subject(rejected.household), rejected.content)
    persons = []
    for member in rejected.household:
        ref = member["person_ref"]
        number = unseal(app.store, ref, member["personal_number"])
        if number in (None, ERASED) or text in (None, ERASED):
            return None
        persons.append(
            {
                "role": member["role"],
                "personal_number": number,
                "name": unseal(app.store, ref, member["name"]),
                "municipality_code": member["municipality_code"],
            }
        )
    assert text is not None
    return SubmitReferral.model_validate(
        {
            **json.loads(text),
            "source": rejected.source,
            "referral_id": rejected.referral_id,
            "persons": persons,
        }
    )


def grant(
    app: Recording, source: str, referral_id: str, granted_by: str, reason: str
) -> tuple[UUID, bool]:
    """Record the administration's residency exception for a referral; evaluate the referral
    again if it waits for it. Returns the exception's id and whether the referral was
    evaluated again under it (now, or when the same exception was recorded before)."""
    exception_id = awaiting_id(source, referral_id)

    def record(uow: UnitOfWork) -> tuple[UUID, bool]:  # another instance may answer meanwhile
        app.staged_keys.clear()
        found = uow.get(exception_id, Aggregate)
        if isinstance(found, ResidencyException):
            return exception_id, False  # recorded before: the same answer
        if isinstance(found, RejectedReferral) and found.reconsidered:
            return exception_id, found.reevaluated
        if isinstance(found, RejectedReferral):
            reconsider(uow, app, found, granted_by, reason)
        else:
            uow.add(
                ResidencyException(
                    source=source,
                    referral_id=referral_id,
                    granted_by=granted_by,
                    reason=reason,
                    granted_at=app.clock(),
                )
            )
        return exception_id, isinstance(found, RejectedReferral) and found.reevaluated

    return app.transact(
        record,
        busy=lambda: Busy(
            f"the referral {exception_id} kept changing under this exception; try again"
        ),
    )


def reconsider(
    uow: UnitOfWork, app: Recording, rejected: RejectedReferral, granted_by: str, reason: str
) -> None:
    """Evaluate the kept referral again under its exception and record what it gave."""
    now = app.clock()
    first = next(iter(app.events.get(rejected.id, lte=1)))
    supersedes = app.message_id(first)
    referral = restore(app, rejected)
    if referral is None:
        rejected.reconsider(granted_by, reason, now, None, None, supersedes)
        return
    outcome = evaluate(
        referral,
        received_at=rejected.received_at,
        policy=policy_at(app, uow, rejected.received_at),
        residency_exception=True,
        deadlines_from=now,
    )
    if not isinstance(outcome, Accepted):
        reasons = [r.model_dump() for r in outcome.reasons]
        rejected.reconsider(granted_by, reason, now, None, reasons, supersedes)
        return
    # The exception first, then the case it opens (under the referral's key), in that order.
    rejected.reconsider(granted_by, reason, now, rejected.key, None, supersedes)
    case = open_case(
        app,
        referral,
        outcome,
        rejected.received_at,
        causation_id=str(rejected.id),
        fingerprint=rejected.fingerprint,
        residency_exception_id=rejected.id,
        supersedes=supersedes,
    )
    uow.add(case)
