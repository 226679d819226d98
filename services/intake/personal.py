"""Intake's personal data: who a person is on a stream, sealing and unsealing what identifies
them, and erasing it when its retention ends.

Persons leave intake only as pseudonymous ``person_ref`` UUIDs: a keyed hash of the personal
number, so the same person gets the same reference in every case, and nobody without intake's
key can compute it. A person's personal number and name are sealed with their own key
(:mod:`infra.pii`); erasure destroys that key (:mod:`services.intake.retention` says when).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from infra.application import ServiceApplication
from infra.pii import KeyStore, StagedKeys, seal, unseal
from infra.projections import keep
from services.intake.domain import PersonErased
from services.intake.household import Member
from services.intake.retention import RetentionWatch

log = structlog.get_logger(__name__)


class Persons:
    """Intake's keys to personal data: the pseudonym key, the staged keys that seal new
    persons' data, and the key store that unseals it."""

    def __init__(self, secret: bytes, staged_keys: StagedKeys, store: KeyStore) -> None:
        self._pseudonym_key = hmac.new(secret, b"lots person_ref v1", hashlib.sha256).digest()
        self.staged_keys = staged_keys
        self.store = store

    def pseudonym(self, value: bytes) -> UUID:
        """A UUID only intake's key can compute from ``value`` (a keyed hash)."""
        digest = hmac.new(self._pseudonym_key, value, hashlib.sha256).digest()
        return UUID(bytes=digest[:16], version=4)

    def person_ref(self, personal_number: str) -> UUID:
        return self.pseudonym(personal_number.encode())

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


def erase_expired(
    app: ServiceApplication, watch: RetentionWatch, now: datetime, years: int, chunk: int = 100
) -> list[str]:
    """Destroy the keys of every person whose cases' retention has ended; return them.

    The watch catches up with the log under its own lock only, so that its first scan of
    the whole log at start does not hold up the batches. Persons are then erased a chunk at
    a time, each chunk checked again under the application's lock with what was stored
    meanwhile: a person referred again since the check began keeps their data. The lock is
    let go between chunks, so referrals keep flowing.
    """
    with watch.lock:
        watch.advance(app)
        keep(app, watch)
        due = sorted(watch.expired(now, years))
    erased: list[str] = []
    for start in range(0, len(due), chunk):
        with app.lock, watch.lock:
            watch.advance(app)
            still = watch.expired(now, years, due[start : start + chunk])
            for ref, last_entry in sorted(still.items()):
                app.store.erase_subject(ref, now.isoformat())
                erasure = watch.erasures.get(ref, 0) + 1
                app.save(
                    PersonErased(person_ref=ref, at=now, last_entry=last_entry, erasure=erasure)
                )
                erased.append(ref)
        for ref in sorted(still):
            log.info("personal data erased", person_ref=ref)
    return erased
