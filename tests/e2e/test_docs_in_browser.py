"""A service's ``/docs`` in a real headless browser, with nothing but the service to load from:
Swagger UI comes from the package and draws the service's operations."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from infra.settings import Settings
from tests.support.auth import served
from tests.support.browser import browse, needs_chromium, serving

pytestmark = needs_chromium


async def test_swagger_ui_draws_the_operations_without_internet(
    settings: Settings, tmp_path: Path
) -> None:
    async with served(settings, "billing") as (http, _):
        with serving(http) as base:
            dom = browse(f"{base}/docs", tmp_path, "--dump-dom")
            shot = tmp_path / "docs.png"
            taken = browse(f"{base}/docs", tmp_path, f"--screenshot={shot}")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "lots billing" in html
    assert 'class="opblock-summary-path"' in html, "Swagger UI drew the operations"
    assert "/health/live" in html
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 20, "the screenshot is not blank"


async def test_redoc_draws_intakes_document_without_internet(
    settings: Settings, tmp_path: Path
) -> None:
    async with served(settings, "intake") as (http, _):
        with serving(http) as base:
            dom = browse(f"{base}/redoc", tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Something went wrong" not in dom.stdout, dom.stdout[-3000:]
    assert "lots intake" in dom.stdout
    assert "/referrals" in dom.stdout, "ReDoc drew the operations"
