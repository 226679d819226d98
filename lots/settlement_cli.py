"""``lots settlement``: show, preview, close, replay and compute a month's settlement with the
municipality, and forecast when the yearly cap is reached.

``show``, ``preview``, ``close``, ``replay`` and ``forecast`` open billing's store directly (the
settings say where); the running service need not be up. ``compute`` needs nothing but an
event-log export. A bad argument prints what was wrong and exits 2; a command the records refuse
(closing a month that is not over, in its grace window, or already closed; previewing a closed
month) exits 1; ``replay`` exits 1 on any difference. The arguments they share are in
:mod:`lots.settlement_args`, how a settlement is printed in :mod:`lots.settlement_output`.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from infra.money import kronor
from infra.words import counted
from lots.settlement_args import (
    AsJson,
    Format,
    Month,
    Out,
    Output,
    Programme,
    fail,
    known_programme,
    open_billing,
    optional_month,
    parse_call_off,
    refusals,
    reported_year,
)
from lots.settlement_output import emit, write_text
from lots.text import escaped
from services.billing.pricing_time import PricingError
from services.billing.settlement import SettlementError
from services.billing.tariff_entries import TariffError
from services.billing.tariff_quotes import PriceNotKnown

settlement_app = typer.Typer(
    help=(
        "The monthly settlement with the municipality: show, preview, close, replay, compute; "
        "and the yearly cap's forecast."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@settlement_app.command()
def show(
    month: Month,
    programme: Programme = None,
    as_json: AsJson = False,
    output: Output = Format.text,
    out: Out = None,
) -> None:
    """The month's settlement as it stands (a closed month: exactly as closed)."""
    with open_billing() as app, refusals():
        view = app.settlement(month, programme)
    emit(view, Format.json if as_json else output, out)


@settlement_app.command()
def preview(
    month: Month,
    programme: Programme = None,
    as_json: AsJson = False,
    output: Output = Format.text,
    out: Out = None,
) -> None:
    """The open month's settlement as a close now would record it; nothing is recorded."""
    with open_billing() as app, refusals():
        view = app.preview(month, programme)
    if as_json or output is Format.json:
        # The whole preview, so that "preview": true and "final": false travel with the document.
        write_text(json.dumps(view, indent=2, ensure_ascii=False) + "\n", out)
        return
    emit(view, output, out)


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
    with open_billing() as app, refusals():
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
        raise fail(f"bad date: {exc}", 2) from exc
    with open_billing() as app, refusals():
        done = app.record_termination(
            contract=contract, given_on=given, reference=reference, ends_on=end, recorded_by=by
        )
        ends = app.catalogue_end(contract)
    typer.echo(f"notice of {contract} recorded ({done['recorded'][0]}); its term ends on {ends}")


@settlement_app.command()
def adjust(
    month: Month,
    amount_ore: Annotated[int, typer.Option("--amount-ore", help="öre; negative credits")],
    programme: Annotated[
        str, typer.Option(help="the contract's programme", callback=known_programme)
    ],
    reason: Annotated[str, typer.Option(help="why, as shown on the statement")],
    reference: Annotated[str, typer.Option(help="the written decision (diarienummer)")],
    corrects: Annotated[
        str | None, typer.Option(help="the month it corrects", callback=optional_month)
    ] = None,
    by: Annotated[str | None, typer.Option(help="who records it")] = None,
) -> None:
    """Book a manual adjustment on an open month; a closed month is refused and never changes."""
    with open_billing() as app, refusals():
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
    with open_billing() as app, refusals():
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


@settlement_app.command()
def forecast(
    programme: Annotated[
        str, typer.Option(help="the programme with a yearly cap", callback=known_programme)
    ] = "counselling",
    year: Annotated[
        int | None, typer.Option(help="the year (default: this year)", callback=reported_year)
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The date the yearly cap (with call-offs) will be reached at the current pace."""
    with open_billing() as app, refusals():
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


@settlement_app.command()
def compute(
    events: Annotated[Path, typer.Option(help="an event-log export (JSON Lines)")],
    month: Annotated[
        str | None,
        typer.Argument(help="the month, YYYY-MM", metavar="MONTH", callback=optional_month),
    ] = None,
    month_option: Annotated[
        str | None,
        typer.Option(
            "--month", help="the month, as contracts.md names it", callback=optional_month
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
    offs = [parse_call_off(v) for v in call_off or []]
    try:
        lines = events.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {events}: {exc}", 2) from exc
    try:
        document = compute_from_export(lines, month, programme, default_catalogue(), call_offs=offs)
    except ExportError as exc:
        raise fail(f"{events}: {exc}", 2) from exc
    except (PriceNotKnown, PricingError, SettlementError, TariffError) as exc:
        raise fail(str(exc), 1) from exc
    waiting = [f"{w['reason']} (meeting {w['meeting_id']})" for w in document["awaiting_price"]]
    view = {"document": document, "status": "computed", "awaiting_price": waiting}
    emit(view, Format.json if as_json else output, out)


def _one_month(argument: str | None, option: str | None) -> str:
    """``compute`` takes its month as every verb does (MONTH) or, as contracts.md's command line
    gives it, ``--month MONTH``: one of the two."""
    if argument is not None and option is not None and argument != option:
        raise fail(f"two months given ({argument} and --month {option}): give one", 2)
    month = argument or option
    if month is None:
        raise fail("give the month: lots settlement compute MONTH --events FILE", 2)
    return month
