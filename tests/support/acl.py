"""A real redis-server 7 with the project's ACL, on a port of the test's own."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from infra.acl import USERS, password_hash, users
from infra.redis_server import EmbeddedRedis, redis_server_binary, server_version
from tests.conftest import free_port

PASSWORDS = {user: f"{user}-test-password" for user in USERS}


def password(user: str) -> str:
    """A user's password on :func:`acl_server`: those of :data:`USERS` and sources' own."""
    return f"{user}-test-password"


def require_redis7() -> None:
    binary = redis_server_binary()
    if server_version(binary) >= (7,):
        return
    reason = f"ACL selectors need redis-server 7 or newer; {binary} is older"
    if os.environ.get("LOTS_REQUIRE_REDIS7") == "1":
        pytest.fail(f"{reason} (LOTS_REQUIRE_REDIS7=1)")
    pytest.skip(reason)


@contextmanager
def acl_server(
    directory: Path, prefix: str, sources: Collection[str] = (), *, shared: bool = True
) -> Iterator[EmbeddedRedis]:
    """A redis-server 7 with the ACL of ``prefix``, ``sources`` with streams of their own and
    the ``shared`` stream open or not."""
    require_redis7()
    hashes = {user: [password_hash(password(user))] for user in users(sources)}
    server = EmbeddedRedis(
        free_port(), directory, acl=hashes, prefix=prefix, sources=frozenset(sources), shared=shared
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def as_user(url: str, user: str, **kwargs: Any) -> redis.Redis:
    return redis.Redis.from_url(
        url, username=user, password=password(user), driver_info=None, **kwargs
    )


def denials(url: str) -> list[dict[str, Any]]:
    """``ACL LOG``: every command or login the server refused, newest first."""
    admin = as_user(url, "admin", decode_responses=True)
    try:
        return list(admin.acl_log(count=1000))  # without a count, ACL LOG gives ten
    finally:
        admin.close()
