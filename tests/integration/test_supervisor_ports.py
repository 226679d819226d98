"""A second ``lots up`` (or a demo while one serves) refuses at once, naming the ports in use."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from infra.settings import Settings
from lots.cli import app as cli
from lots.supervisor import Supervisor
from tests.conftest import free_port


def test_a_second_supervisor_refuses_ports_in_use_and_starts_nothing(settings: Settings) -> None:
    ports = {f"{s}_port": free_port() for s in ("intake", "scheduling", "billing")}
    settings = settings.model_copy(update=ports)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", ports["scheduling_port"]))
        listening.listen()
        supervisor = Supervisor(settings)
        with pytest.raises(RuntimeError) as refused:
            supervisor.start()
    assert f"port {ports['scheduling_port']} (scheduling) already in use" in str(refused.value)
    assert supervisor.children == {}


def test_lots_up_says_which_ports_are_taken_and_exits_1(settings: Settings) -> None:
    with socket.socket() as a, socket.socket() as b:
        for s in (a, b):
            s.bind(("127.0.0.1", 0))
            s.listen()
        env = {
            "LOTS_VAR_DIR": str(settings.var_dir),
            "LOTS_REDIS_URL": settings.redis_url,
            "LOTS_EMBEDDED_REDIS": "never",
            "LOTS_INTAKE_PORT": str(a.getsockname()[1]),
            "LOTS_SCHEDULING_PORT": str(free_port()),
            "LOTS_BILLING_PORT": str(b.getsockname()[1]),
        }
        done = CliRunner().invoke(cli, ["up"], env=env)
    assert done.exit_code == 1
    assert "ports " in done.stderr and "(intake)" in done.stderr and "(billing)" in done.stderr
    assert "another `lots up`" in done.stderr
