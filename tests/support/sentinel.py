"""A Redis master, a replica and three sentinels, real processes on loopback ports of their own
(``redis-server``, and ``redis-server --sentinel``: the same binary)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import redis

from infra.redis_server import redis_server_binary
from tests.conftest import free_port

MASTER = "lots"
#: A master silent this long is down for a sentinel; two sentinels agreeing start a failover.
DOWN_AFTER_MS = 500


class SentinelGroup:
    """Start with :meth:`start`, stop with :meth:`stop`; :meth:`kill_master` for the fault."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.binary = redis_server_binary()
        self.ports = {"master": free_port(), "replica": free_port()}
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def sentinels(self) -> str:
        """``LOTS_REDIS_SENTINELS``."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def _spawn(self, name: str, *args: str) -> None:
        work = self.directory / name
        work.mkdir(parents=True, exist_ok=True)
        log = (work / "out.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [self.binary, *args], cwd=work, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def _server(self, name: str, *extra: str) -> None:
        port = self.ports[name]
        self._spawn(
            name, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.directory / name), *extra,
        )  # fmt: skip
        wait_for(lambda: redis.Redis(port=port).ping())

    def start(self) -> None:
        self._server("master")
        self._server("replica", "--replicaof", "127.0.0.1", str(self.ports["master"]))
        replica = redis.Redis(port=self.ports["replica"], decode_responses=True)
        wait_for(lambda: replica.info("replication")["master_link_status"] == "up")
        for n, port in enumerate(self.sentinel_ports):
            conf = self.directory / f"sentinel{n}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.ports['master']} 2\n"
                f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {MASTER} 5000\n"
            )
            self._spawn(f"sentinel{n}", str(conf), "--sentinel")
        for port in self.sentinel_ports:
            watcher = redis.Redis(port=port, decode_responses=True)
            # Every sentinel knows the replica and the two other sentinels: a failover can run.
            wait_for(lambda w=watcher: _ready(w), timeout=30)

    def master_port(self, sentinel: int = 0) -> int:
        watcher = redis.Redis(port=self.sentinel_ports[sentinel], decode_responses=True)
        return int(watcher.sentinel_get_master_addr_by_name(MASTER)[1])

    def kill_master(self) -> int:
        """SIGKILL the master the sentinels name now; its port."""
        port = self.master_port()
        name = next(n for n, p in self.ports.items() if p == port)
        os.kill(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait()
        return port

    def wait_for_failover(self, old_port: int) -> int:
        """Wait until every sentinel names a new master that answers as a master; its port."""
        wait_for(lambda: all(self.master_port(n) != old_port for n in range(3)), timeout=30)
        port = self.master_port()
        promoted = redis.Redis(port=port, decode_responses=True)
        wait_for(lambda: promoted.info("replication")["role"] == "master", timeout=30)
        return port

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _ready(watcher: redis.Redis) -> bool:
    state: dict[str, Any] = watcher.sentinel_master(MASTER)
    replicas = watcher.sentinel_slaves(MASTER)
    return int(state.get("num-other-sentinels", 0)) == 2 and any(
        "disconnected" not in str(r.get("flags", "")) for r in replicas
    )


def wait_for(check: Any, timeout: float = 15.0) -> None:
    """Until ``check()`` is true (errors count as not yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (redis.RedisError, OSError, KeyError, IndexError, TypeError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
