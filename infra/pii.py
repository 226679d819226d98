"""Personal data sealed with a key of its own per person, so that it can be erased.

Each person (a *subject*: their pseudonymous ``person_ref``) gets a random AES-256-GCM key kept
outside the event log. Their personal number and name are stored in events only sealed with
it. Erasing a person deletes the key (crypto-shredding): the events stay, byte for byte, so the
hash chain still verifies and settlements still replay, but the data can no longer be read.
"""

from __future__ import annotations

import base64
import os
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "pii:v1:"
ERASED = "(erased)"


class KeyStore(Protocol):
    def subject_key(self, subject: str, new_key: bytes | None) -> bytes | None: ...


def seal(store: KeyStore, subject: str, value: str | None) -> str | None:
    """``value`` encrypted under the subject's key (made on first use); None stays None."""
    if value is None:
        return None
    key = store.subject_key(subject, AESGCM.generate_key(bit_length=256))
    if key is None:
        raise ValueError(f"subject {subject} was erased: nothing new is kept for them")
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), subject.encode())
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def unseal(store: KeyStore, subject: str, value: str | None) -> str | None:
    """The plain value; :data:`ERASED` once the subject's key is gone. Plain input is returned
    as it is (events written before sealing)."""
    if value is None or not value.startswith(PREFIX):
        return value
    key = store.subject_key(subject, None)
    if key is None:
        return ERASED
    raw = base64.b64decode(value[len(PREFIX) :])
    return AESGCM(key).decrypt(raw[:12], raw[12:], subject.encode()).decode()
