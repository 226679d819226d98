"""``lots polare``: field work's polare (seed 004), from the stores (the services need not run).

* ``enrol``, ``leave``, ``places``: intake's register. At most 20 polare are active at once in
  a school year; a drop-out recorded with ``leave`` frees the place for a replacement. The
  personal number and name are asked for (never on the command line, where the shell's history
  and the process list would keep them) and never printed: the answer names the ``polar_ref``.
* ``fees MONTH``: the month's polare fees as the provider's cost against the field-work budget.

A bad argument or an unknown polar exits 2; what the register refuses prints the reason in
words and exits 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import typer

from infra.money import kronor
from infra.settings import Settings
from lots.settlement_args import AsJson, Month, fail, open_billing, refusals
from lots.text import escaped
from services.billing import polare_commands

if TYPE_CHECKING:
    from services.intake.application import Intake

polare_app = typer.Typer(
    help="Field work's polare: the register (at most 20 active at once) and their fees.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _day(value: str | None) -> str | None:
    if value is not None:
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc
    return value


Day = Annotated[str, typer.Option(help="the day, YYYY-MM-DD", callback=_day)]
SchoolYear = Annotated[
    str | None, typer.Option(help="e.g. 2026/27 (default: the school year of the day)")
]
RecordedBy = Annotated[str, typer.Option("--recorded-by", help="who records it")]


@contextmanager
def _register() -> Iterator[Intake]:
    """Intake's register over its store, as the settings say; what it refuses said in words."""
    from services.intake.app import make_app
    from services.intake.polare import PolareError, UnknownPolar

    try:
        settings = Settings()
    except Exception as exc:
        raise fail(f"bad settings: {exc}", 2) from exc
    app = make_app(settings)
    try:
        yield app
    except UnknownPolar as exc:
        raise fail(str(exc), 2) from exc
    except PolareError as exc:
        raise fail(f"{exc} ({exc.code})", 1) from exc
    finally:
        app.close()


@polare_app.command("enrol")
def enrol(
    enrolled_on: Annotated[str, typer.Option(help="the day, YYYY-MM-DD", callback=_day)],
    recorded_by: RecordedBy,
    school_year: SchoolYear = None,
    years_before: Annotated[int, typer.Option(min=0, max=10, help="years walked before")] = 0,
    as_json: AsJson = False,
) -> None:
    """Recruit a polar and enrol them for a school year (asks for the personal number and
    name); refused when the school year has 20 polare active at once."""
    from services.intake import polare_commands as register
    from services.intake.polare_leave import places

    personal_number = typer.prompt("personal number", hide_input=True).strip()
    name = typer.prompt("name").strip()
    if not name:
        raise fail("the name is empty", 2)
    with _register() as app:
        done = register.enroll(
            app, personal_number=personal_number, name=name,
            enrolled_on=date.fromisoformat(enrolled_on), recorded_by=recorded_by,
            school_year=school_year, years_before=years_before,
        )  # fmt: skip
        seen = places(app, done.school_year, date.fromisoformat(enrolled_on))
    view = register.view(done.polar, done.school_year) | {"new": done.new, "places": seen}
    if as_json:
        typer.echo(json.dumps(view, indent=2, ensure_ascii=False))
        return
    typer.echo(
        f"{'enrolled' if done.new else 'already enrolled'}: polar {view['polar_ref']} for "
        f"school year {done.school_year} (year {view['years_in_activity']} in the activity); "
        + _said(seen)
    )


@polare_app.command("leave")
def leave(
    polar_ref: Annotated[UUID, typer.Argument(help="the polar's ref")],
    on: Annotated[str, typer.Option(help="the day they left, YYYY-MM-DD", callback=_day)],
    recorded_by: RecordedBy,
    school_year: SchoolYear = None,
    as_json: AsJson = False,
) -> None:
    """Record that a polar dropped out: not active from that day; a replacement may take the
    place."""
    from services.intake.polare_leave import leave as record_leave
    from services.intake.polare_leave import places

    with _register() as app:
        done = record_leave(app, polar_ref, date.fromisoformat(on), recorded_by, school_year)
        seen = places(app, done.school_year, done.left_on)
    if as_json:
        body = {"polar_ref": str(polar_ref), "school_year": done.school_year,
                "left_on": done.left_on.isoformat(), "new": done.new, "places": seen}  # fmt: skip
        typer.echo(json.dumps(body, indent=2))
        return
    typer.echo(
        f"{'left' if done.new else 'already recorded as left'}: polar {polar_ref}, school year "
        f"{done.school_year}, from {done.left_on}; " + _said(seen)
    )


@polare_app.command("places")
def show_places(
    school_year: Annotated[str, typer.Argument(help="e.g. 2026/27")],
    on: Annotated[str | None, typer.Option(help="the day (default: today)", callback=_day)] = None,
    as_json: AsJson = False,
) -> None:
    """The school year's places on a day: active, free of the 20, enrolled, left."""
    from services.intake.polare_leave import places

    with _register() as app:
        seen = places(app, school_year, date.fromisoformat(on) if on else None)
    typer.echo(json.dumps(seen, indent=2) if as_json else _said(seen))


def _said(seen: dict[str, Any]) -> str:
    return (
        f"{seen['active']} of {seen['at_once']} places taken on {seen['on']}, {seen['free']} "
        f"free ({seen['enrolled']} enrolled in {seen['school_year']}, {seen['left']} left)"
    )


@polare_app.command("fees")
def fees(month: Month, as_json: AsJson = False) -> None:
    """The month's polare fees (by the walks' dates), the year to date and the budget."""
    with open_billing() as app, refusals():
        report = polare_commands.month_report(app, month)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    for line in render(report):
        typer.echo(escaped(line))


def render(report: dict[str, Any]) -> list[str]:
    budget = report["budget"]
    lines = [
        f"Polare fees {report['month']} (the provider's cost; not billed to the municipality)",
        f"  night walks with polare fees  {report['walks']}",
        f"  polare walk shifts            {report['polare_walks']}",
        f"  fees this month               {kronor(report['fees_ore'])}",
        f"  fees this year to date        {kronor(report['year_to_date_ore'])}",
    ]
    if budget.get("yearly_ore") is not None:
        lines += [
            f"  field-work budget ({budget['contract']})  {kronor(budget['yearly_ore'])} a year, "
            f"{kronor(budget['month_share_ore'])} this month",
            f"  fees so far of the year's budget  {budget['fees_of_yearly_percent']} %",
        ]
    else:
        lines.append(f"  field-work budget: {budget.get('note')}")
    lines += [f"  waiting for a rate: {w['walk_id']} ({w['walked_on']}): {w['reason']}"
              for w in report["waiting"]]  # fmt: skip
    lines += [f"  not paid: {n['polar_ref']} on walk {n['walk_id']}: {n['reason']}"
              for n in report["not_paid"]]  # fmt: skip
    return lines


__all__ = ["polare_app"]
