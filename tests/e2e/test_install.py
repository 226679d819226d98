"""The package as a user installs it: a wheel of what the Dockerfile copies, installed without
extras into a clean venv, running the commands a user runs.

The tests' own venv has the dev extras, so a shipped module that imports one of them passes
every other test and fails for a user (``ModuleNotFoundError: httpx`` once). One venv is made
per test session (about 35 s, pip's cache and index as configured); the commands get their own
var directory, and Redis on a port where nothing answers, so they start their own embedded Redis
on a free port and never touch the machine's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "scheduling", "billing")

#: Imports every module of the installed packages but the ``__main__`` ones (those serve).
IMPORT_ALL = """
import importlib, pkgutil, sys
failed = []
for name in ("events", "infra", "services", "lots"):
    package = importlib.import_module(name)
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        if module.name.rsplit(".", 1)[-1] == "__main__":
            continue
        try:
            importlib.import_module(module.name)
        except Exception as exc:
            failed.append(f"{module.name}: {type(exc).__name__}: {exc}")
print(package.__file__)
sys.exit("\\n".join(failed) or None)
"""


def docker_context() -> list[str]:
    """What the Dockerfile copies into the image before ``pip install .``."""
    sources: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"]:
            sources += words[1:-1]
    return sources


def run(
    *command: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv holding the project's wheel and its dependencies, no extras; its bin/."""
    work = tmp_path_factory.mktemp("install")
    context = work / "context"
    context.mkdir()
    for name in docker_context():
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, context / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, context / name)
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist",
                context)  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (work / "dist").glob("lots-*.whl")
    made = run(sys.executable, "-m", "venv", "--clear", work / "venv")
    assert made.returncode == 0, made.stderr[-3000:]
    bin_dir = work / "venv" / "bin"
    installed = run(bin_dir / "python", "-m", "pip", "install", "-q", wheel)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return bin_dir


