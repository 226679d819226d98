"""A month's settlement for people: a CSV of its lines, and a readable HTML statement.

Both are renderings of the canonical document (``settle``) plus what billing knows around it
(open or closed, when and by whom, the yearly cap's usage). Amounts stay integer öre; kronor
are written from them with integer arithmetic, never through a float.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping
from typing import Any

from infra.money import kronor, sek

TITLES = {
    "counselling": "Family counselling (familjerådgivning)",
    "coordinated+network": "Coordinated support and network work (samordnat stöd, nätverksarbete)",
    "coordinated": "Coordinated support (samordnat stöd)",
    "network": "Network work (nätverksarbete)",
    "field": "Field work (fältverksamhet)",
}
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


def describe(line: Mapping[str, Any]) -> str:
    if line["kind"] == "hourly":
        return f"sessions at {line['rate']} SEK/h ({line['tariff_version']})"
    if line["kind"] == "fixed":
        covered = (
            f", {line['covered_months']} month(s) of the year covered from {line['covered_from']}"
            if "covered_from" in line
            else ""
        )
        return (
            f"{line['contract']}: month {line['month_of_period']} of {line['period_months']} "
            f"of {sek(line['period_amount_ore'])} SEK per {line['per']}{covered} "
            f"({line['price_level_year']} price level; {line['tariff_version']})"
        )
    return f"{line['reason']} (belongs to {line['belongs_to_month']}{referred(line)})"


def referred(line: Mapping[str, Any]) -> str:
    """A manual adjustment's reference and cause for people; nothing for other lines."""
    if "reference" not in line:
        return ""
    return f"; {line.get('cause', 'adjustment')}, reference {line['reference']}"


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
                describe(line),
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


def apart(row: Mapping[str, Any]) -> str:
    """A row of ``other_providers`` for people: reported apart, never owed to Leanlink."""
    return (
        f"held by {row['provider']} in {row['month_held']}: {row['meetings']} meeting(s), "
        f"{row['minutes']} min, {row['client_visits']} client visit(s); reported apart, not "
        "in what is owed to Leanlink"
    )


SEPARATE_TITLES = {"premises_share": "premises share", "state_grant": "state grant"}


def separate_items(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The premises shares and state grants recorded on the month (003 §1.2), if any."""
    found: list[Mapping[str, Any]] = (document.get("reported_separately") or {}).get("items", [])
    return found


def separately(item: Mapping[str, Any]) -> str:
    """A premises share or state grant for people: reported apart, never in the month's total."""
    why = (
        "part of the costs the price already covers"
        if item["kind"] == "premises_share"
        else "belongs to social- och omsorgsnämnden"
    )
    note = f"; {item['note']}" if item.get("note") else ""
    return (
        f"{SEPARATE_TITLES[item['kind']]} {sek(item['amount_ore'])} SEK for "
        f"{item['period_from']}..{item['period_to']} ({item['reference']}): {why} (003 §1.2); "
        f"reported apart, not in what is owed{note}"
    )


def to_html(view: Mapping[str, Any]) -> str:
    """A statement a person can read: lines per programme, cap usage, fees, status, digest."""
    document = view["document"]
    e = html.escape
    month = e(document["month"])
    scope = TITLES.get(document["programme"] or "", "all programmes")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Settlement {month}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
        "th,td{border:1px solid #bbb;padding:0.3em 0.6em;text-align:left}"
        "td.n{text-align:right;white-space:nowrap}code{font-size:0.85em}</style>",
        "</head><body>",
        f"<h1>Monthly settlement {month}{' — PREVIEW, not final' if view.get('preview') else ''}"
        "</h1>",
        "<p>Leanlink Råd och stöd to Linköping municipality (Social- och omsorgsförvaltningen), "
        f"settled monthly in arrears; {e(scope)}.</p>",
        f"<p>Status: <strong>{e(_status(view))}</strong></p>",
        "<h2>Summary</h2><table>",
        _row("Owed for the month", kronor(document["total_ore"])),
        _row("Client fees collected (belong to the municipality)", kronor(document["fees_ore"])),
        _row("Net to transfer when fees are netted", kronor(document["net_ore"])),
        _row("Counselling client hours billed", e(document["billable_hours"])),
        "</table>",
    ]
    by_programme: dict[str, list[Mapping[str, Any]]] = {}
    for line in document["lines"]:
        by_programme.setdefault(line["programme"], []).append(line)
    for programme, lines in sorted(by_programme.items()):
        parts.append(f"<h2>{e(TITLES.get(programme, programme))}</h2>")
        parts.append(
            "<table><tr><th>Kind</th><th>What</th><th>Sessions</th><th>Client hours</th>"
            "<th>Fees collected</th><th>Amount</th></tr>"
        )
        for line in lines:
            fees = line.get("fees_collected_ore")
            parts.append(
                f"<tr><td>{e(line['kind'])}</td><td>{e(describe(line))}</td>"
                f"<td class=n>{e(str(line.get('sessions', '')))}</td>"
                f"<td class=n>{e(str(line.get('client_hours', '')))}</td>"
                f"<td class=n>{kronor(fees) if fees is not None else ''}</td>"
                f"<td class=n>{kronor(line['amount_ore'])}</td></tr>"
            )
        subtotal = sum(int(line["amount_ore"]) for line in lines)
        parts.append(f"<tr><th colspan=5>Subtotal</th><td class=n>{kronor(subtotal)}</td></tr>")
        parts.append("</table>")
    parts.extend(_cap_usage(view.get("cap_usage") or []))
    parts.extend(_asides(view))
    what = (
        "this preview (not final)" if view.get("preview") else "the canonical settlement document"
    )
    parts.append(f"<p>SHA-256 of {what}: <code>{e(document['digest'])}</code></p></body></html>")
    return "\n".join(parts) + "\n"


