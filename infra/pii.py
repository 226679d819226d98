"""Personal data sealed with a key of its own per person, so that it can be erased.

Each person (a *subject*: their pseudonymous ``person_ref``) gets a random AES-256-GCM key kept
outside the event log. Their personal number and name are stored in events only sealed with
it. Erasing a person deletes the key (crypto-shredding): the events stay, byte for byte, so the
hash chain still verifies and settlements still replay, but the data can no longer be read.

A person whose data was erased may come back (a new referral years later): what is recorded of
them from then on is sealed under a new key, their key's next *generation* (kept as the subject
``<subject>#<n>``), and says so (``pii:v2:<n>:``); what was erased stays unreadable. Erasing a
subject erases every generation of its key.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "pii:v1:"
"""Sealed under the subject's first key."""
PREFIX_GENERATION = "pii:v2:"
"""``pii:v2:<n>:``: sealed under generation ``n`` (2, 3, ...) of the subject's key."""
ERASED = "(erased)"


def generation_subject(subject: str, generation: int) -> str:
    """The name a generation of the subject's key is kept under."""
    return subject if generation == 1 else f"{subject}#{generation}"


class KeyStore(Protocol):
    def subject_key(self, subject: str, new_key: bytes | None) -> bytes | None: ...


class KeyRecords(Protocol):
    def stored_subject_key(self, subject: str) -> tuple[bool, bytes | None]: ...

    def stored_subject_keys(self, subjects: Iterable[str]) -> dict[str, bytes | None]: ...


class StagedKeys:
    """A key store whose new keys are written in the same transaction as the events they seal.

    Making each new person's key in a transaction of its own cost a commit (an fsync) per
    person, half of intake's time per referral. Here a new key is kept until the application
    saves, and the recorder inserts it with the events (``subject_keys`` of ``save``): both are
    stored or neither. If another instance made a key for the same person meanwhile, the insert
    fails like any concurrent write, and the batch is applied again with the stored key.
    """

    def __init__(self, records: KeyRecords) -> None:
        self.records = records
        self._staged: dict[str, bytes] = {}
        #: Read ahead for a unit of work (:meth:`prefetch`): whether stored, and the key.
        self._read: dict[str, tuple[bool, bytes | None]] = {}

    def prefetch(self, subjects: Iterable[str]) -> None:
        """Read the keys of these subjects in one query (a batch's persons) instead of one
        query each; valid until the next save or :meth:`clear`."""
        wanted = [s for s in subjects if s not in self._read and s not in self._staged]
        if wanted:
            found = self.records.stored_subject_keys(wanted)
            self._read.update((s, (s in found, found.get(s))) for s in wanted)

    def subject_key(self, subject: str, new_key: bytes | None) -> bytes | None:
        if subject in self._staged:
            return self._staged[subject]
        read = self._read.get(subject)
        stored, key = read if read is not None else self.records.stored_subject_key(subject)
        if stored or new_key is None:
            return key
        self._staged[subject] = new_key
        return new_key

    def take(self) -> dict[str, bytes]:
        """The keys made since the last save, to be inserted with its events; forgotten here."""
        staged, self._staged = self._staged, {}
        self._read.clear()
        return staged

    def clear(self) -> None:
        self._staged.clear()
        self._read.clear()


def seal(store: KeyStore, subject: str, value: str | None) -> str | None:
    """``value`` encrypted under the subject's key (made on first use; if the subject's data
    was erased, under the next generation of their key); None stays None."""
    if value is None:
        return None
    generation = 1
    while True:
        name = generation_subject(subject, generation)
        key = store.subject_key(name, AESGCM.generate_key(bit_length=256))
        if key is not None:
            break
        generation += 1  # erased: a new generation for what is recorded from now on
    nonce = os.urandom(12)
    sealed = base64.b64encode(nonce + AESGCM(key).encrypt(nonce, value.encode(), name.encode()))
    if generation == 1:
        return PREFIX + sealed.decode()
    return f"{PREFIX_GENERATION}{generation}:{sealed.decode()}"


def unseal(store: KeyStore, subject: str, value: str | None) -> str | None:
    """The plain value; :data:`ERASED` once the key it was sealed with is gone. Plain input is
    returned as it is (events written before sealing)."""
    if value is None:
        return value
    if value.startswith(PREFIX):
        name, body = subject, value[len(PREFIX) :]
    elif value.startswith(PREFIX_GENERATION):
        generation, _, body = value[len(PREFIX_GENERATION) :].partition(":")
        name = generation_subject(subject, int(generation))
    else:
        return value
    key = store.subject_key(name, None)
    if key is None:
        return ERASED
    raw = base64.b64decode(body)
    return AESGCM(key).decrypt(raw[:12], raw[12:], name.encode()).decode()
