"""The ``lots`` command: one entry point for people (contracts.md, "Command line")."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from infra.logging import configure
from infra.redis import RedisUnavailable
from infra.settings import Settings

app = typer.Typer(
    help="lots: the back office of Leanlink Råd och stöd (intake, scheduling, billing).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
contracts = typer.Typer(help="The public contracts.", no_args_is_help=True)
app.add_typer(contracts, name="contracts")
audit = typer.Typer(help="For auditors: integrity and history.", no_args_is_help=True)
app.add_typer(audit, name="audit")


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:
        typer.echo(f"error: bad settings: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def up() -> None:
    """Serve all three services until stopped (Ctrl-C)."""
    from lots.supervisor import Supervisor

    settings = _settings()
    configure(settings.log_level, json=settings.log_json)
    supervisor = Supervisor(settings)
    try:
        supervisor.start()
        supervisor.wait_ready()
        for service in supervisor.services:
            typer.echo(f"{service}: {supervisor.base_url(service)}/health/ready")
        typer.echo(f"redis: {supervisor.redis_url}")
        supervisor.watch()
    except KeyboardInterrupt:
        pass
    except (RedisUnavailable, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        supervisor.stop()


@app.command()
def demo(
    referrals: Annotated[int, typer.Option(min=1, max=100_000, help="referrals to send")] = 60,
    timeout: Annotated[float, typer.Option(min=1, help="seconds to wait for the answers")] = 120,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Run the whole system on the embedded default, feed it, and print what flowed."""
    from lots.demo import run_demo

    settings = _settings()
    configure("WARNING")
    try:
        summary = run_demo(
            settings,
            count=referrals,
            timeout=timeout,
            echo=(lambda _: None) if as_json else typer.echo,
        )
    except (RedisUnavailable, RuntimeError) as exc:
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
            typer.echo(line)
    raise typer.Exit(0 if healthy else 1)


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="the JSON Lines file to write")],
) -> None:
    """Write the event-log export (JSON Lines, log order per stream) for auditors."""
    from lots.export import export_to

    settings = _settings()
    try:
        counts = export_to(settings, out)
    except OSError as exc:
        typer.echo(f"error: cannot write {out}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    total = sum(counts.values())
    detail = ", ".join(f"{s} {n}" for s, n in counts.items())
    typer.echo(f"wrote {total} events to {out} ({detail})")


@audit.command("verify")
def audit_verify(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Check every store's hash chain; exit 1 naming the first broken link."""
    from infra.integrity import verify
    from lots.stores import open_stores

    settings = _settings()
    results = {}
    for service, store_app in open_stores(settings):
        try:
            results[service] = verify(store_app.store)
        finally:
            store_app.close()
    intact = all(v.intact for v in results.values())
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "intact": intact,
                    "stores": {
                        s: {"events": v.events, "broken_at": v.broken_at, "problem": v.problem}
                        for s, v in results.items()
                    },
                },
                indent=2,
            )
        )
    else:
        for service, verdict in results.items():
            if verdict.intact:
                typer.echo(f"{service}: intact ({verdict.events} events)")
            else:
                typer.echo(
                    f"{service}: BROKEN at event {verdict.broken_at}: {verdict.problem} "
                    f"({verdict.events} events before it verified)"
                )
    raise typer.Exit(0 if intact else 1)


@contracts.command("schema")
def contracts_schema(
    out: Annotated[Path, typer.Option(help="directory for the JSON Schema files")] = Path(
        "docs/schemas"
    ),
) -> None:
    """Export the JSON Schema of every public message."""
    from events.schema import export

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

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(specification(), encoding="utf-8")
    typer.echo(str(out))


def main() -> None:  # pragma: no cover - console script shim
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
