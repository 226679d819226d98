"""The month's statement as a PDF, printed by WeasyPrint from the very HTML of
:func:`~services.billing.statement_html.to_html` (A4, its ``@page`` rule).

WeasyPrint is imported only here and only when a PDF is asked for, so the HTML, CSV and JSON
never need it; it needs the system's Pango, and where that (or WeasyPrint) is missing the PDF
is refused with what to install, never a traceback.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from contextlib import redirect_stdout
from typing import Any

from services.billing.statement_html import to_html

INSTALL = (
    "install the system's Pango, which WeasyPrint needs to print a PDF: "
    "on Debian or Ubuntu `apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core`, "
    "on Fedora `dnf install pango`, on macOS `brew install pango`; the HTML statement "
    "(--format html, ?format=html) needs none of it"
)


class PdfUnavailable(RuntimeError):
    """A PDF cannot be printed on this machine; the message says what to install."""


def to_pdf(view: Mapping[str, Any]) -> bytes:
    """The statement's HTML printed as a PDF."""
    page = to_html(view)
    try:
        # On a failed load WeasyPrint prints its own advice to stdout, where a piped PDF goes.
        with redirect_stdout(io.StringIO()):
            from weasyprint import HTML
    except ModuleNotFoundError as exc:
        raise PdfUnavailable(
            f"the PDF needs WeasyPrint, which is not installed ({exc.name}): "
            "pip install 'weasyprint==70.0'"
        ) from exc
    except OSError as exc:  # WeasyPrint loads Pango with cffi when imported
        raise PdfUnavailable(f"the PDF cannot be printed: {exc}; {INSTALL}") from exc
    pdf: bytes = HTML(string=page).write_pdf()
    return pdf
