"""The month's statement as HTML a municipal finance officer reads, and the PDF is printed from.

Lines named in words (:mod:`services.billing.statement_words`), every amount written with
:func:`infra.money.kronor` from the document's öre, the tariff lineage as numbered references,
near-identical notes grouped into one, instants in Stockholm time with the zone named.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from infra.money import kronor
from services.billing.statement_words import (
    TITLES,
    apart,
    awaiting_in_words,
    count,
    grouped,
    line_name,
    lineage,
    month_in_words,
    name,
    notes_in_words,
    separate_items,
    separately,
    status,
)

e = html.escape
STYLE = (
    "@page{size:A4;margin:16mm 14mm;"
    "@bottom-right{content:'Page ' counter(page) ' of ' counter(pages);font-size:8pt;"
    "font-family:'DejaVu Sans',sans-serif}}"
    "body{font-family:'DejaVu Sans',sans-serif;font-size:10.5pt;margin:2em;max-width:60em;"
    "color:#111}@media print{body{margin:0}}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.4em}"
    "table{border-collapse:collapse;margin:0.5em 0 1em;width:100%}"
    "th,td{border:1px solid #bbb;padding:0.3em 0.5em;text-align:left;vertical-align:top}"
    "thead th{background:#eee}td.n,th.n{text-align:right}td.n{white-space:nowrap}"
    "table.lines td:first-child{width:55%}"
    "sup{font-size:0.75em}ol.refs{font-size:0.85em}code{font-size:0.85em;white-space:nowrap}"
    "p.digest{font-size:0.85em}p.digest code{white-space:normal;word-break:break-all}"
)


def to_html(view: Mapping[str, Any]) -> str:
    """A statement a person can read: lines per programme, cap usage, fees, status, digest."""
    document = view["document"]
    month = month_in_words(document["month"])
    scope = TITLES.get(document["programme"] or "", "all programmes")
    preview = " — PREVIEW, not final" if view.get("preview") else ""
    references: list[str] = []
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Settlement {e(month)}{e(preview)}</title>",
        f"<style>{STYLE}</style>",
        "</head><body>",
        f"<h1>Monthly settlement, {e(month)}{e(preview)}</h1>",
        "<p>Leanlink Råd och stöd to Linköping municipality (Social- och omsorgsförvaltningen), "
        f"settled monthly in arrears; {e(scope)}.</p>",
        f"<p>Status: <strong>{e(status(view))}</strong></p>",
        "<h2>Summary</h2><table>",
        _row("Owed for the month", kronor(document["total_ore"])),
        _row("Client fees collected (belong to the municipality)", kronor(document["fees_ore"])),
        _row("Net to transfer when fees are netted", kronor(document["net_ore"])),
        _row("Counselling client hours billed", e(document["billable_hours"])),
        "</table>",
        *_lines(document, view.get("term_ends") or {}, references),
        *_cap_usage(view.get("cap_usage") or []),
        *_asides(view),
        *_references(references),
    ]
    what = (
        "this preview (not final)" if view.get("preview") else "the canonical settlement document"
    )
    parts.append(
        f"<p class=digest>SHA-256 of {what}: <code>{e(document['digest'])}</code></p></body></html>"
    )
    return "\n".join(parts) + "\n"


def _lines(
    document: Mapping[str, Any], term_ends: Mapping[str, str], references: list[str]
) -> list[str]:
    """A table per programme; each priced line points to its tariff lineage in ``references``,
    a late session's adjustment to the session it bills."""
    by_programme: dict[str, list[Mapping[str, Any]]] = {}
    for line in document["lines"]:
        by_programme.setdefault(line["programme"], []).append(line)
    parts: list[str] = []
    for programme, lines in sorted(by_programme.items()):
        parts.append(f"<h2>{e(TITLES.get(programme, programme))}</h2>")
        parts.append(
            "<table class=lines><thead><tr><th>Line</th><th class=n>Sessions</th>"
            "<th class=n>Client hours</th><th class=n>Fees collected</th><th class=n>Amount</th>"
            "</tr></thead>"
        )
        for line in lines:
            note = ""
            if "tariff_version" in line or "session_id" in line:
                references.append(lineage(line))
                n = len(references)
                note = f'<sup><a href="#ref-{n}">[{n}]</a></sup>'
            fees = line.get("fees_collected_ore")
            parts.append(
                f"<tr><td>{e(line_name(line, document['month'], term_ends))}{note}</td>"
                f"<td class=n>{e(str(line.get('sessions', '')))}</td>"
                f"<td class=n>{e(str(line.get('client_hours', '')))}</td>"
                f"<td class=n>{kronor(fees) if fees is not None else ''}</td>"
                f'<td class="n amount">{kronor(line["amount_ore"])}</td></tr>'
            )
        subtotal = sum(int(line["amount_ore"]) for line in lines)
        parts.append(f"<tr><th colspan=4>Subtotal</th><td class=n>{kronor(subtotal)}</td></tr>")
        parts.append("</table>")
    return parts


