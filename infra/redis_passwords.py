"""The embedded Redis's development passwords: one a user of :mod:`infra.acl`, made on first
use and kept under ``var/keys/redis/`` (mode 0600); :func:`login` gives a process its user's.
"""

from __future__ import annotations

import secrets

from pydantic import SecretStr

from infra.acl import password_hash, users
from infra.redis import embedded_url
from infra.secret_files import kept_secret
from infra.settings import Settings


def dev_password(settings: Settings, user: str) -> str:
    """A development password of ``user`` for the embedded Redis, made on first use.

    Kept in ``var/keys/redis/<user>`` (mode 0600) like intake's development cipher key.
    """
    path = settings.var_dir / "keys" / "redis" / user
    return kept_secret(path, lambda: secrets.token_hex(24)).strip()


def dev_hashes(settings: Settings) -> dict[str, list[str]]:
    """Every user's development password hash, sources' own (``LOTS_INTAKE_SOURCES``) too."""
    return {
        user: [password_hash(dev_password(settings, user))]
        for user in users(settings.intake_sources)
    }


def login(settings: Settings, url: str, user: str) -> Settings:
    """``settings`` to reach ``url`` as ``user``: the configured credentials if any, else on
    the embedded Redis ``user``'s development password, else none (the ``default`` user)."""
    configured = settings.redis_username is not None or settings.redis_password is not None
    if configured or url != embedded_url(settings):
        return settings.model_copy(update={"redis_url": url})
    password = SecretStr(dev_password(settings, user))
    return settings.model_copy(
        update={"redis_url": url, "redis_username": user, "redis_password": password}
    )