def user_env(var_dir: Path, **settings: str) -> dict[str, str]:
    """This machine's environment without any LOTS_ setting, then the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTS_")}
    env.update(LOTS_VAR_DIR=str(var_dir), **settings)  # no LOTS_REDIS_URL: the embedded one
    return env


def test_the_wheel_brings_every_import_without_the_dev_extras(venv: Path, tmp_path: Path) -> None:
    listed = run(venv / "python", "-m", "pip", "list", "--format", "json")
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "lots" in names and not names & {"pytest", "hypothesis", "mypy", "ruff"}
    imported = run(venv / "python", "-c", IMPORT_ALL, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert str(venv.parent) in imported.stdout, "the installed package, not the source tree"


def test_lots_help_lists_the_verbs(venv: Path, tmp_path: Path) -> None:
    shown = run(venv / "lots", "--help", cwd=tmp_path, env=user_env(tmp_path / "var"))
    assert shown.returncode == 0, shown.stderr[-3000:]
    for verb in ("demo", "up", "status", "audit", "settlement", "export"):
        assert verb in shown.stdout


def test_lots_status_without_redis_reports_it_and_exits_1(venv: Path, tmp_path: Path) -> None:
    env = user_env(tmp_path / "var", LOTS_EMBEDDED_REDIS="never")
    done = run(venv / "lots", "status", "--json", cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 1, done.stderr[-3000:]  # documented: 1 when not healthy
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["healthy"] is False and "Redis does not answer" in report["problems"]
    assert set(report["services"]) == set(SERVICES)


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture
def up(venv: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """``lots up`` on its embedded Redis (a free port), until the test stops it."""
    ports = {f"LOTS_{s.upper()}_PORT": str(free_port()) for s in SERVICES}
    env = user_env(
        tmp_path / "var",
        LOTS_EMBEDDED_REDIS_PORT=str(free_port()),
        LOTS_STATUS_PORT=str(free_port()),
        **ports,
    )
    log = (tmp_path / "up.log").open("w")
    process = subprocess.Popen(
        [str(venv / "lots"), "up"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        yield process, env
    finally:
        if process.poll() is None:  # a failed test: stopped as Ctrl-C does, children included
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def answered_through_the_printed_redis_cli(tmp_path: Path) -> None:
    """The ``redis-cli`` lines ``lots up`` prints reach its embedded Redis: a referral sent as
    the README sends it is answered, and the printed read shows the answer."""
    deadline = time.monotonic() + 30
    while "read the answers: " not in (log := (tmp_path / "up.log").read_text()):
        assert time.monotonic() < deadline, log[-3000:]
        time.sleep(0.2)
    hints = dict(
        line.split(": ", 1) for line in log.splitlines() if line.startswith(("send a", "read t"))
    )
    send = hints["send a referral"].split(" XADD ")[0]  # redis-cli -p PORT
    body = json.dumps({
        "source": "linkoping.elevhalsa", "referral_id": "EH-2026-UP-1", "programme": "counselling",
        "basis": "service", "urgency": "normal",
        "persons": [
            {"role": "child", "personal_number": "201407142395", "municipality_code": "0580"}
        ],
    })  # fmt: skip
    uid = "6b1f0c1e-3b6a-4c5e-9d7e-0f1a2b3c4d5e"
    sent = f"{send} XADD intake.referrals '*' type SubmitReferral version 1 id {uid} data '{body}'"
    assert subprocess.run(["bash", "-c", sent], capture_output=True, text=True).returncode == 0
    while time.monotonic() < deadline:
        read = subprocess.run(["bash", "-c", hints["read the answers"]], cwd=tmp_path,
                              capture_output=True, text=True)  # fmt: skip
        if "EH-2026-UP-1" in read.stdout:
            return
        time.sleep(0.3)
    raise AssertionError(f"no answer read with the printed command: {read.stdout} {read.stderr}")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_lots_up_serves_status_says_healthy_and_a_signal_stops_it_all(
    up: tuple[subprocess.Popen[str], dict[str, str]],
    venv: Path,
    tmp_path: Path,
    stop: signal.Signals,
) -> None:
    process, env = up
    ports = [int(env[f"LOTS_{s.upper()}_PORT"]) for s in SERVICES]
    deadline = time.monotonic() + 90
    while not all(ready(p) for p in ports):
        assert process.poll() is None, (tmp_path / "up.log").read_text()[-3000:]
        assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()[-3000:]
        time.sleep(0.3)

    status = run(venv / "lots", "status", "--json", cwd=tmp_path, env=env, timeout=60)
    assert status.returncode == 0, status.stdout[-3000:] + status.stderr[-3000:]
    report = json.loads(status.stdout)
    assert report["redis"] is True and report["healthy"] is True
    assert all(s["up"] and s["ready"] for s in report["services"].values())
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        # /docs's assets are package data of a dependency, installed with the wheel
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/docs-assets/{asset}") as got:
            assert got.status == 200 and len(got.read()) > 100_000, asset

    if stop == signal.SIGINT and shutil.which("redis-cli"):
        answered_through_the_printed_redis_cli(tmp_path)

    process.send_signal(stop)  # SIGTERM once left the three services running, orphaned
    assert process.wait(timeout=60) == 0, (tmp_path / "up.log").read_text()[-3000:]
    log = (tmp_path / "up.log").read_text()
    assert "Traceback" not in log
    said = [line for line in log.splitlines() if line.startswith("Redis: ")]
    assert said[0].startswith(f"Redis: embedded, started by lots, data in {tmp_path}/var/redis/")
    assert said[0].endswith("it has the project's ACL users") and len(said) == 1, log[-3000:]
    assert not any(ready(p) for p in ports)
    with pytest.raises(ConnectionRefusedError):  # the embedded Redis stopped with it
        socket.create_connection(("127.0.0.1", int(env["LOTS_EMBEDDED_REDIS_PORT"])), timeout=1)
