"""How ``lots settlement`` prints a settlement: as text, JSON, CSV, HTML or a PDF, to stdout or
to ``--out`` (then ``wrote FILE`` on stderr)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from infra.money import kronor
from lots import outfile
from lots.settlement_args import Format, fail
from lots.text import escaped
from services.billing.settlement import Document
from services.billing.statement import (
    apart,
    separate_items,
    separately,
    to_csv,
    to_html,
)
from services.billing.statement_words import (
    awaiting_in_words,
    line_name,
    notes_in_words,
    status,
)


def emit(view: dict[str, Any], output: Format, out: Path | None) -> None:
    document: Document = view["document"]
    if output is Format.json:
        # The document alone, so that its digest can be checked against exactly what is shown.
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    elif output is Format.csv:
        text = to_csv(document)
    elif output is Format.html:
        text = to_html(view)
    elif output is Format.pdf:
        _pdf(view, out)
        return
    else:
        text = _text(view)
    write_text(text, out)


def write_text(text: str, out: Path | None) -> None:
    """``text`` on stdout, or into ``out`` (saying so on stderr)."""
    if out is None:
        sys.stdout.write(text)
        return
    outfile.write(out, text)
    typer.echo(f"wrote {out}", err=True)


def _pdf(view: dict[str, Any], out: Path | None) -> None:
    """The statement printed as a PDF, to ``out`` or to a pipe (never onto a terminal)."""
    from services.billing.statement_pdf import PdfUnavailable, to_pdf

    if out is None and sys.stdout.isatty():
        raise fail("a PDF is not shown on a terminal: give --out FILE (or pipe it)", 2)
    try:
        pdf = to_pdf(view)
    except PdfUnavailable as exc:
        raise fail(str(exc), 1) from exc
    if out is None:
        sys.stdout.buffer.write(pdf)
        sys.stdout.flush()
        return
    outfile.write(out, pdf)
    typer.echo(f"wrote {out}", err=True)


def _text(view: dict[str, Any]) -> str:
    document: Document = view["document"]
    scope = document["programme"] or "all programmes"
    rows = [f"Settlement {document['month']} ({scope}): {status(view)}", ""]
    for line in document["lines"]:
        rows.append(
            f"  {line['programme']:<22} {line['kind']:<10} {kronor(line['amount_ore']):>18}  "
            f"{line_name(line, document['month'])}"
        )
    rows += [
        "",
        f"  {'owed for the month':<33} {kronor(document['total_ore']):>18}",
        f"  {'client fees (the municipality)':<33} {kronor(document['fees_ore']):>18}",
        f"  {'net to transfer':<33} {kronor(document['net_ore']):>18}",
        f"  {'counselling hours billed':<33} {document['billable_hours']:>18}",
    ]
    for usage in view.get("cap_usage") or []:
        rows.append(
            f"  cap {usage['programme']} {usage['year']}: {usage['billed_hours']} of "
            f"{usage['limit_hours']} h billed ({usage['used_percent']} %), "
            f"{usage['over_cap_hours']} h beyond it not billed"
        )
    rows += [f"  waiting for a decision: {p['meeting_id']}: {p['reason']}"
             for p in document["pending_decisions"]]  # fmt: skip
    rows += [f"  waiting for a price: {entry}" for entry in awaiting_in_words(view)]
    rows += [f"  other provider: {row['programme']} {apart(row)}"
             for row in document.get("other_providers", [])]  # fmt: skip
    rows += [f"  apart: {i['programme']} {separately(i)}" for i in separate_items(document)]
    rows += [f"  note: {note}" for note in notes_in_words(document["notes"])]
    label = "digest of this preview (not final)" if view.get("preview") else "digest"
    rows += ["", f"{label} {document['digest']}"]
    # Stored strings (who closed it, a reason, a note) are printed escaped: one line a row.
    return "\n".join(escaped(row) for row in rows) + "\n"
