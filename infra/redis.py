"""Redis clients of the project, and which Redis the settings name.

Every Redis client is made here (:func:`client`, :func:`async_client`, :func:`connect`), for
a ``redis://`` URL or a ``redis+sentinel://`` one, logged in as the settings say (:func:`auth`).
The URL is the one ``LOTS_REDIS_URL`` (or ``LOTS_REDIS_SENTINELS``) names, else the embedded
server's (:func:`chosen_url`); starting the embedded server, and refusing a named Redis that
does not answer, is :mod:`infra.redis_server`'s (:func:`~infra.redis_server.resolve_redis`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import redis
import redis.asyncio as aioredis
import structlog
from redis.maint_notifications import MaintNotificationsConfig

from infra import sentinel
from infra.settings import Settings

log = structlog.get_logger(__name__)


class RedisUnavailable(RuntimeError):
    """No Redis answered and the settings forbid starting one."""


def auth(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``redis.Redis.from_url`` that log in as ``settings`` say.

    ``CLIENT SETINFO`` is not sent: no ACL user is allowed it, and Redis 7.0 does not know it.
    """
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    return {"username": settings.redis_username, "password": password, "driver_info": None}


def connect(settings: Settings, **kwargs: Any) -> redis.Redis:
    """A client of the Redis ``settings`` choose (:func:`chosen_url`: the named one, on Sentinel
    its master, else the embedded one's), logged in as ``settings`` say."""
    return client(chosen_url(settings), **auth(settings), **kwargs)


#: redis-py 8 asks every new connection to turn on "maintenance notifications" (a Redis Cloud
#: feature): Redis 7 answers with an error that redis-py logs, and a restricted ACL user would
#: have it refused. The project uses none: not asked.
QUIET = MaintNotificationsConfig(enabled=False)


def client(url: str, **kwargs: Any) -> redis.Redis:
    """A client of ``url``: a ``redis://`` URL, or a ``redis+sentinel://`` one
    (:func:`infra.sentinel.parse`), whose client follows the master the sentinels name. Every
    Redis client of the project is made here or by :func:`async_client`."""
    address = sentinel.parse(url)
    if address is None:
        return redis.Redis.from_url(url, **{"maint_notifications_config": QUIET, **kwargs})
    return sentinel.master(address, **kwargs)


def async_client(url: str, **kwargs: Any) -> aioredis.Redis:
    """:func:`client` for asyncio."""
    address = sentinel.parse(url)
    if address is None:
        return aioredis.from_url(url, **{"maint_notifications_config": QUIET, **kwargs})
    return sentinel.async_master(address, **kwargs)


def reachable(url: str, timeout: float = 0.5, **credentials: Any) -> bool:
    """PING answers, as the user of ``credentials`` (see :func:`auth`; else ``default``).

    A refused login counts as not reachable."""
    pinged = client(url, socket_connect_timeout=timeout, socket_timeout=timeout, **credentials)
    try:
        return bool(pinged.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        pinged.close()


def where(url: str) -> str:
    """``url`` without the credentials it may hold (to connect anonymously, and to print)."""
    if url.startswith(f"{sentinel.SCHEME}://"):
        return url  # its form holds none (infra/sentinel.py)
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def embedded_url(settings: Settings) -> str:
    return f"redis://127.0.0.1:{settings.embedded_redis_port}/0"


def external(settings: Settings) -> bool:
    """``settings`` name the Redis to use (``LOTS_REDIS_URL``, or ``LOTS_REDIS_SENTINELS``)
    rather than the embedded one."""
    return settings.redis_address is not None and settings.embedded_redis != "always"


def chosen_url(settings: Settings) -> str:
    """The URL ``settings`` choose: the named Redis (:attr:`Settings.redis_address`), else the
    embedded one's (running or not)."""
    if external(settings):
        assert settings.redis_address is not None
        return settings.redis_address
    return embedded_url(settings)


def origin(settings: Settings, url: str) -> str:
    """Which Redis ``url`` is, in words: the embedded one (and where its data is) or the
    external one named by ``LOTS_REDIS_URL``. A child of ``lots up`` is handed the embedded
    one's URL, and still says it is the embedded one."""
    if url == embedded_url(settings):
        return f"embedded, started by lots, data in {settings.redis_dir}/"
    if sentinel.parse(url) is not None:
        return "external, its master named by the sentinels of LOTS_REDIS_SENTINELS"
    return "external, named by LOTS_REDIS_URL"
