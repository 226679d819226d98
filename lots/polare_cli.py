"""``lots polare fees MONTH``: the month's polare fees as the provider's cost against the
field-work budget (seed 004), read from billing's store (the service need not run)."""

from __future__ import annotations

import json
from typing import Any

import typer

from lots.settlement_cli import AsJson, Month, _billing, _refusals
from lots.text import escaped
from services.billing import polare
from services.billing.statement import kronor

polare_app = typer.Typer(
    help="Field work's polare: their fees per night walk.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@polare_app.command("fees")
def fees(month: Month, as_json: AsJson = False) -> None:
    """The month's polare fees (by the walks' dates), the year to date and the budget."""
    with _billing() as app, _refusals():
        report = polare.month_report(app, month)
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
