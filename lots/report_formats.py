"""``lots report year``'s figures (:func:`lots.report.yearly`) as text, CSV or HTML: one
column per programme, then the follow-up sections as (section, figure, value) rows."""

from __future__ import annotations

import csv
import html
import io
from datetime import date
from typing import Any

from events.types import PROGRAMMES
from infra.words import counted
from lots import field_report
from lots.quality_report import rows as section_rows

COLUMNS = (
    ("referrals_received", "referrals received"),
    ("referrals_rejected", "referrals rejected"),
    ("cases_opened", "cases opened"),
    ("cases_closed", "cases closed"),
    ("families", "families"),
    ("meetings_held", "meetings held"),
    ("meeting_hours", "meeting hours"),
    ("median_wait_days", "median wait to first contact (days)"),
    ("first_contact_within_14_days", "first contact within 14 days (%)"),
    ("sip_meetings", "SIP meetings"),
    ("client_hours_billed", "client hours billed"),
    ("yearly_cap_hours", "yearly cap in force (hours)"),
    ("cap_used_percent", "yearly cap used (%)"),
    ("fees_sek", "client fees (SEK)"),
    *field_report.COLUMNS,
)


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["figure", *PROGRAMMES])
    for key, label in COLUMNS:
        if key == "referrals_rejected":
            writer.writerow([label, report["rejected_referrals"], "", "", ""])
            continue
        writer.writerow([label, *(_cell(report["programmes"][p][key]) for p in PROGRAMMES)])
    writer.writerow([])
    writer.writerow(["section", "figure", "value"])
    writer.writerows(section_rows(report))
    return out.getvalue()


def to_html(report: dict[str, Any], today: date | None = None) -> str:
    head = "".join(f"<th>{p}</th>" for p in PROGRAMMES)
    body = []
    for key, label in COLUMNS:
        if key == "referrals_rejected":
            cells = f"<td>{report['rejected_referrals']}</td>" + "<td></td>" * 3
        else:
            cells = "".join(
                f"<td>{html.escape(_cell(report['programmes'][p][key]))}</td>" for p in PROGRAMMES
            )
        body.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    year = report["year"]
    follow = "".join(
        f"<tr><th>{html.escape(s)}</th><th>{html.escape(f)}</th><td>{html.escape(v)}</td></tr>"
        for s, f, v in section_rows(report)
    )
    steering = report["steering_group"]
    warning = (
        f"<p class='warning'><strong>Warning:</strong> {html.escape(steering['message'])}</p>"
        if steering["warning"]
        else ""
    )
    return (
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        f"<title>Activity report {year}</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
        "th,td{border:1px solid #ccd;padding:.3rem .6rem;text-align:right}"
        "th:first-child{text-align:left}</style>"
        f"<h1>Leanlink Råd och stöd: activity report {year}</h1>"
        f"<p>Due to the administration by 31 March {year + 1} (seed 003 §4.1).</p>"
        f"<table><tr><th>figure</th>{head}</tr>{''.join(body)}</table>"
        f"<h2>Quality, follow-up and steering group</h2>{warning}"
        f"<table><tr><th>section</th><th>figure</th><th>value</th></tr>{follow}</table></html>\n"
    )


def to_text(report: dict[str, Any]) -> str:
    rows = [f"{'':<38}" + "".join(f"{p:>13}" for p in PROGRAMMES)]
    for key, label in COLUMNS:
        if key == "referrals_rejected":
            rows.append(f"{label:<38}{report['rejected_referrals']:>13}")
            continue
        values = [report["programmes"][p][key] for p in PROGRAMMES]
        rows.append(f"{label:<38}" + "".join(f"{_cell(v):>13}" for v in values))
    section = ""
    for name, figure, value in section_rows(report):
        if name != section:
            section = name
            rows.append(f"\n{name.replace('_', ' ')}")
        rows.append(f"  {figure:<50} {value}")
    summary, lex = report["quality"]["summary"], report["quality"]["lex_sarah"]
    rows.append("")
    rows.append(
        f"lex Sarah summary {report['year']}: {counted(lex['reports'], 'lex Sarah report')}, "
        f"{counted(lex['reports_to_ivo'], 'report')} to IVO; {summary['status']} "
        f"(due {summary['due']})"
    )
    steering = report["steering_group"]
    rows.append(("WARNING: " if steering["warning"] else "") + steering["message"])
    return "\n".join(rows) + "\n"


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
