"""``lots report year``: the yearly activity summary for the administration, from the stores
or from an export, as text, JSON, CSV or HTML. A bad argument prints what was wrong and exits 2.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from infra.settings import Settings
from lots import outfile
from lots.cli_settings import settings_or_exit

report_app = typer.Typer(help="Reports for the administration.", no_args_is_help=True)

FORMATS = ("text", "json", "csv", "html")


@report_app.command("year")
def report_year(
    year: Annotated[int, typer.Argument(help="the calendar year, e.g. 2026")],
    fmt: Annotated[str, typer.Option("--format", help="text, json, csv or html")] = "text",
    out: Annotated[Path | None, typer.Option("--out", help="write to this file")] = None,
    events: Annotated[
        Path | None, typer.Option("--events", help="compute from this export, not the stores")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="judge what is due or short on this date (YYYY-MM-DD)"),
    ] = None,
) -> None:
    """The yearly activity summary per programme (due to the administration by 31 March),
    with the quality registers, the follow-up of coordinated support and the steering group."""
    _check_arguments(year, fmt, out)
    settings = settings_or_exit()
    today = _judged_on(as_of, settings)
    figures = _yearly_figures(_export_lines(events, settings), year, today)
    text = _formatted(figures, fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        outfile.write(out, text)
        typer.echo(f"wrote {out}")


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _check_arguments(year: int, fmt: str, out: Path | None) -> None:
    """The year, the format and the file to write, checked before anything is read."""
    if not 2000 <= year <= 2100:
        raise _refuse(f"{year} is not a year this system reports on (2000-2100)")
    if fmt not in FORMATS:
        raise _refuse(f"--format {fmt!r}: choose text, json, csv or html")
    if out is not None:
        outfile.check(out)


def _judged_on(as_of: str | None, settings: Settings) -> date:
    """The day that judges what is due or short: ``--as-of``, else today in Stockholm."""
    from infra.calendar import local_date
    from infra.clock import make_clock

    try:
        return date.fromisoformat(as_of) if as_of else local_date(make_clock(settings)())
    except ValueError as exc:
        raise _refuse(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from exc


def _export_lines(events: Path | None, settings: Settings) -> list[str]:
    """The export's lines: from the ``--events`` file, else read from every store."""
    from lots.export import export_lines
    from lots.stores import open_stores

    if events is not None:
        try:
            return events.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise _refuse(f"cannot read {events}: {exc.strerror}") from exc
    lines: list[str] = []
    for _, store_app in open_stores(settings):
        try:
            lines.extend(export_lines(store_app))
        finally:
            store_app.close()
    return lines


def _yearly_figures(lines: list[str], year: int, today: date) -> dict[str, Any]:
    from lots.report import yearly

    try:
        return yearly(lines, year, today)
    except (ValueError, KeyError, TypeError) as exc:
        raise _refuse(f"the events cannot be read as an export: {exc!r}") from exc


def _formatted(figures: dict[str, Any], fmt: str) -> str:
    from lots.report_formats import to_csv, to_html, to_text

    if fmt == "csv":
        return to_csv(figures)
    if fmt == "html":
        return to_html(figures)
    if fmt == "json":
        return json.dumps(figures, indent=2, ensure_ascii=False) + "\n"
    return to_text(figures)
