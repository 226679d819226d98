"""``lots settlement``: show, close, replay and compute a month's settlement with the municipality.

``show``, ``close`` and ``replay`` open billing's store directly (the settings say where); the
running service need not be up. ``compute`` needs nothing but an event-log export. A bad
argument prints what was wrong and exits 2; a command the records refuse (closing a month that
is not over, or is already closed) exits 1; ``replay`` exits 1 on any difference.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from infra.settings import Settings
from services.billing.pricing import CallOff, PricingError
from services.billing.settlement import PROGRAMMES, Document, SettlementError, month_start
from services.billing.statement import kronor, to_csv, to_html
from services.billing.tariffs import PriceNotKnown, TariffError

settlement_app = typer.Typer(
    help="The monthly settlement with the municipality: show, close, replay, compute.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class Format(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"
    html = "html"


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


Month = Annotated[str, typer.Argument(help="the month, YYYY-MM", callback=_month)]
Programme = Annotated[
    str | None,
    typer.Option(help=f"limit it to one contract: {', '.join(PROGRAMMES)}", callback=_programme),
]
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output (JSON)")]
Output = Annotated[Format, typer.Option("--format", help="text, json, csv or html")]
Out = Annotated[Path | None, typer.Option("--out", help="write to this file, not stdout")]


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
def close(
    month: Month,
    by: Annotated[str | None, typer.Option(help="who closes it")] = None,
    as_json: AsJson = False,
) -> None:
    """Close the month: its document and digest are recorded; it never changes again."""
    with _billing() as app, _refusals():
        document = app.close_month(month, by)
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
            typer.echo(f"  - {difference}")
        typer.echo(f"closed digest   {result.closed['digest']}")
        typer.echo(f"replayed digest {result.document['digest']}")
    if not result.matches:
        raise typer.Exit(1)


def _call_off(value: str) -> CallOff:
    try:
        reference, year, hours = value.rsplit(":", 2)
        return CallOff(reference, int(year), Decimal(hours))
    except (ValueError, InvalidOperation, PricingError) as exc:
        raise typer.BadParameter(f"{value!r}: expected REFERENCE:YEAR:HOURS ({exc})") from exc


@settlement_app.command()
def compute(
    events: Annotated[Path, typer.Option(help="an event-log export (JSON Lines)")],
    month: Annotated[str, typer.Option(help="the month, YYYY-MM", callback=_month)],
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
    from services.billing.offline import ExportError, compute_from_export
    from services.billing.tariffs import default_catalogue

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
    view = {"document": document, "status": "computed"}
    _emit(view, Format.json if as_json else output, out)


def _emit(view: dict[str, Any], output: Format, out: Path | None) -> None:
    document: Document = view["document"]
    if output is Format.json:
        # The document alone, so that its digest can be checked against exactly what is shown.
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    elif output is Format.csv:
        text = to_csv(document)
    elif output is Format.html:
        text = to_html(view)
    else:
        text = _text(view)
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


def _text(view: dict[str, Any]) -> str:
    document: Document = view["document"]
    scope = document["programme"] or "all programmes"
    status = view.get("status", "open")
    if status == "closed":
        status = f"closed {view.get('closed_at')}" + (
            f" by {view['closed_by']}" if view.get("closed_by") else ""
        )
    rows = [f"Settlement {document['month']} ({scope}): {status}", ""]
    for line in document["lines"]:
        rows.append(
            f"  {line['programme']:<22} {line['kind']:<10} {kronor(line['amount_ore']):>18}  "
            f"{_what(line)}"
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
    rows += [f"  waiting for a price: {reason}" for reason in view.get("awaiting_price") or []]
    rows += [f"  note: {note}" for note in document["notes"]]
    rows += ["", f"digest {document['digest']}"]
    return "\n".join(rows) + "\n"


def _what(line: dict[str, Any]) -> str:
    if line["kind"] == "hourly":
        return (
            f"{line['sessions']} sessions, {line['client_hours']} h at {line['rate']} SEK/h, "
            f"fees {kronor(line['fees_collected_ore'])}"
        )
    if line["kind"] == "fixed":
        return f"{line['contract']}, month {line['month_of_period']} of {line['period_months']}"
    return f"for {line['belongs_to_month']}: {line['reason']}"
