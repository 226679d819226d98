"""A real redis-server 7 with the project's ACL, on a port of the test's own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from infra.acl import USERS, password_hash
from infra.redis import EmbeddedRedis, redis_server_binary, server_version
from tests.conftest import free_port

PASSWORDS = {user: f"{user}-test-password" for user in USERS}


def require_redis7() -> None:
    binary = redis_server_binary()
    if server_version(binary) >= (7,):
        return
    reason = f"ACL selectors need redis-server 7 or newer; {binary} is older"
    if os.environ.get("LOTS_REQUIRE_REDIS7") == "1":
        pytest.fail(f"{reason} (LOTS_REQUIRE_REDIS7=1)")
    pytest.skip(reason)


@contextmanager
def acl_server(directory: Path, prefix: str) -> Iterator[EmbeddedRedis]:
    require_redis7()
    hashes = {user: [password_hash(p)] for user, p in PASSWORDS.items()}
    server = EmbeddedRedis(free_port(), directory, acl=hashes, prefix=prefix)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def as_user(url: str, user: str, **kwargs: Any) -> redis.Redis:
    return redis.Redis.from_url(
        url, username=user, password=PASSWORDS[user], driver_info=None, **kwargs
    )


def denials(url: str) -> list[dict[str, Any]]:
    """``ACL LOG``: every command or login the server refused, newest first."""
    admin = as_user(url, "admin", decode_responses=True)
    try:
        return list(admin.acl_log(count=1000))  # without a count, ACL LOG gives ten
    finally:
        admin.close()
