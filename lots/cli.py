"""The ``lots`` command: one entry point for people (contracts.md, "Command line")."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from infra.logging import configure
from infra.redis import RedisUnavailable
from infra.settings import SettingsError
from infra.words import counted
from lots import outfile
from lots.audit_cli import audit_app
from lots.cli_settings import settings_or_exit
from lots.dead_letters_cli import dead_letters_app
from lots.polare_cli import polare_app
from lots.quality_cli import quality_app
from lots.report_cli import report_app
from lots.settlement_cli import settlement_app
from lots.text import escaped

app = typer.Typer(
    help="lots: the back office of Leanlink Råd och stöd (intake, scheduling, billing).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
contracts = typer.Typer(help="The public contracts.", no_args_is_help=True)
app.add_typer(contracts, name="contracts")
app.add_typer(audit_app, name="audit")
app.add_typer(settlement_app, name="settlement")
app.add_typer(polare_app, name="polare")
app.add_typer(quality_app, name="quality")
app.add_typer(dead_letters_app, name="dead-letters")
app.add_typer(report_app, name="report")


@app.command()
def up() -> None:
    """Serve all three services until stopped (Ctrl-C)."""
    from lots.statuspage import StatusPage
    from lots.supervisor import Supervisor

    settings = settings_or_exit()
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

    settings = settings_or_exit()
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
    from lots.status import collect
    from lots.status_text import render

    report = collect(settings_or_exit())
    healthy = report["healthy"] and not (strict and report["breaches"])
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        for line in render(report):
            typer.echo(escaped(line))
    raise typer.Exit(0 if healthy else 1)


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="the JSON Lines file to write")],
) -> None:
    """Write the event-log export (JSON Lines, log order per stream) for auditors."""
    from lots.export import export_to

    outfile.check(out)
    settings = settings_or_exit()
    try:
        counts = export_to(settings, out)
    except OSError as exc:
        typer.echo(f"error: cannot write {out}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    total = sum(counts.values())
    detail = ", ".join(f"{s} {n}" for s, n in counts.items())
    typer.echo(f"wrote {counted(total, 'event')} to {out} ({detail})")


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

    from infra.auth import Role
    from infra.tokens import entry_for, new_token

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