def _asides(view: Mapping[str, Any]) -> list[str]:
    """What the statement lists beside the money: other providers' meetings, what waits for a
    person or a price, and the notes; each an HTML list, only if there is something in it."""
    document = view["document"]
    e = html.escape
    lists = (
        (
            "Meetings held by other providers (reported apart, not owed to Leanlink)",
            [f"{e(TITLES.get(r['programme'], r['programme']))}: {e(apart(r))}"
             for r in document.get("other_providers", [])],
        ),
        (
            "Premises share and state grants (003 §1.2; reported apart, not in the total)",
            [f"{e(TITLES.get(i['programme'], i['programme']))}: {e(separately(i))}"
             for i in separate_items(document)],
        ),
        (
            "Group sessions waiting for a decision (not billed)",
            [f"meeting <code>{e(p['meeting_id'])}</code>: {e(p['reason'])}"
             for p in document["pending_decisions"]],
        ),
        (
            "Sessions waiting for a price (the month cannot close)",
            [e(reason) for reason in view.get("awaiting_price") or []],
        ),
        ("Notes", [e(note) for note in document["notes"]]),
    )  # fmt: skip
    parts: list[str] = []
    for title, items in lists:
        if items:
            parts.append(f"<h2>{e(title)}</h2><ul>")
            parts += [f"<li>{item}</li>" for item in items]
            parts.append("</ul>")
    return parts


def _status(view: Mapping[str, Any]) -> str:
    if view.get("preview"):
        return preview_status(view)
    if view.get("status") == "closed":
        by = f" by {view['closed_by']}" if view.get("closed_by") else ""
        return f"closed {view.get('closed_at')}{by}; a closed month never changes"
    if view.get("status") == "computed":
        return "computed offline from an event-log export"
    grace = view.get("grace") or {}
    if grace.get("in_grace"):
        return f"open, in its grace window until {grace['grace_ends']}: it may still change"
    return "open: as it stands, it may still change"


def preview_status(view: Mapping[str, Any]) -> str:
    """How a preview (``Billing.preview``) says what it is: not closed, not final."""
    phase = {
        "current": "the month is not over",
        "in_grace": f"in its grace window until {(view.get('grace') or {}).get('grace_ends')}",
        "over": "the month is over and may be closed",
    }.get(str(view.get("status")), str(view.get("status")))
    closable = (
        "a close now would record this document"
        if view.get("closable")
        else f"a close now is refused: {view.get('close_refusal')}"
    )
    return (
        f"PREVIEW computed {view.get('computed_at')}, not closed and nothing recorded; "
        f"{phase}; {closable}. Its digest is of this preview only (not final)"
    )


def _row(label: str, value: str) -> str:
    return f"<tr><th>{html.escape(label)}</th><td class=n>{value}</td></tr>"


def _cap_usage(usage: list[Mapping[str, Any]]) -> list[str]:
    if not usage:
        return []
    e = html.escape
    parts = [
        "<h2>Yearly cap of ordered hours</h2><table><tr><th>Programme</th><th>Year</th>"
        "<th>Cap</th><th>Called off</th><th>Billed so far</th><th>Used</th>"
        "<th>Not billed (beyond the cap)</th><th>Warnings given</th></tr>"
    ]
    for u in usage:
        warnings = ", ".join(f"{w} %" for w in u["warnings"]) or "none"
        parts.append(
            f"<tr><td>{e(u['programme'])}</td><td>{u['year']}</td>"
            f"<td class=n>{u['cap_hours']} h</td><td class=n>{e(u['call_off_hours'])} h</td>"
            f"<td class=n>{e(u['billed_hours'])} h</td><td class=n>{e(u['used_percent'])} %</td>"
            f"<td class=n>{e(u['over_cap_hours'])} h</td><td>{e(warnings)}</td></tr>"
        )
    parts.append("</table>")
    return parts
