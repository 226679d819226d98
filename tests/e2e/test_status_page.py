"""The status page in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from PIL import Image

from infra.auth import Role
from infra.settings import Settings
from lots.statuspage import StatusPage
from lots.supervisor import running
from tests.conftest import free_port
from tests.support.auth import headers
from tests.support.flow import wait_until
from tests.support.intake import entry, referral

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (make test installs it when run as root)",
)


def browse(url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "chromium is required in CI"
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp / 'profile'}", "--window-size=1280,1400",
        "--virtual-time-budget=6000", *args, url,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp)


@pytest.fixture
def page(settings: Settings, tmp_path: Path) -> Iterator[StatusPage]:
    ports = {f"{s}_port": free_port() for s in ("intake", "scheduling", "billing")}
    settings = settings.model_copy(update=ports)
    with running(settings, log_file=tmp_path / "services.log") as system:
        client = redis.Redis.from_url(system.redis_url)
        for _ in range(5):
            client.xadd(settings.stream("intake.referrals"), entry(referral()))  # type: ignore[arg-type]
        client.close()
        status = StatusPage(
            settings.model_copy(update={"redis_url": system.redis_url}), free_port(), interval=0.3
        )
        status.start()
        try:
            operator = headers(settings, Role.OPERATOR)
            wait_until(
                lambda: (
                    len(httpx.get(status.url + "status.json", headers=operator).json()["series"])
                    >= 3
                )
            )
            assert httpx.get(status.url + "status.json").status_code == 401
            yield status
        finally:
            status.stop()


def test_the_status_page_renders_health_queue_streams_and_charts(
    page: StatusPage, tmp_path: Path
) -> None:
    dom = browse(page.link, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert '<span id="verdict" class="ok">healthy</span>' in html
    for service in ("intake", "scheduling", "billing"):
        assert f"<td>{service}</td><td>yes</td><td>ready</td>" in html
    assert "<td>intake.referrals</td>" in html
    assert "acknowledgements waiting" in html
    assert html.count("<polyline") >= 3, "the charts are drawn"

    shot = tmp_path / "status.png"
    done = browse(page.link, tmp_path, f"--screenshot={shot}")
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1400)
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 20, "the screenshot is not blank"
