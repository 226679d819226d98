"""Every service's API documentation works offline: ``/docs`` and ``/redoc`` name no other host,
and their scripts, style sheet and icon are served from the installed package."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.settings import SERVICES, ServiceName, Settings
from tests.support.auth import client, served

ASSET = re.compile(r'(?:src|href)="([^"]+)"')
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
@pytest.mark.parametrize("service", SERVICES)
async def test_the_api_docs_load_nothing_from_another_host(
    settings: Settings, service: ServiceName, page: str
) -> None:
    async with served(settings, service) as (http, _), client(http) as anonymous:
        answer = await anonymous.get(page)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        html = answer.text
        assert re.findall(r"(?:https?:)?//[\w.-]+", html) == [], "no other host is named"
        assets = ASSET.findall(html)
        assert {a.rsplit(".", 1)[1] for a in assets} >= {"js", "png"}
        for asset in assets:
            assert asset.startswith("/docs-assets/")
            served_asset = await anonymous.get(asset)
            assert served_asset.status_code == 200, asset
            kind = TYPES["." + asset.rsplit(".", 1)[1]]
            assert served_asset.headers["content-type"].startswith(kind), asset
            assert len(served_asset.content) > 1000, asset
        assert "/openapi.json" in html


async def test_swagger_ui_has_its_style_sheet_and_no_validator(settings: Settings) -> None:
    async with served(settings, "intake") as (http, _), client(http) as anonymous:
        html = (await anonymous.get("/docs")).text
        assert 'href="/docs-assets/swagger-ui.css"' in html
        assert '"validatorUrl": null' in html


@pytest.mark.parametrize("service", SERVICES)
async def test_every_reference_in_the_openapi_document_resolves(
    settings: Settings, service: ServiceName
) -> None:
    """A model's own JSON Schema (intake's referral body) brings ``#/$defs/...`` references,
    which point at the document's root: ReDoc refused the whole document for them."""
    async with served(settings, service) as (http, _), client(http) as anonymous:
        document = (await anonymous.get("/openapi.json")).json()
    text = json.dumps(document)
    assert "#/$defs/" not in text and '"$defs"' not in text
    for reference in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        node: Any = document
        for step in reference.removeprefix("#/").split("/"):
            node = node[step]
        assert isinstance(node, dict) and node, reference
