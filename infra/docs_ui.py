"""The API documentation pages (``/docs``, ``/redoc``) served from the package, not a CDN.

FastAPI's own pages load Swagger UI and ReDoc from a CDN: blank without internet, and
third-party script on a social-services network. Every service's app gets these pages instead
(FastAPI's self-hosting recipe), with the scripts, style sheet and icon that ``fastapi-offline``
ships as package data, served under ``ASSETS``. The pages and assets are open, like
``/openapi.json``: they hold no data.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

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
