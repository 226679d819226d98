"""What a referral says beside its persons, kept with its case: sealed, shown by role, erased.

A case keeps the referral's ``decision_ref`` (why a decided case has priority), the consent
form's ``form_ref`` and ``given_at``, and the ``note`` (issue 14, item 10). They are personal
data about the family, so they are stored in ``Case.Opened`` only sealed (:mod:`infra.pii`)
with the key of the person the case is about (its child, else its first member: the key its
other free text is sealed with, :mod:`services.intake.registers`): when that person's data is
erased (:mod:`services.intake.retention`) they read ``(erased)`` like the names and numbers.

Who sees them in ``lots audit case``: the references (decision, consent form and date) are
shown to the roles of ``LOTS_AUDIT_RECORD_ROLES`` (case officers and auditors by default: an
auditor checks a priority against its decision and a coordinated case against its consent
form); the note, free text about the family, only to the roles that see personal data
(``LOTS_AUDIT_PERSONAL_DATA_ROLES``). On ``intake.events``, and so in ``lots export``, a
``ReferralReceived`` says only whether each exists (``has_decision_ref``,
``has_consent_form_ref``, ``has_consent_given_at``, ``has_note``), never the text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from events.referrals import SubmitReferral
from infra.calendar import local_date
from infra.contract_terms import NoContract
from infra.pii import KeyStore, seal, unseal
from services.intake import event_types as stored
from services.intake.domain_case import Case
from services.intake.personal_numbers import parse_personal_number
from services.intake.ports import Answering, Recording
from services.intake.referral_keys import referral_key
from services.intake.rules import Accepted

#: The references kept: shown to the record roles.
REFERENCES = ("decision_ref", "consent_form_ref", "consent_given_at")
#: The free text kept (and a kept referral's content): shown to the personal-data roles.
TEXTS = ("note", "content")


def main_subject(household: Sequence[Mapping[str, Any]]) -> str:
    """The person a case is about: its child, else its first member (their ``person_ref``)."""
    child = next((m for m in household if m["role"] == "child"), household[0])
    return str(child["person_ref"])


def sealed_records(keys: KeyStore, subject: str, referral: SubmitReferral) -> dict[str, Any]:
    """The referral's references and note, each sealed with ``subject``'s key (None if not
    given; a blank text is not given)."""
    consent = referral.consent
    given_at = consent.given_at.isoformat() if consent and consent.given_at else None
    plain = {
        "decision_ref": referral.decision_ref,
        "consent_form_ref": consent.form_ref if consent else None,
        "consent_given_at": given_at,
        "note": referral.note,
    }
    return {
        name: seal(keys, subject, value) if value and value.strip() else None
        for name, value in plain.items()
    }


def has_records(event: stored.CaseOpened) -> dict[str, bool | None]:
    """Whether the case's referral gave each record (None: opened before they were kept)."""
    kept = vars(event)
    return {
        name: None if name not in kept else kept[name] is not None for name in (*REFERENCES, "note")
    }


def open_case(
    app: Answering,
    referral: SubmitReferral,
    outcome: Accepted,
    received_at: datetime,
    causation_id: str,
    fingerprint: str | None,
    residency_exception_id: UUID | None = None,
    supersedes: UUID | None = None,
) -> Case:
    """The case an accepted referral opens, its persons and records sealed; with the residency
    exception that accepted it and the answer it replaces, if any."""
    day = local_date(received_at)
    household = [
        app.member(m, _name_of(referral, m.personal_number, day)) for m in outcome.household
    ]
    return Case(
        case_id=referral_key(referral.source, referral.referral_id),
        source=referral.source,
        referral_id=referral.referral_id,
        programme=outcome.programme,
        basis=outcome.basis,
        urgency=outcome.urgency,
        priority=outcome.priority,
        received_at=received_at,
        first_contact_due=outcome.first_contact_due,
        ack_due=outcome.ack_due,
        household=household,
        indicators_met=list(outcome.indicators_met),
        consent=outcome.consent,
        causation_id=causation_id,
        fingerprint=fingerprint,
        **sealed_records(app.staged_keys, main_subject(household), referral),
        residency_exception_id=residency_exception_id,
        supersedes=supersedes,
        no_contract_in_force=_notice(outcome.no_contract),
    )


def _notice(found: NoContract | None) -> dict[str, Any] | None:
    """What the answer says of a programme with no contract in force (no personal data)."""
    if found is None:
        return None
    ended = found.ended_on.isoformat() if found.ended_on is not None else None
    return {"contract": found.contract, "ended_on": ended, "message": found.message}


def _name_of(referral: SubmitReferral, personal_number: str, day: Any) -> str | None:
    for person in referral.persons:
        parsed = parse_personal_number(person.personal_number, day)
        if not isinstance(parsed, str) and parsed[0] == personal_number:
            return person.name
    return None


def reveal_event(
    app: Recording, data: dict[str, Any], case_id: UUID, *, personal: bool, records: bool
) -> dict[str, Any]:
    """An intake event's sealed data readable (or ``(erased)``) as far as the looker may see
    it: persons and free text with ``personal``, the references with ``records``."""
    household = data.get("household")
    if not isinstance(household, list) or not household:
        return app.reveal_texts(data, case_id) if personal else data
    out = dict(data)
    subject = main_subject(household)
    if personal:
        out["household"] = [app.reveal(m) for m in household]
    shown = (REFERENCES if records else ()) + (TEXTS if personal else ())
    for name in shown:
        if isinstance(out.get(name), str):
            out[name] = unseal(app.store, subject, out[name])
    return out
