"""``lots settlement``: show, preview, close, replay and compute a month's settlement with the
municipality, and forecast when the yearly cap is reached.

``show``, ``preview``, ``close``, ``replay`` and ``forecast`` open billing's store directly (the
settings say where); the running service need not be up. ``compute`` needs nothing but an
event-log export. A bad argument prints what was wrong and exits 2; a command the records refuse
(closing a month that is not over, in its grace window, or already closed; previewing a closed
month) exits 1; ``replay`` exits 1 on any difference.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from events.types import PROGRAMMES
from infra.money import kronor
from infra.settings import Settings
from infra.words import counted
from lots import outfile
from lots.text import escaped
from services.billing.cap import CallOff
from services.billing.pricing import PricingError
from services.billing.settlement import Document, SettlementError, month_start
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
from services.billing.tariff_entries import TariffError
from services.billing.tariffs import PriceNotKnown

settlement_app = typer.Typer(
    help=(
        "The monthly settlement with the municipality: show, preview, close, replay, compute; "
        "and the yearly cap's forecast."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class Format(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"
    html = "html"
    pdf = "pdf"


def _month(value: str) -> str:
    try:
        month_start(value)
    except SettlementError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return value


def _programme(value: str | None) -> str | None:
    if value is not None and value not in PROGRAMMES:
        raise typer.BadParameter(f"unknown programme {value!r}; expected one of {PROGRAMMES}")
    return value


Month = Annotated[str, typer.Argument(help="the month, YYYY-MM", metavar="MONTH", callback=_month)]
Programme = Annotated[
    str | None,
    typer.Option(help=f"limit it to one contract: {', '.join(PROGRAMMES)}", callback=_programme),
]
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output (JSON)")]
Output = Annotated[
    Format, typer.Option("--format", help="text, json, csv, html or pdf (printed from the html)")
]


def _out(value: Path | None) -> Path | None:
    if value is not None:
        outfile.check(value)  # before anything is read or computed
    return value


Out = Annotated[
    Path | None, typer.Option("--out", help="write to this file, not stdout", callback=_out)
]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _billing() -> Iterator[Any]:
    """Billing's application over its store, as the settings say; closed afterwards."""
    from services.billing.app import make_app

    try:
        settings = Settings()
    except Exception as exc:
        raise _fail(f"bad settings: {exc}", 2) from exc
    app = make_app(settings)
    try:
        yield app
    finally:
        app.close()


@contextmanager
def _refusals() -> Iterator[None]:
    """What billing refuses is said plainly and exits 1."""
    from services.billing.domain import BillingError, NotFound

    try:
        yield
    except NotFound as exc:
        raise _fail(str(exc), 2) from exc
    except (BillingError, PriceNotKnown, TariffError, PricingError, SettlementError) as exc:
        raise _fail(str(exc), 1) from exc


@settlement_app.command()
def show(
    month: Month,
    programme: Programme = None,
    as_json: AsJson = False,
    output: Output = Format.text,
    out: Out = None,
) -> None:
    """The month's settlement as it stands (a closed month: exactly as closed)."""
    with _billing() as app, _refusals():
        view = app.settlement(month, programme)
    _emit(view, Format.json if as_json else output, out)


@settlement_app.command()
def preview(
    month: Month,
    programme: Programme = None,
    as_json: AsJson = False,
    output: Output = Format.text,
    out: Out = None,
) -> None:
    """The open month's settlement as a close now would record it; nothing is recorded."""
    with _billing() as app, _refusals():
        view = app.preview(month, programme)
    if as_json or output is Format.json:
        # The whole preview, so that "preview": true and "final": false travel with the document.
        text = json.dumps(view, indent=2, ensure_ascii=False) + "\n"
        if out is None:
            sys.stdout.write(text)
            return
        outfile.write(out, text)
        typer.echo(f"wrote {out}", err=True)
        return
    _emit(view, output, out)


