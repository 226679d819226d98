"""The ``lots`` command: one entry point for people (contracts.md, "Command line")."""

from __future__ import annotations

import getpass
import json
import signal
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from infra.logging import configure
from infra.redis import RedisUnavailable
from infra.settings import Settings, SettingsError
from infra.words import counted
from lots import outfile
from lots.dead_letters_cli import dead_letters_app
from lots.polare_cli import polare_app
from lots.quality_cli import quality_app
from lots.settlement_cli import settlement_app
from lots.text import escaped
from services.intake.settings import IntakeSettings

app = typer.Typer(
    help="lots: the back office of Leanlink Råd och stöd (intake, scheduling, billing).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
contracts = typer.Typer(help="The public contracts.", no_args_is_help=True)
app.add_typer(contracts, name="contracts")
audit = typer.Typer(help="For auditors: integrity and history.", no_args_is_help=True)
app.add_typer(audit, name="audit")
app.add_typer(settlement_app, name="settlement")
app.add_typer(polare_app, name="polare")
app.add_typer(quality_app, name="quality")
app.add_typer(dead_letters_app, name="dead-letters")


def _settings() -> Settings:
    try:
        # intake's own settings too: one refused (LOTS_INTAKE_CONTRACT_ENDS...) stops `lots up`
        # here, and the children are handed them with the shared ones (supervisor.child_env)
        return IntakeSettings()
    except Exception as exc:
        typer.echo(f"error: bad settings: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def up() -> None:
    """Serve all three services until stopped (Ctrl-C)."""
    from lots.statuspage import StatusPage
    from lots.supervisor import Supervisor

    settings = _settings()
    configure(settings.log_level, json=settings.log_json, service="up")
    # SIGTERM (a service manager, `kill`) stops the services as Ctrl-C does, and so does SIGINT
    # even where it was inherited ignored (a shell's background job).
    before = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, _interrupted),
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
    }
    supervisor = Supervisor(settings)
    page: StatusPage | None = None
    try:
        supervisor.start()
        problem = supervisor.guard.problem() if supervisor.guard else None
        line = supervisor.redis_line()  # production has refused an unguarded one
        typer.echo(line if problem is None else f"WARNING: {line}: {problem}", err=bool(problem))
        supervisor.wait_ready()
        page = StatusPage(
            settings.model_copy(update={"redis_url": supervisor.redis_url}), settings.status_port
        )
        page.start()
        for service in supervisor.services:
            typer.echo(f"{service}: {supervisor.base_url(service)}/docs")
        typer.echo(f"status page: {page.link}")
        for hint in supervisor.redis_cli_lines():
            typer.echo(hint)
        supervisor.watch()
    except KeyboardInterrupt:
        pass
    except (RedisUnavailable, RuntimeError, SettingsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        if page is not None:
            page.stop()
        supervisor.stop()
        for signum, handler in before.items():
            signal.signal(signum, handler)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@app.command()
def demo(
    referrals: Annotated[int, typer.Option(min=1, max=100_000, help="referrals to send")] = 60,
    timeout: Annotated[float, typer.Option(min=1, help="seconds to wait for the answers")] = 120,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Run the whole system on the embedded default, feed it, and print what flowed."""
    from lots.demo import run_demo

    settings = _settings()
    configure("WARNING", service="demo")
    try:
        summary = run_demo(
            settings,
            count=referrals,
            timeout=timeout,
            echo=(lambda _: None) if as_json else typer.echo,
        )
    except (RedisUnavailable, RuntimeError, SettingsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    strict: Annotated[
        bool, typer.Option(help="count service-level breaches as unhealthy too")
    ] = False,
) -> None:
    """Services, streams and service levels. Exit 0 when healthy, 1 when not."""
    from lots.status import collect, render

    report = collect(_settings())
    healthy = report["healthy"] and not (strict and report["breaches"])
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        for line in render(report):
            typer.echo(escaped(line))
    raise typer.Exit(0 if healthy else 1)


report = typer.Typer(help="Reports for the administration.", no_args_is_help=True)
app.add_typer(report, name="report")


@report.command("year")
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
    from infra.calendar import local_date
    from infra.clock import make_clock
    from lots.export import export_lines
    from lots.report import to_csv, to_html, to_text, yearly
    from lots.stores import open_stores

    if not 2000 <= year <= 2100:
        typer.echo(f"error: {year} is not a year this system reports on (2000-2100)", err=True)
        raise typer.Exit(2)
    if fmt not in ("text", "json", "csv", "html"):
        typer.echo(f"error: --format {fmt!r}: choose text, json, csv or html", err=True)
        raise typer.Exit(2)
    if out is not None:
        outfile.check(out)
    settings = _settings()
    try:
        today = date.fromisoformat(as_of) if as_of else local_date(make_clock(settings)())
    except ValueError as exc:
        typer.echo(f"error: --as-of {as_of!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(2) from exc
    lines: list[str] = []
    if events is not None:
        try:
            lines = events.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            typer.echo(f"error: cannot read {events}: {exc.strerror}", err=True)
            raise typer.Exit(2) from exc
    else:
        for _, store_app in open_stores(settings):
            try:
                lines.extend(export_lines(store_app))
            finally:
                store_app.close()
    try:
        figures = yearly(lines, year, today)
    except (ValueError, KeyError, TypeError) as exc:
        typer.echo(f"error: the events cannot be read as an export: {exc!r}", err=True)
        raise typer.Exit(2) from exc
    if fmt == "csv":
        text = to_csv(figures)
    elif fmt == "html":
        text = to_html(figures)
    elif fmt == "json":
        text = json.dumps(figures, indent=2, ensure_ascii=False) + "\n"
    else:
        text = to_text(figures)
    if out is None:
        typer.echo(text, nl=False)
    else:
        outfile.write(out, text)
        typer.echo(f"wrote {out}")


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="the JSON Lines file to write")],
) -> None:
    """Write the event-log export (JSON Lines, log order per stream) for auditors."""
    from lots.export import export_to

    outfile.check(out)
    settings = _settings()
    try:
        counts = export_to(settings, out)
    except OSError as exc:
        typer.echo(f"error: cannot write {out}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    total = sum(counts.values())
    detail = ", ".join(f"{s} {n}" for s, n in counts.items())
    typer.echo(f"wrote {counted(total, 'event')} to {out} ({detail})")


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


@audit.command("case")
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
    report = history(_settings(), case, Look(by or _logged_in(), role, reason), moment)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for line in case_file(report, report["as_of"]):
            typer.echo(line)
        if not report["events"]:
            typer.echo("no events: no such case, or nothing happened before that moment")
    raise typer.Exit(0 if report["events"] else 1)


@audit.command("access")
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
    looks = accesses(_settings(), case)
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


@audit.command("verify")
def audit_verify(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Check every store's hash chain and reconcile the stores with each other; exit 1 naming
    the first broken link and every event whose source's store does not hold what it names."""
    from lots.verify import render, verify_stores

    report = verify_stores(_settings())
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        for line in render(report):
            typer.echo(line)
    raise typer.Exit(0 if report["intact"] and report["reconciled"] else 1)


token = typer.Typer(help="HTTP bearer tokens (docs/security.md).", no_args_is_help=True)
app.add_typer(token, name="token")


@token.command("new")
def token_new(
    role: Annotated[str, typer.Option("--role", help="publisher, staff, auditor or operator")],
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="a source a publisher submits as (repeat for more)"),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="who holds it (recorded with its reads)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Make a new token: prints it once, and the entry to add to LOTS_API_TOKENS."""
    from pydantic import ValidationError

    from infra.auth import Role, entry_for, new_token

    roles = [r.value for r in Role]
    if role not in roles:
        typer.echo(f"error: --role {role!r}: choose {', '.join(roles)}", err=True)
        raise typer.Exit(2)
    sources = [s.strip() for s in source or []]
    if any(not s for s in sources):
        typer.echo("error: --source must not be empty", err=True)
        raise typer.Exit(2)
    secret = new_token()
    try:
        entry = entry_for(secret, Role(role), sources, name)
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        typer.echo(f"error: {problems}", err=True)
        raise typer.Exit(2) from exc
    listed = entry.model_dump(mode="json", exclude_none=True)
    listed["sources"] = sorted(entry.sources)
    if not entry.sources:
        del listed["sources"]
    if as_json:
        typer.echo(json.dumps({"token": secret, "entry": listed}, indent=2))
        return
    typer.echo(f"token (shown only now; the settings keep its hash): {secret}")
    typer.echo("add this entry to the JSON list in LOTS_API_TOKENS:")
    typer.echo(json.dumps(listed, ensure_ascii=False))


@contracts.command("schema")
def contracts_schema(
    out: Annotated[Path, typer.Option(help="directory for the JSON Schema files")] = Path(
        "docs/schemas"
    ),
) -> None:
    """Export the JSON Schema of every public message."""
    from events.schema import export

    if out.exists() and not out.is_dir():
        typer.echo(f"error: --out {out} is a file; give the directory to write into", err=True)
        raise typer.Exit(2)
    for path in export(out):
        typer.echo(str(path))


@contracts.command("asyncapi")
def contracts_asyncapi(
    out: Annotated[Path, typer.Option(help="file for intake's AsyncAPI document")] = Path(
        "docs/asyncapi/intake.json"
    ),
) -> None:
    """Write the AsyncAPI 3.0 document of intake's streams."""
    from services.intake.asyncapi import specification

    outfile.write(out, specification())
    typer.echo(str(out))


def main() -> None:  # pragma: no cover - console script shim
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