def _references(references: list[str]) -> list[str]:
    if not references:
        return []
    items = [f'<li id="ref-{n}">{e(text)}</li>' for n, text in enumerate(references, 1)]
    return ["<h2>References: tariff lineage</h2><ol class=refs>", *items, "</ol>"]


def _asides(view: Mapping[str, Any]) -> list[str]:
    """What the statement lists beside the money: other providers' meetings, what waits for a
    person or a price, and the notes; near-identical entries grouped into one each."""
    document = view["document"]
    lists = (
        (
            "Meetings held by other providers (reported apart, not owed to Leanlink)",
            [f"{e(name(r['programme']))}: {e(apart(r))}"
             for r in document.get("other_providers", [])],
        ),
        (
            "Premises share and state grants (003 §1.2; reported apart, not in the total)",
            [f"{e(name(i['programme']))}: {e(separately(i))}" for i in separate_items(document)],
        ),
        ("Group sessions waiting for a decision (not billed)", _undecided(document)),
        ("Sessions waiting for a price (the month cannot close)",
         [e(entry) for entry in awaiting_in_words(view)]),
        ("Notes", [e(note) for note in notes_in_words(document["notes"])]),
    )  # fmt: skip
    parts: list[str] = []
    for title, items in lists:
        if items:
            parts.append(f"<h2>{e(title)}</h2><ul>")
            parts += [f"<li>{item}</li>" for item in items]
            parts.append("</ul>")
    return parts


def _undecided(document: Mapping[str, Any]) -> list[str]:
    """The group sessions waiting for a decision, one entry per reason naming its meetings."""
    pairs = (
        (p["reason"], f"<code>{e(p['meeting_id'])}</code> ({p['minutes']} min, "
                      f"{p['participants']} participants)")
        for p in document["pending_decisions"]
    )  # fmt: skip
    return [
        f"{count(len(which), 'group session')}: {e(what)}; meeting{'s' * (len(which) > 1)} "
        + ", ".join(which)
        for what, which in grouped(pairs)
    ]


def _row(label: str, value: str) -> str:
    return f"<tr><th>{e(label)}</th><td class=n>{value}</td></tr>"


def _cap_usage(usage: list[Mapping[str, Any]]) -> list[str]:
    if not usage:
        return []
    parts = [
        "<h2>Yearly cap of ordered hours</h2><table><thead><tr><th>Programme</th><th>Year</th>"
        "<th class=n>Cap</th><th class=n>Called off</th><th class=n>Billed so far</th>"
        "<th class=n>Used</th><th class=n>Not billed (beyond the cap)</th>"
        "<th>Warnings given</th></tr></thead>"
    ]
    for u in usage:
        warnings = ", ".join(f"{w} %" for w in u["warnings"]) or "none"
        parts.append(
            f"<tr><td>{e(name(u['programme']))}</td><td>{u['year']}</td>"
            f"<td class=n>{u['cap_hours']} h</td><td class=n>{e(u['call_off_hours'])} h</td>"
            f"<td class=n>{e(u['billed_hours'])} h</td><td class=n>{e(u['used_percent'])} %</td>"
            f"<td class=n>{e(u['over_cap_hours'])} h</td><td>{e(warnings)}</td></tr>"
        )
    parts.append("</table>")
    return parts