@settlement_app.command()
def close(
    month: Month,
    by: Annotated[str | None, typer.Option(help="who closes it")] = None,
    early: Annotated[
        bool, typer.Option("--early", help="close a month in its grace window now, ending it")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Close the month: its document and digest are recorded; it never changes again."""
    with _billing() as app, _refusals():
        document = app.close_month(month, by, early=early)
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    typer.echo(
        f"closed {month}: owed {kronor(document['total_ore'])}, fees "
        f"{kronor(document['fees_ore'])}, net {kronor(document['net_ore'])}, "
        f"{document['billable_hours']} counselling hours"
    )
    typer.echo(f"digest {document['digest']}")


@settlement_app.command()
def terminate(
    contract: Annotated[str, typer.Argument(help="the contract, e.g. field-2021")],
    given_on: Annotated[str, typer.Option("--given-on", help="the day notice was given")],
    reference: Annotated[str, typer.Option(help="the written notice (diarienummer)")],
    ends_on: Annotated[
        str | None, typer.Option("--ends-on", help="another end the parties agreed")
    ] = None,
    by: Annotated[str | None, typer.Option(help="who records it")] = None,
) -> None:
    """Record a written notice of termination (12 months; 002, 003 §1.1, 004)."""
    try:
        given, end = date.fromisoformat(given_on), date.fromisoformat(ends_on) if ends_on else None
    except ValueError as exc:
        raise _fail(f"bad date: {exc}", 2) from exc
    with _billing() as app, _refusals():
        done = app.record_termination(
            contract=contract, given_on=given, reference=reference, ends_on=end, recorded_by=by
        )
        ends = app.catalogue_end(contract)
    typer.echo(f"notice of {contract} recorded ({done['recorded'][0]}); its term ends on {ends}")


def _optional_month(value: str | None) -> str | None:
    return None if value is None else _month(value)


@settlement_app.command()
def adjust(
    month: Month,
    amount_ore: Annotated[int, typer.Option("--amount-ore", help="öre; negative credits")],
    programme: Annotated[str, typer.Option(help="the contract's programme", callback=_programme)],
    reason: Annotated[str, typer.Option(help="why, as shown on the statement")],
    reference: Annotated[str, typer.Option(help="the written decision (diarienummer)")],
    corrects: Annotated[
        str | None, typer.Option(help="the month it corrects", callback=_optional_month)
    ] = None,
    by: Annotated[str | None, typer.Option(help="who records it")] = None,
) -> None:
    """Book a manual adjustment on an open month; a closed month is refused and never changes."""
    with _billing() as app, _refusals():
        done = app.adjust(
            month=month, programme=programme, amount_ore=amount_ore, reason=reason,
            reference=reference, corrects=corrects, recorded_by=by,
        )  # fmt: skip
    typer.echo(
        f"adjustment {done['adjustment_id']} booked on {month} for {done['belongs_to_month']}: "
        f"{kronor(amount_ore)}"
    )


@settlement_app.command()
def replay(month: Month, programme: Programme = None, as_json: AsJson = False) -> None:
    """Rebuild the closed month from the event log and compare; exit 1 on any difference."""
    from infra.process import tune_gc
    from services.billing.replay import replay_month

    tune_gc()  # the fold keeps a month's sessions: collecting less often saves ~10 %
    with _billing() as app, _refusals():
        result = replay_month(app, month, programme)
    if as_json:
        body = {
            **result.document,
            "matches": result.matches,
            "closed_digest": result.closed["digest"],
            "differences": list(result.differences),
        }
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
    elif result.matches:
        typer.echo(f"{month} replays to the closed document: digest {result.document['digest']}")
    else:
        typer.echo(f"{month} does NOT replay to the closed document:")
        for difference in result.differences:
            typer.echo(escaped(f"  - {difference}"))
        typer.echo(f"closed digest   {result.closed['digest']}")
        typer.echo(f"replayed digest {result.document['digest']}")
    if not result.matches:
        raise typer.Exit(1)


def _year(value: int | None) -> int | None:
    if value is not None and not 2000 <= value <= 2100:
        raise typer.BadParameter(f"year must be between 2000 and 2100, got {value}")
    return value


@settlement_app.command()
def forecast(
    programme: Annotated[
        str, typer.Option(help="the programme with a yearly cap", callback=_programme)
    ] = "counselling",
    year: Annotated[
        int | None, typer.Option(help="the year (default: this year)", callback=_year)
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The date the yearly cap (with call-offs) will be reached at the current pace."""
    with _billing() as app, _refusals():
        found = app.cap_forecast(programme, year)
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    typer.echo(
        f"{found['programme']} {found['year']}: {found['billed_hours']} of "
        f"{found['limit_hours_today']} h billed; pace {found['hours_per_business_day']} h a "
        f"business day ({found['window_hours']} h on "
        f"{counted(found['window_business_days'], 'business day')}, {found['window_from']} to "
        f"{found['window_to']}, {counted(found['pace_weeks'], 'week')})"
    )
    if found["status"] == "forecast":
        typer.echo(f"the cap is reached on {found['reached_on']} at this pace")
    elif found["status"] == "reached":
        typer.echo(f"the cap is reached: {found['reason']}")
    else:
        typer.echo(f"no forecast: {found['reason']}")


def _call_off(value: str) -> CallOff:
    try:
        reference, year, hours = value.rsplit(":", 2)
        return CallOff(reference, int(year), Decimal(hours))
    except (ValueError, InvalidOperation, PricingError) as exc:
        raise typer.BadParameter(f"{value!r}: expected REFERENCE:YEAR:HOURS ({exc})") from exc


@settlement_app.command()
def compute(
    events: Annotated[Path, typer.Option(help="an event-log export (JSON Lines)")],
    month: Annotated[
        str | None,
        typer.Argument(help="the month, YYYY-MM", metavar="MONTH", callback=_optional_month),
    ] = None,
    month_option: Annotated[
        str | None,
        typer.Option(
            "--month", help="the month, as contracts.md names it", callback=_optional_month
        ),
    ] = None,
    programme: Programme = None,
    call_off: Annotated[
        list[str] | None,
        typer.Option(help="a call-off not in the export, REFERENCE:YEAR:HOURS (repeatable)"),
    ] = None,
    as_json: AsJson = False,
    output: Output = Format.text,
    out: Out = None,
) -> None:
    """Compute a month's settlement from an export, offline, with no services running."""
    from services.billing.export_reader import ExportError
    from services.billing.offline import compute_from_export
    from services.billing.tariff_seeds import default_catalogue

    month = _one_month(month, month_option)
    offs = [_call_off(v) for v in call_off or []]
    try:
        lines = events.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {events}: {exc}", 2) from exc
    try:
        document = compute_from_export(lines, month, programme, default_catalogue(), call_offs=offs)
    except ExportError as exc:
        raise _fail(f"{events}: {exc}", 2) from exc
    except (PriceNotKnown, PricingError, SettlementError, TariffError) as exc:
        raise _fail(str(exc), 1) from exc
    waiting = [f"{w['reason']} (meeting {w['meeting_id']})" for w in document["awaiting_price"]]
    view = {"document": document, "status": "computed", "awaiting_price": waiting}
    _emit(view, Format.json if as_json else output, out)


def _one_month(argument: str | None, option: str | None) -> str:
    """``compute`` takes its month as every verb does (MONTH) or, as contracts.md's command line
    gives it, ``--month MONTH``: one of the two."""
    if argument is not None and option is not None and argument != option:
        raise _fail(f"two months given ({argument} and --month {option}): give one", 2)
    month = argument or option
    if month is None:
        raise _fail("give the month: lots settlement compute MONTH --events FILE", 2)
    return month


def _emit(view: dict[str, Any], output: Format, out: Path | None) -> None:
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
    if out is None:
        sys.stdout.write(text)
        return
    outfile.write(out, text)
    typer.echo(f"wrote {out}", err=True)


def _pdf(view: dict[str, Any], out: Path | None) -> None:
    """The statement printed as a PDF, to ``out`` or to a pipe (never onto a terminal)."""
    from services.billing.statement_pdf import PdfUnavailable, to_pdf

    if out is None and sys.stdout.isatty():
        raise _fail("a PDF is not shown on a terminal: give --out FILE (or pipe it)", 2)
    try:
        pdf = to_pdf(view)
    except PdfUnavailable as exc:
        raise _fail(str(exc), 1) from exc
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
