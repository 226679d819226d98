"""``lots quality``: the registers' yearly summary and the steering group, for operators."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from infra.settings import Settings

quality_app = typer.Typer(
    help="Quality registers and the steering group (seeds 002, 003 §4).", no_args_is_help=True
)


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:
        typer.echo(f"error: bad settings: {exc}", err=True)
        raise typer.Exit(2) from exc


@quality_app.command("submit-summary")
def submit_summary(
    year: Annotated[int, typer.Argument(help="the calendar year the summary covers")],
    by: Annotated[str, typer.Option("--by", help="who handed it to the administration")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Record that the year's lex Sarah summary went to the administration (due 31 March)."""
    from infra.calendar import local_date
    from services.intake.app import make_app
    from services.intake.quality import QualityError, summary_due

    if not 2000 <= year <= 2100:
        typer.echo(f"error: {year} is not a year this system reports on (2000-2100)", err=True)
        raise typer.Exit(2)
    if not by.strip():
        typer.echo("error: --by must name who submitted it", err=True)
        raise typer.Exit(2)
    app = make_app(_settings())
    try:
        summary, figures = app.submit_quality_summary(year, by)
    except QualityError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        app.close()
    due = summary_due(year)
    if as_json:
        body = {"year": year, "due": due.isoformat(),
                "submitted_at": summary.submitted_at.isoformat(), **figures}  # fmt: skip
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    on_time = "on time" if local_date(summary.submitted_at) <= due else "late"
    typer.echo(
        f"lex Sarah summary of {year} submitted {summary.submitted_at.isoformat()} "
        f"({on_time}, due {due})"
    )
    for line in summary_lines(figures):
        typer.echo(line)


def summary_lines(figures: dict[str, Any]) -> list[str]:
    """The summary in words: the lex Sarah counts, each report's handling, then the other
    registers, each under its own label."""
    from services.intake.quality_summary import describe, describe_report_to_ivo, words

    lex = figures["lex_sarah"]
    handled = ", ".join(f"{n} {words(h)}" for h, n in lex["handling"].items() if n)
    lines = [
        f"  {lex['label']}",
        f"    lex Sarah reports received      {lex['reports']}",
        f"    reports to IVO made             {lex['reports_to_ivo']}"
        f" (of earlier years' reports: {lex['reports_to_ivo_of_earlier_years']})",
        f"    copies to the social worker     {lex['copies_to_social_worker']}"
        f" (no responsible social worker: {lex['no_responsible_social_worker']})",
        f"    on 31 December                  {handled or 'no report'}",
        *(f"    {describe(r)}" for r in lex["reports_listed"]),
        *(f"    {describe_report_to_ivo(m)}" for m in lex["reports_to_ivo_listed"]),
    ]
    for key in ("complaints_and_views", "incidents", "ivo_supervision"):
        section = figures[key]
        states = ", ".join(f"{n} {words(s)}" for s, n in section["states"].items())
        lines.append(f"  {section['label']}: {section['received']} received"
                     + (f" ({states} on 31 December)" if states else ""))  # fmt: skip
    return lines


@quality_app.command("steering")
def steering(
    year: Annotated[int | None, typer.Option(help="the year (default: this year)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The steering group's year: held, planned, missing; exit 1 when the plan falls short."""
    from services.scheduling.app import make_app

    if year is not None and not 2000 <= year <= 2100:
        typer.echo(f"error: {year} is not a year this system reports on (2000-2100)", err=True)
        raise typer.Exit(2)
    app = make_app(_settings())
    try:
        seen = app.steering_outlook(year)
    finally:
        app.close()
    if as_json:
        body = {
            "year": seen.year,
            "held": seen.held,
            "planned": seen.planned,
            "unrecorded": seen.unrecorded,
            "missing": seen.missing,
            "business_days_left": seen.business_days_left,
            "level": seen.level,
            "warning": seen.warning,
            "message": seen.message(),
            "required": seen.required,
            "incomplete": seen.incomplete,
        }
        typer.echo(json.dumps(body, indent=2))
    else:
        typer.echo(("WARNING: " if seen.warning else "") + seen.message())
    raise typer.Exit(1 if seen.warning else 0)
