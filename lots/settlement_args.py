"""What the ``lots settlement`` verbs (and ``lots polare``) share: their arguments and options
as checked types, and billing's store opened with its refusals said plainly.

A bad argument prints what was wrong and exits 2; what billing refuses exits 1 (its
``NotFound``: 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from events.types import PROGRAMMES
from infra.settings import Settings
from lots import outfile
from services.billing.cap import CallOff
from services.billing.pricing_time import PricingError
from services.billing.settlement import SettlementError, month_start
from services.billing.tariff_entries import TariffError
from services.billing.tariff_quotes import PriceNotKnown


class Format(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"
    html = "html"
    pdf = "pdf"


def checked_month(value: str) -> str:
    try:
        month_start(value)
    except SettlementError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return value


def optional_month(value: str | None) -> str | None:
    return None if value is None else checked_month(value)


def known_programme(value: str | None) -> str | None:
    if value is not None and value not in PROGRAMMES:
        raise typer.BadParameter(f"unknown programme {value!r}; expected one of {PROGRAMMES}")
    return value


def reported_year(value: int | None) -> int | None:
    if value is not None and not 2000 <= value <= 2100:
        raise typer.BadParameter(f"year must be between 2000 and 2100, got {value}")
    return value


def parse_call_off(value: str) -> CallOff:
    try:
        reference, year, hours = value.rsplit(":", 2)
        return CallOff(reference, int(year), Decimal(hours))
    except (ValueError, InvalidOperation, PricingError) as exc:
        raise typer.BadParameter(f"{value!r}: expected REFERENCE:YEAR:HOURS ({exc})") from exc


def _out(value: Path | None) -> Path | None:
    if value is not None:
        outfile.check(value)  # before anything is read or computed
    return value


Month = Annotated[
    str, typer.Argument(help="the month, YYYY-MM", metavar="MONTH", callback=checked_month)
]
Programme = Annotated[
    str | None,
    typer.Option(
        help=f"limit it to one contract: {', '.join(PROGRAMMES)}", callback=known_programme
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output (JSON)")]
Output = Annotated[
    Format, typer.Option("--format", help="text, json, csv, html or pdf (printed from the html)")
]
Out = Annotated[
    Path | None, typer.Option("--out", help="write to this file, not stdout", callback=_out)
]


def fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def open_billing() -> Iterator[Any]:
    """Billing's application over its store, as the settings say; closed afterwards."""
    from services.billing.app import make_app

    try:
        settings = Settings()
    except Exception as exc:
        raise fail(f"bad settings: {exc}", 2) from exc
    app = make_app(settings)
    try:
        yield app
    finally:
        app.close()


@contextmanager
def refusals() -> Iterator[None]:
    """What billing refuses is said plainly and exits 1."""
    from services.billing.errors import BillingError, NotFound

    try:
        yield
    except NotFound as exc:
        raise fail(str(exc), 2) from exc
    except (BillingError, PriceNotKnown, TariffError, PricingError, SettlementError) as exc:
        raise fail(str(exc), 1) from exc
