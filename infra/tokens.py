"""API tokens and who they stand for: a token is a random string of 256 bits, and the settings
(``LOTS_API_TOKENS``) keep only its SHA-256 with its role (and a publisher's sources). A plain
hash is enough: nobody can guess a 256-bit secret, so a slow password hash would only cost
time on every request. :class:`infra.auth.TokenRegistry` checks a presented token against them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from infra.settings import Role, TokenEntry

TOKEN_PREFIX = "lots_"


@dataclass(frozen=True)
class Principal:
    """The caller a valid token stands for."""

    role: Role
    sources: frozenset[str] = frozenset()
    name: str | None = None

    def may_publish_as(self, source: object) -> bool:
        return self.role is Role.PUBLISHER and isinstance(source, str) and source in self.sources


def new_token() -> str:
    """A fresh token: 32 random bytes, URL-safe, with a prefix that secret scanners know."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def entry_for(
    token: str, role: Role, sources: Iterable[str] = (), name: str | None = None
) -> TokenEntry:
    return TokenEntry(sha256=digest(token), role=role, sources=frozenset(sources), name=name)
