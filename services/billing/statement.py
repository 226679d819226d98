"""A month's settlement for people: a CSV of its lines, and a readable HTML statement
(:mod:`services.billing.statement_html`; its PDF: :mod:`services.billing.statement_pdf`).

All are renderings of the canonical document (``settle``) plus what billing knows around it
(open or closed, when and by whom, the yearly cap's usage). Amounts stay integer öre; kronor
are written from them with integer arithmetic, never through a float.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from infra.money import sek
from services.billing.statement_html import to_html
from services.billing.statement_words import (
    TITLES,
    apart,
    line_name,
    preview_status,
    separate_items,
    separately,
)

__all__ = [
    "CSV_COLUMNS", "TITLES", "apart", "describe", "preview_status", "separate_items", "separately",
    "to_csv", "to_html",
]  # fmt: skip

CSV_COLUMNS = (
    "month",
    "programme",
    "kind",
    "description",
    "rate_sek_per_hour",
    "sessions",
    "minutes",
    "billable_quarters",
    "client_hours",
    "fees_collected_ore",
    "amount_ore",
    "amount_sek",
)


def describe(
    line: Mapping[str, Any], month: str, term_ends: Mapping[str, str] | None = None
) -> str:
    """A line in words for the CSV's description: its name and, for a priced line, its tariff
    version (on the HTML statement that lineage is a reference note)."""
    named = line_name(line, month, term_ends)
    return f"{named}; tariff {line['tariff_version']}" if "tariff_version" in line else named


def to_csv(document: Mapping[str, Any]) -> str:
    """One row per line, then the month's total, fees, net and digest."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    month = document["month"]
    for line in document["lines"]:
        writer.writerow(
            [
                month,
                line["programme"],
                line["kind"],
                describe(line, month),
                line.get("rate", ""),
                line.get("sessions", ""),
                line.get("minutes", ""),
                line.get("billable_quarters", ""),
                line.get("client_hours", ""),
                line.get("fees_collected_ore", ""),
                line["amount_ore"],
                sek(line["amount_ore"]),
            ]
        )
    summary = (
        ("total", "owed by the municipality for the month", document["total_ore"]),
        ("fees", "client fees collected; they belong to the municipality", document["fees_ore"]),
        ("net", "to transfer when the fees are netted", document["net_ore"]),
    )
    hours = document["billable_hours"]
    for kind, text, ore in summary:
        writer.writerow(
            [month, "", kind, text, "", "", "", "", hours if kind == "total" else "", "", ore,
             sek(ore)]
        )  # fmt: skip
    for row in document.get("other_providers", []):
        writer.writerow(
            [month, row["programme"], "other_provider", apart(row), "", row["meetings"],
             row["minutes"], row["billable_quarters"], "", "", "", ""]
        )  # fmt: skip
    for item in separate_items(document):
        writer.writerow(
            [month, item["programme"], item["kind"], separately(item), *[""] * 6,
             item["amount_ore"], sek(item["amount_ore"])]
        )  # fmt: skip
    writer.writerow([month, "", "digest", document["digest"], *[""] * 8])
    return out.getvalue()
