"""The status page in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import redis
import redis.asyncio as aioredis
from PIL import Image

from infra.auth import Role
from infra.sentinel import record_failover
from infra.settings import Settings
from lots.statuspage import StatusPage
from lots.supervisor import running
from tests.conftest import free_port
from tests.support.auth import headers, token
from tests.support.browser import Tab, browse, needs_chromium
from tests.support.flow import wait_until
from tests.support.intake import entry, referral

pytestmark = needs_chromium
#: A time as the page shows it: Stockholm's clock and its zone's name.
STOCKHOLM = r"\d\d:\d\d:\d\d Stockholm time \((CET|CEST)\)"


def started(settings: Settings) -> StatusPage:
    """The status page of ``settings``, once it has a few samples."""
    status = StatusPage(settings, free_port(), interval=0.3)
    status.start()
    operator = headers(settings, Role.OPERATOR)
    wait_until(
        lambda: len(httpx.get(status.url + "status.json", headers=operator).json()["series"]) >= 3
    )
    assert httpx.get(status.url + "status.json").status_code == 401
    return status


def part(html: str, opening: str, closing: str) -> str:
    """The element that starts with ``opening``, up to its ``closing`` tag."""
    start = html.index(opening)
    return html[start : html.index(closing, start)]


def shoot(url: str, tmp: Path, name: str) -> Path:
    """A screenshot of ``url`` that is not blank (kept in the test's directory to look at)."""
    shot = tmp / f"{name}.png"
    done = browse(url, tmp, f"--screenshot={shot}")
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1400)
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 20, "the screenshot is not blank"
    return shot


@pytest.fixture
def page(settings: Settings, tmp_path: Path) -> Iterator[StatusPage]:
    ports = {f"{s}_port": free_port() for s in ("intake", "scheduling", "billing")}
    settings = settings.model_copy(update=ports)
    with running(settings, log_file=tmp_path / "services.log") as system:
        client = redis.Redis.from_url(system.redis_url)
        for _ in range(5):
            client.xadd(settings.stream("intake.referrals"), entry(referral()))  # type: ignore[arg-type]
        client.close()
        status = started(settings.model_copy(update={"redis_url": system.redis_url}))
        try:
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
    assert "acknowledgements waiting (intake)" in html
    assert html.count("<polyline") >= 4, "the charts are drawn"
    assert re.search(r"sampled at " + STOCKHOLM, html), "the time, in Stockholm time, named"
    # every chart has a time axis of labelled Stockholm times
    assert len(re.findall(r"time, Stockholm \((CET|CEST)\)", html)) == 4
    assert re.search(r'text-anchor="middle">\d\d:\d\d:\d\d</text>', html)
    # counts and percentages apart: the cap's percentage has its own chart, on a 0-100 % axis
    percent = part(html, '<svg id="percentages"', "</svg>")
    assert ">100 %</text>" in percent and "<polyline" in percent
    counts = part(html, '<svg id="counts"', "</svg>")
    assert " %" not in counts
    assert '<form id="token-form" hidden="">' in html, "the token came with the link"
    shoot(page.link, tmp_path, "status")


def test_the_page_names_the_redis_master_its_replicas_and_the_last_failover(
    page: StatusPage, settings: Settings, tmp_path: Path
) -> None:
    async def record() -> None:  # as the first service to notice a failover does
        client = aioredis.from_url(page.sampler.settings.redis_url)
        await record_failover(client, settings.key("failover"), 4, "10.0.0.1:6379", "10.0.0.2:6379")
        await client.aclose()

    asyncio.run(record())
    operator = headers(settings, Role.OPERATOR)
    wait_until(
        lambda: (
            httpx.get(page.url + "status.json", headers=operator).json()["latest"][
                "redis_replication"
            ]["last_failover"]
            is not None
        )
    )
    dom = browse(page.link, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    port = urlsplit(page.sampler.settings.redis_url).port
    assert f'<p id="redis-master">Redis master 127.0.0.1:{port}</p>' in html
    replicas = part(html, '<table id="replicas"', "</table>")
    assert "<td>no replica known</td>" in replicas or "<td>127.0.0.1:" in replicas
    assert re.search(
        r'<p id="failover">Last failover \d{4}-\d\d-\d\d \d\d:\d\d:\d\d Stockholm time '
        r"\((CET|CEST)\): from 10\.0\.0\.1:6379 to 10\.0\.0\.2:6379 \(epoch 4\)</p>",
        html,
    ), part(html, '<p id="failover"', "</p>")
    shoot(page.link, tmp_path, "failover")


def test_without_redis_the_page_says_redis_unreachable_where_the_streams_would_be(
    settings: Settings, tmp_path: Path
) -> None:
    nowhere = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    status = started(nowhere)
    try:
        dom = browse(status.link, tmp_path, "--dump-dom")
        assert dom.returncode == 0, dom.stderr[-2000:]
        html = dom.stdout
        streams = part(html, '<table id="streams"', "</table>")
        assert '<td colspan="7" class="unreachable">Redis unreachable: the streams' in streams
        assert ">Redis unreachable</text>" in html, "the lag chart says why it is empty"
        assert "<li>Redis does not answer</li>" in html
        shoot(status.link, tmp_path, "redis-down")
    finally:
        status.stop()


def test_without_a_token_the_page_asks_for_one_in_a_form_and_says_when_refused(
    page: StatusPage, tmp_path: Path
) -> None:
    asked = browse(page.url, tmp_path, "--dump-dom")
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert '<form id="token-form">' in asked.stdout, "the form shows (no window.prompt)"
    assert "waiting for an operator token" in asked.stdout
    services = part(asked.stdout, '<table id="services"', "</table>")
    assert "<tbody></tbody>" in services, "no data without a token"
    refused = browse(page.url + "#token=not-a-token", tmp_path, "--dump-dom")
    assert '<p id="token-error">That token was refused' in refused.stdout
    shoot(page.url + "#token=not-a-token", tmp_path, "token-form")


def test_a_token_typed_into_the_form_shows_the_status_and_stays_in_the_tab_only(
    page: StatusPage, settings: Settings, tmp_path: Path
) -> None:
    tab = Tab(page.url, tmp_path)
    try:
        wait_until(lambda: tab.evaluate("!document.getElementById('token-form').hidden"))
        tab.evaluate("document.getElementById('token-input').focus()")
        tab.type(token(settings, Role.OPERATOR))
        tab.evaluate("document.querySelector('#token-form button').click()")
        wait_until(
            lambda: tab.evaluate("document.getElementById('verdict').textContent") == "healthy"
        )
        assert tab.evaluate("document.getElementById('token-form').hidden") is True
        assert tab.evaluate("sessionStorage.getItem('lots-token')") == token(
            settings, Role.OPERATOR
        )
        assert tab.evaluate("localStorage.length") == 0 and tab.evaluate("document.cookie") == ""
        assert tab.evaluate("location.href") == page.url, "the token is not in the address"
        assert tab.evaluate("document.getElementById('token-input').value") == ""
        tab.screenshot(tmp_path / "token-given.png")
    finally:
        tab.close()
