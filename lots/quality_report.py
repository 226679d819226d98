"""The yearly report's follow-up sections, from the public events like the rest of the report.

* **quality**: the lex Sarah summary of seed 003 §4.2 (lex Sarah reports and reports to IVO,
  each report's handling on 31 December; :mod:`services.intake.quality_summary`) and, beside
  it and labelled "not lex Sarah", complaints and views, incidents (§4.3) and IVO supervision
  (§4.4); the summary due by 31 March of the next year.
* **coordinated follow-up** (seed 002): KASAM, SIPs, occupation and economy at the start
  against the latest follow-up, goals, phase-outs (:mod:`lots.follow_up_report`).
* **throughput**: days from receipt to closure of the cases closed in the year, per programme.
* **volumes**: the year's families (cases for counselling) against the contracts' expectations.
* **steering group**: meetings held (counted only with social services, education and the
  provider present), planned, and the warning rule of
  :func:`services.scheduling.steering_rule.outlook`, within the contract term scheduling is set to
  (``LOTS_SCHEDULING_STEERING_TERM_FROM``/``_TO``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from events.types import PROGRAMMES
from infra.calendar import local_date
from lots import report_labels as labels
from lots.follow_up_report import day_of, follow_up, mean
from services.intake.quality import summary_due
from services.intake.quality_summary import (
    Entry,
    Step,
    describe,
    describe_report_to_ivo,
    year_summary,
)
from services.scheduling.settings import SchedulingSettings
from services.scheduling.steering_rule import MINIMUM_PER_YEAR, Planned, outlook

#: What the contracts expect a year: families in coordinated support (002), families in
#: network work (002), couples/cases in counselling (003 §1.2).
EXPECTED = {"coordinated": 30, "network": 150, "counselling": 300}


def sections(
    events: list[dict[str, Any]],
    year: int,
    programmes: dict[str, dict[str, Any]],
    today: date | None = None,
) -> dict[str, Any]:
    """The follow-up sections of ``year``; ``today`` (Stockholm) judges what is due or short,
    and is the day after the year when not given (the year's final verdict)."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen: set[str] = set()
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            by_type[event["type"]].append(event["data"])
    return {
        "quality": _quality(by_type, year, today),
        "coordinated_follow_up": follow_up(by_type, year),
        "throughput": _throughput(by_type, year),
        "volumes": _volumes(programmes),
        "steering_group": _steering(by_type, year, today),
    }


def _quality(by_type: dict[str, list[dict[str, Any]]], year: int, today: date | None) -> Any:
    steps: dict[str, list[Step]] = defaultdict(list)
    for step in sorted(by_type["QualityEventHandled"], key=lambda s: s["at"]):
        steps[step["record_id"]].append(
            Step(step["step"], step["state"], day_of(step["at"]), step["social_worker_copy"])
        )
    entries = [
        Entry(
            record_id=d["record_id"],
            register=d["kind"],
            received_on=day_of(d["recorded_at"]),
            occurred_on=date.fromisoformat(d["occurred_on"]),
            programme=d["programme"],
            category=d["category"],
            channel=d["channel"],
            concerns_administration=d["concerns_administration"],
            steps=tuple(steps[d["record_id"]]),
        )
        for d in by_type["QualityEventRecorded"]
    ]
    registers = year_summary(entries, year)
    end = date(year, 12, 31)
    due = summary_due(year)
    submitted = next((d for d in by_type["QualitySummarySubmitted"] if d["year"] == year), None)
    if submitted is not None:
        status = "submitted" if day_of(submitted["submitted_at"]) <= due else "submitted_late"
    elif today is None:
        status = "not_submitted"
    elif today <= end:
        status = "year_running"
    else:
        status = "due" if today <= due else "overdue"
    registers["summary"] = {
        "label": "the lex Sarah summary to the administration (003 §4.2)",
        "due": due.isoformat(),
        "submitted_at": submitted["submitted_at"] if submitted else None,
        "status": status,
    }
    return registers


def _throughput(by_type: dict[str, list[dict[str, Any]]], year: int) -> dict[str, Any]:
    received = {
        d["case_id"]: (d["programme"], datetime.fromisoformat(d["received_at"]))
        for d in by_type["ReferralReceived"]
    }
    days: dict[str, list[int]] = defaultdict(list)
    for d in by_type["CaseClosed"]:
        closed_at = datetime.fromisoformat(d["closed_at"])
        if d["case_id"] in received and local_date(closed_at).year == year:
            programme, at = received[d["case_id"]]
            days[programme].append((closed_at - at).days)  # as Case.throughput_days
    return {
        p: {
            "closed": len(days[p]),
            "median_days": statistics.median(days[p]) if days[p] else None,
            "mean_days": mean(days[p]),
            "max_days": max(days[p]) if days[p] else None,
        }
        for p in PROGRAMMES
    }


def _volumes(programmes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for programme, expected in EXPECTED.items():
        figures = programmes[programme]
        actual = figures["cases_opened" if programme == "counselling" else "families"]
        out[programme] = {
            "unit": "cases" if programme == "counselling" else "families",
            "expected": expected,
            "actual": actual,
            "percent": int((Decimal(100 * actual) / expected).quantize(Decimal(1), ROUND_HALF_UP)),
        }
    return out


def _steering(
    by_type: dict[str, list[dict[str, Any]]], year: int, today: date | None
) -> dict[str, Any]:
    day: dict[str, date] = {}
    status: dict[str, str] = {}
    present: dict[str, frozenset[str]] = {}
    for d in by_type["SteeringMeetingPlanned"]:
        day[d["meeting_id"]] = day_of(d["starts_at"])
        status[d["meeting_id"]] = "planned"
    for d in by_type["SteeringMeetingCancelled"]:
        status[d["meeting_id"]] = "cancelled"
    for d in by_type["SteeringMeetingHeld"]:
        day[d["meeting_id"]] = day_of(d["started_at"])
        status[d["meeting_id"]] = "held"
        present[d["meeting_id"]] = frozenset(d["organisations"])
    meetings = [
        Planned(day[m], status[m], present.get(m, frozenset()))  # type: ignore[arg-type]
        for m in day
    ]
    judged_on = today or date(year + 1, 1, 1)
    # The term is scheduling's setting, so the report judges as the service does.
    term = SchedulingSettings().steering_term()
    seen = outlook(year, judged_on, meetings, term=term)
    return {
        "minimum": MINIMUM_PER_YEAR,
        "required": seen.required,
        "held": seen.held,
        "held_without_all_three": seen.incomplete,
        "planned": seen.planned,
        "cancelled": sum(1 for m in meetings if m.day.year == year and m.status == "cancelled"),
        "unrecorded": seen.unrecorded,
        "missing": seen.missing,
        "level": seen.level,
        "warning": seen.warning,
        "message": seen.message(),
        "judged_on": judged_on.isoformat(),
    }


def rows(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The sections as (section, figure, value) rows, for text, CSV and HTML alike. The quality
    registers are one section each, named by their label (the lex Sarah summary, and beside
    it, labelled "not lex Sarah", the others); each listed report is a sentence; sections and
    figures are named in words (:mod:`lots.report_labels`)."""
    out: list[tuple[str, str, str]] = []

    def flat(section: str, prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                flat(section, f"{prefix}.{key}" if prefix else key, inner)
        elif isinstance(value, list):
            say = describe if prefix.endswith("reports_listed") else describe_report_to_ivo
            for n, item in enumerate(value, 1):
                out.append((section, f"{prefix}.{n}", say(item)))
        else:
            out.append((section, prefix, "" if value is None else str(value)))

    for figures in report["quality"].values():
        flat(figures["label"], "", {k: v for k, v in figures.items() if k != "label"})
    for section in ("coordinated_follow_up", "throughput", "volumes", "steering_group"):
        flat(section, "", report[section])
    return [(labels.section(s), labels.figure(f), v) for s, f, v in out]
