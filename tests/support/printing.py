"""Whether this machine can print a PDF: WeasyPrint needs the system's Pango.

Where Pango is missing, the tests that print are skipped with that reason; the refusal that a
user then sees (what to install, exit 1, no traceback) is tested on every machine.
"""

from __future__ import annotations

import pytest


def printer_missing() -> str:
    """Why a PDF cannot be printed here, or '' where it can."""
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:  # WeasyPrint loads Pango with cffi when imported
        return f"the system's Pango is missing ({type(exc).__name__}): no PDF can be printed here"
    return ""


needs_pango = pytest.mark.skipif(bool(printer_missing()), reason=printer_missing() or "Pango found")
