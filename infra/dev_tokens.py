"""Development's API tokens: with no tokens configured, development uses tokens of its own, one
per role, kept in ``var/keys/api-tokens.json`` (like the development cipher key); production
refuses them. The project's own clients (the demo, the status page link, the tests) call with
them.
"""

from __future__ import annotations

import json
from pathlib import Path

from infra.secret_files import kept_secret
from infra.settings import Role, Settings, SettingsError, TokenEntry
from infra.tokens import entry_for, new_token

#: The sources the development publisher token may submit as (the demo's three).
DEV_PUBLISHER_SOURCES = frozenset(
    {"linkoping.elevhalsa", "linkoping.socialtjanst", "region.ostergotland.bup"}
)


def _dev_path(settings: Settings) -> Path:
    return settings.var_dir / "keys" / "api-tokens.json"


def dev_tokens(settings: Settings) -> dict[Role, str]:
    """Development only: one token per role, made once and kept (mode 0600) under var/keys/."""
    if settings.env == "production":
        raise SettingsError("development tokens are not used in production (LOTS_API_TOKENS)")
    stored = json.loads(kept_secret(_dev_path(settings), _new_dev_tokens))
    return {role: str(stored[role.value]) for role in Role}


def _new_dev_tokens() -> str:
    return json.dumps({role.value: new_token() for role in Role}, indent=2)


def dev_entries(settings: Settings) -> list[TokenEntry]:
    return [
        entry_for(
            token,
            role,
            DEV_PUBLISHER_SOURCES if role is Role.PUBLISHER else (),
            name=f"development {role}",
        )
        for role, token in dev_tokens(settings).items()
    ]


def client_token(settings: Settings, role: Role) -> str:
    """The token the project's own clients (demo, status page link) use: the development one.

    With tokens configured the plain tokens are not known here, so this refuses clearly.
    """
    if settings.api_tokens:
        raise SettingsError(
            "LOTS_API_TOKENS is set, so the development tokens are not accepted: the demo and "
            "the status page link use them; unset LOTS_API_TOKENS to run them"
        )
    return dev_tokens(settings)[role]


def bearer_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
