"""The API documentation pages (``/docs``, ``/redoc``) served from the package, not a CDN.

FastAPI's own pages load Swagger UI and ReDoc from a CDN: blank without internet, and
third-party script on a social-services network. Every service's app gets these pages instead
(FastAPI's self-hosting recipe), with the scripts, style sheet and icon that ``fastapi-offline``
ships as package data, served under ``ASSETS``. The pages and assets are open, like
``/openapi.json``: they hold no data.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

ASSETS = "/docs-assets"
#: Swagger UI's bundle and style sheet, ReDoc's standalone script and the icon.
STATIC = Path(str(files("fastapi_offline") / "static"))


def serve_docs(http: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets to ``http``, built with ``docs_url=None`` and
    ``redoc_url=None``; the pages name only this host."""
    openapi = http.openapi_url or "/openapi.json"

    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi}",
            title=f"{http.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            oauth2_redirect_url=None,
            # No validator badge: Swagger UI would send the document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None, **(http.swagger_ui_parameters or {})},
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi}",
            title=f"{http.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    http.add_route("/docs", swagger, include_in_schema=False)
    http.add_route("/redoc", redoc, include_in_schema=False)
    http.mount(ASSETS, StaticFiles(directory=STATIC), name="docs-assets")


def hoist_definitions(http: FastAPI) -> None:
    """Move the ``$defs`` of schemas given whole (``openapi_extra``, a model's own JSON Schema)
    into ``components/schemas``: their ``#/$defs/...`` references point at the document's root,
    where OpenAPI has no ``$defs``, so ReDoc refuses the document and Swagger UI cannot resolve
    them. Call it after the routes are added."""
    generate = http.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        if "#/$defs/" not in json.dumps(schema):
            return schema
        found: dict[str, Any] = {}
        hoisted = _hoist(schema, found)
        components = hoisted.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in found.items():
            components.setdefault(name, definition)
        schema.clear()  # in place: FastAPI keeps the document it made once
        schema.update(hoisted)
        return schema

    http.openapi = openapi  # type: ignore[method-assign]


def _hoist(node: Any, found: dict[str, Any]) -> Any:
    """``node`` without its ``$defs`` (gathered in ``found``), its references to them rewritten."""
    if isinstance(node, list):
        return [_hoist(item, found) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$defs" and isinstance(value, dict):
            for name, definition in value.items():
                found[name] = _hoist(definition, found)
        elif key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            out[key] = "#/components/schemas/" + value.removeprefix("#/$defs/")
        else:
            out[key] = _hoist(value, found)
    return out
