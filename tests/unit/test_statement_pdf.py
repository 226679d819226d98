"""The statement's PDF (statement_pdf.py): printed from the HTML, checked by turning its first
page into an image, and refused with what to install where the system's Pango is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from typer.testing import CliRunner

from infra.money import kronor
from lots.settlement_cli import settlement_app
from services.billing.offline import compute_from_export
from services.billing.statement_pdf import to_pdf
from services.billing.tariff_seeds import default_catalogue
from tests.support.printing import needs_pango

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "data" / "billing-may-2022.jsonl"
A4 = (595.28, 841.89)  # points
COMPUTE = ("compute", "--events", str(EXAMPLE), "--month", "2022-05")


def may_2022() -> dict[str, Any]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    document = compute_from_export(lines, "2022-05", None, default_catalogue())
    return {"document": document, "status": "closed", "closed_by": "ekonom",
            "closed_at": "2022-06-03T07:30:00+00:00"}  # fmt: skip


def words(pdf: bytes) -> str:
    """The text of every page, its spaces (non-breaking or not) and line breaks made one."""
    document = pdfium.PdfDocument(pdf)
    text = " ".join(page.get_textpage().get_text_range() for page in document)
    return " ".join(text.replace("\u00a0", " ").split())


def shown(ore: int) -> str:
    return kronor(ore).replace("\u00a0", " ")


@needs_pango
def test_the_pdf_is_an_a4_page_that_reads_like_the_html(tmp_path: Path) -> None:
    view = may_2022()
    pdf = to_pdf(view)
    page = pdfium.PdfDocument(pdf)[0]
    width, height = page.get_size()
    assert abs(width - A4[0]) < 1 and abs(height - A4[1]) < 1
    image = page.render(scale=1).to_pil().convert("L")
    image.save(tmp_path / "page-1.png")
    dark = [v < 128 for v in image.tobytes()]
    assert 0.005 < sum(dark) / len(dark) < 0.3  # ink on the page, and not a black page
    top = image.crop((0, 0, image.width, image.height // 8)).tobytes()
    assert min(top) < 64  # the title is printed at the top
    text = words(pdf)
    document = view["document"]
    assert "Monthly settlement, May 2022" in text
    assert "Family counselling, 11.25 client hours at 605,00 kr/h" in text
    assert "Field work, May 2022, 5 000 000,00 kr a year at the 2021 price level" in text
    for ore in (*(line["amount_ore"] for line in document["lines"]), document["total_ore"],
                document["fees_ore"], document["net_ore"]):  # fmt: skip
        assert shown(ore) in text
    assert "closed 3 June 2022, 09:30 Stockholm time (CEST) by ekonom" in text
    assert document["digest"] in text and "References: tariff lineage" in text


@needs_pango
def test_lots_settlement_writes_the_pdf_to_a_file_or_a_pipe(tmp_path: Path) -> None:
    out = tmp_path / "may.pdf"
    written = CliRunner().invoke(settlement_app, [*COMPUTE, "--format", "pdf", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert "Family counselling, 11.25 client hours at 605,00 kr/h" in words(out.read_bytes())
    piped = CliRunner().invoke(settlement_app, [*COMPUTE, "--format", "pdf"])
    assert piped.exit_code == 0 and piped.stdout_bytes.startswith(b"%PDF-")


# Pango made unloadable, as on a machine without it: WeasyPrint loads it with cffi on import.
NO_PANGO = """
import sys, cffi
real = cffi.FFI.dlopen
def dlopen(self, name, *args, **kwargs):
    if "pango" in str(name):
        raise OSError(f"cannot load library {name!r}")
    return real(self, name, *args, **kwargs)
cffi.FFI.dlopen = dlopen
from lots.settlement_cli import settlement_app
settlement_app(sys.argv[1:])
"""


def without_pango(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NO_PANGO, *args], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )  # fmt: skip


def test_without_pango_the_pdf_says_what_to_install_and_the_html_needs_none(
    tmp_path: Path,
) -> None:
    refused = without_pango(*COMPUTE, "--format", "pdf", "--out", str(tmp_path / "may.pdf"))
    assert refused.returncode == 1
    assert "apt-get install libpango-1.0-0" in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    assert not (tmp_path / "may.pdf").exists()
    page = without_pango(*COMPUTE, "--format", "html")
    assert page.returncode == 0 and "605,00\u00a0kr/h" in page.stdout
