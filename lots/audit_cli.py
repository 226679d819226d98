"""``lots audit``: for auditors, a case's whole history (the look itself recorded), every
recorded look, and the stores' integrity. A bad case id or time stamp prints what was wrong and
exits 2."""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from typing import Annotated
from uuid import UUID

import typer

from lots.cli_settings import settings_or_exit
from lots.text import escaped

audit_app = typer.Typer(help="For auditors: integrity and history.", no_args_is_help=True)


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        typer.echo(f"error: {option} {text!r} is not an ISO 8601 time stamp", err=True)
        raise typer.Exit(2) from exc
    if moment.tzinfo is None:
        typer.echo(f"error: {option} needs an offset, e.g. 2026-11-24T10:00:00+01:00", err=True)
        raise typer.Exit(2)
    return moment


def _logged_in() -> str:
    """Who is logged in, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this user id (a bare container)
        return "unknown"


@audit_app.command("case")
def audit_case(
    case_id: Annotated[str, typer.Argument(help="the case id (UUID)")],
    reason: Annotated[str, typer.Option("--reason", help="why you look (recorded)")],
    by: Annotated[
        str | None,
        typer.Option("--by", help="who looks (recorded); default: the logged-in user"),
    ] = None,
    role: Annotated[str, typer.Option("--role", help="your role (recorded)")] = "auditor",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="show the case as it stood then (ISO 8601)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """A case's whole history across the three services; the look itself is recorded."""
    from lots.audit import Look, history
    from lots.case_file import render as case_file

    try:
        case = UUID(case_id)
    except ValueError as exc:
        typer.echo(f"error: {case_id!r} is not a case id (a UUID)", err=True)
        raise typer.Exit(2) from exc
    if not reason.strip():
        typer.echo("error: --reason must say why you look at the case", err=True)
        raise typer.Exit(2)
    moment = _when(as_of, "--as-of")
    report = history(settings_or_exit(), case, Look(by or _logged_in(), role, reason), moment)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for line in case_file(report, report["as_of"]):
            typer.echo(line)
        if not report["events"]:
            typer.echo("no events: no such case, or nothing happened before that moment")
    raise typer.Exit(0 if report["events"] else 1)


@audit_app.command("access")
def audit_access(
    case_id: Annotated[str | None, typer.Option("--case", help="only looks at this case")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Every recorded look at a case: who, when, which case, in what role, why."""
    from lots.audit import accesses

    try:
        case = UUID(case_id) if case_id else None
    except ValueError as exc:
        typer.echo(f"error: {case_id!r} is not a case id (a UUID)", err=True)
        raise typer.Exit(2) from exc
    looks = accesses(settings_or_exit(), case)
    if as_json:
        typer.echo(json.dumps(looks, indent=2, ensure_ascii=False))
        return
    from lots.case_file import local

    for look in looks:
        how = "over HTTP, " + (look["service"] or "a service") if look["via"] == "http" else "CLI"
        typer.echo(
            escaped(
                f"{local(look['at'])}  {look['by']} ({look['role']}, {how}) looked at "
                f"{look['case_id']}: {look['reason']}"
            )
        )


@audit_app.command("verify")
def audit_verify(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Check every store's hash chain and reconcile the stores with each other; exit 1 naming
    the first broken link and every event whose source's store does not hold what it names."""
    from lots.verify import render, verify_stores

    report = verify_stores(settings_or_exit())
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        for line in render(report):
            typer.echo(line)
    raise typer.Exit(0 if report["intact"] and report["reconciled"] else 1)
