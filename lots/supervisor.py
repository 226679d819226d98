"""Running the three services as child processes, as ``lots up`` and ``lots demo`` do.

Redis is resolved once here (the embedded server is started if needed and stopped at the end)
and handed to the children, so that all three share it; on the embedded server each child logs
in as its own ACL user with its development password. A child that dies is started again;
SIGINT/SIGTERM stop the children gracefully (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import structlog

from infra.auth import Role
from infra.dev_tokens import bearer_headers, client_token
from infra.redis_guard import Guard, check, describe
from infra.redis_passwords import login
from infra.redis_server import EmbeddedRedis, resolve_redis
from infra.settings import SERVICES, ServiceName, Settings

log = structlog.get_logger(__name__)


def ports_in_use(
    settings: Settings, services: Iterable[ServiceName]
) -> list[tuple[ServiceName, int]]:
    """The services' HTTP ports that something already listens on."""
    taken: list[tuple[ServiceName, int]] = []
    for service in services:
        port = settings.port_of(service)
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((settings.http_host, port))
            except OSError:
                taken.append((service, port))
    return taken


@dataclass
class Supervisor:
    settings: Settings
    env: Mapping[str, str] = field(default_factory=dict)
    services: tuple[ServiceName, ...] = SERVICES
    redis_url: str = ""
    embedded: EmbeddedRedis | None = None
    children: dict[ServiceName, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: int = 0
    #: Where the children's output goes; None: this process's stdout and stderr.
    log_file: Path | None = None
    #: What a look at the resolved Redis found (its ACL): :mod:`infra.redis_guard`.
    guard: Guard | None = None

    def login(self, user: str) -> Settings:
        """This process's settings to reach the resolved Redis as ``user`` (infra/acl.py)."""
        return login(self.settings, self.redis_url, user)

    def redis_line(self) -> str:
        """Which Redis the services use and whether it has the project's users, in one line
        (after :meth:`start`)."""
        assert self.guard is not None, "started"
        return describe(self.settings, self.redis_url, self.guard)

    def redis_cli_lines(self) -> list[str]:
        """On the embedded Redis, the ``redis-cli`` commands that reach it: a referral sent as
        the publisher (``default``), the answers read as the operator. Nothing on another."""
        if self.embedded is None:
            return []
        port = self.settings.embedded_redis_port
        keys = self.settings.var_dir / "keys" / "redis" / "operator"
        return [
            f"send a referral: redis-cli -p {port} XADD intake.referrals '*' type "
            "SubmitReferral version 1 id ... data '{...}' (README, Publishing a referral)",
            f'read the answers: redis-cli -p {port} --user operator --pass "$(cat {keys})" '
            "--no-auth-warning XRANGE intake.events - +",
        ]

    def child_env(self, service: ServiceName | None = None) -> dict[str, str]:
        """The children's environment: this process's settings, then any overrides, then the
        Redis credentials of ``service``'s own user (on the embedded Redis)."""
        env = dict(os.environ)
        settings = self.login(service) if service is not None else self.settings
        for name, value in settings.model_dump(exclude={"consumer_name"}).items():
            if value is None:
                continue
            if name == "api_tokens":
                entries = [e.model_dump(mode="json") for e in settings.api_tokens]
                env["LOTS_API_TOKENS"] = json.dumps(entries)
                continue
            if hasattr(value, "get_secret_value"):
                value = value.get_secret_value()
            if isinstance(value, set | frozenset | list | tuple):
                value = json.dumps(sorted(value))  # pydantic-settings reads collections as JSON
            elif isinstance(value, dict):
                value = json.dumps(value, sort_keys=True)
            env[f"LOTS_{name.upper()}"] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
        env.update(self.env)
        env["LOTS_REDIS_URL"] = self.redis_url
        env["LOTS_EMBEDDED_REDIS"] = "never"  # the children use the Redis resolved here
        env["LOTS_VAR_DIR"] = str(self.settings.var_dir)
        return env

    def start(self, before_spawn: Callable[[str], None] | None = None) -> None:
        taken = ports_in_use(self.settings, self.services)
        if taken:  # another `lots up` or demo serves: its children would crash-loop on them
            raise RuntimeError(
                "port"
                + ("s " if len(taken) > 1 else " ")
                + ", ".join(f"{port} ({service})" for service, port in taken)
                + " already in use: is another `lots up` or `lots demo` running? Stop it, or "
                "give these services other ports (LOTS_INTAKE_PORT, LOTS_SCHEDULING_PORT, "
                "LOTS_BILLING_PORT)"
            )
        self.redis_url, self.embedded = resolve_redis(self.settings)
        # Production refuses an open Redis here, before any child would exit and be restarted
        # for the same reason; the children check again, and each warns in its log.
        self.guard = check(self.login("operator"), self.redis_url, warn=False)
        if before_spawn is not None:
            before_spawn(self.redis_url)
        for service in self.services:
            self.spawn(service)

    def spawn(self, service: ServiceName) -> None:
        out = None
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_file.open("ab")
        self.children[service] = subprocess.Popen(
            [sys.executable, "-m", f"services.{service}"],
            env=self.child_env(service),
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
        )
        if out is not None:
            out.close()

    def base_url(self, service: ServiceName) -> str:
        return f"http://{self.settings.http_host}:{self.settings.port_of(service)}"

    def client(self, service: ServiceName, role: Role, timeout: float = 60) -> httpx.Client:
        """An HTTP client of ``service`` holding the development token of ``role``."""
        return httpx.Client(
            base_url=self.base_url(service),
            headers=bearer_headers(client_token(self.settings, role)),
            timeout=timeout,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.services)
        while pending and time.monotonic() < deadline:
            for service in list(pending):
                child = self.children[service]
                if child.poll() is not None:
                    raise RuntimeError(f"{service} exited with status {child.returncode}")
                try:
                    response = httpx.get(f"{self.base_url(service)}/health/ready", timeout=1)
                except httpx.HTTPError:
                    continue
                if response.status_code == 200:
                    pending.discard(service)
            time.sleep(0.1)
        if pending:
            raise RuntimeError(f"not ready after {timeout:.0f} s: {', '.join(sorted(pending))}")

    def watch(self, stop_after: float | None = None) -> None:
        """Restart children that die, until interrupted (or ``stop_after`` seconds)."""
        deadline = None if stop_after is None else time.monotonic() + stop_after
        while deadline is None or time.monotonic() < deadline:
            self.restart_exited()
            time.sleep(0.5)

    def restart_exited(self) -> list[ServiceName]:
        """Start again every child that has exited; return which."""
        restarted: list[ServiceName] = []
        for service, child in list(self.children.items()):
            if child.poll() is not None:
                log.warning("service exited, restarting", service=service, status=child.returncode)
                self.restarts += 1
                self.spawn(service)
                restarted.append(service)
        return restarted

    def stop(self, grace: float = 15.0) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.children.clear()
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


@contextmanager
def running(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    before_spawn: Callable[[str], None] | None = None,
    log_file: Path | None = None,
) -> Iterator[Supervisor]:
    supervisor = Supervisor(settings, env or {}, log_file=log_file)
    try:
        supervisor.start(before_spawn)
        supervisor.wait_ready()
        yield supervisor
    finally:
        supervisor.stop()
