"""The project's Redis clients ask a connection only what the project uses: no "maintenance
notifications" handshake, which Redis 7 answers with an error (logged by redis-py, refused to a
restricted ACL user)."""

from __future__ import annotations

import logging

import pytest

from infra.redis import async_client, client


def test_a_new_connection_asks_for_no_maintenance_notifications(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="redis")
    made = client(redis_url)
    assert made.ping()
    made.close()
    assert not [r for r in caplog.records if "maintenance notifications" in r.getMessage()]


async def test_an_async_connection_asks_for_none_either(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="redis")
    made = async_client(redis_url)
    assert await made.ping()
    await made.aclose()
    assert not [r for r in caplog.records if "maintenance notifications" in r.getMessage()]
