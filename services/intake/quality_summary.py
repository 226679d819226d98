"""The yearly Lex Sarah summary of seed 003 §4.2, and beside it the other registers, labelled.

The seed: "En sammanställning över samtliga lex Sarah-rapporter och -anmälningar med redogörelse
för hur dessa har hanterats avseende föregående kalenderår ska lämnas till Social- och
omsorgsförvaltningen senast den 31 mars varje år". So the summary counts two things and
accounts for each: the **Lex Sarah reports** (rapporter, from staff) and the **reports to IVO**
(anmälningar). Complaints and views and incidents (§4.3) and IVO supervision (§4.4) are no part
of it: they are given beside it, each labelled as what it is, never added into its counts.

Where the seed is silent, these are the choices (docs/quality.md):

* a report belongs to the calendar year it was received (recorded), Stockholm time;
* a report to IVO belongs to the year it was made (the step's date), so a report received in
  December and reported to IVO in January is a report of the one year and a report to IVO of
  the next, each counted exactly once; reports to IVO of earlier years' reports are counted
  apart as well;
* the account of handling is as it stood on 31 December: the summary is the same whenever it
  is computed after the year, from intake's store or from the exported events.

Pure: no clock, no store. Intake (:mod:`services.intake.registers`) and the yearly report
(:mod:`lots.quality_report`) both call :func:`year_summary`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.intake.quality import INITIAL

#: How a Lex Sarah report of the year stood on 31 December.
HANDLING = (
    "received",
    "investigating",
    "reported_to_ivo",
    "closed_after_report_to_ivo",
    "closed_without_report_to_ivo",
)
LABELS = {
    "lex_sarah": "lex Sarah summary: reports and reports to IVO (003 §4.2)",
    "complaints_and_views": "complaints and views (003 §4.3): not lex Sarah",
    "incidents": "incidents, tillbud (003 §4.3): not lex Sarah",
    "ivo_supervision": "IVO supervision (003 §4.4): not lex Sarah",
}


@dataclass(frozen=True)
class Step:
    """One step of an entry's handling, on its Stockholm date."""

    step: str
    state: str
    on: date
    social_worker_copy: str | None = None


@dataclass(frozen=True)
class Entry:
    """One register entry with its steps in the order they were taken."""

    record_id: str
    register: str
    received_on: date
    occurred_on: date | None = None
    programme: str | None = None
    category: str | None = None
    channel: str | None = None
    concerns_administration: bool = False
    steps: tuple[Step, ...] = ()

    def steps_until(self, day: date) -> list[Step]:
        return [s for s in self.steps if s.on <= day]

    def state_on(self, day: date) -> str:
        state = INITIAL[self.register]
        for step in self.steps_until(day):
            state = step.state
        return state

    def did(self, step: str, day: date) -> bool:
        return any(s.step == step for s in self.steps_until(day))


def handling(entry: Entry, day: date) -> str:
    """Where a Lex Sarah report stood on ``day``, one of :data:`HANDLING`."""
    state = entry.state_on(day)
    if state != "closed":
        return state
    reported = entry.did("report_to_ivo", day)
    return "closed_after_report_to_ivo" if reported else "closed_without_report_to_ivo"


def year_summary(entries: Iterable[Entry], year: int) -> dict[str, Any]:
    """The Lex Sarah summary of ``year`` and, apart and labelled, the other registers."""
    every = list(entries)
    end = date(year, 12, 31)
    of_year = sorted(
        (e for e in every if e.received_on.year == year),
        key=lambda e: (e.received_on, e.record_id),
    )
    by_register: dict[str, list[Entry]] = {r: [] for r in INITIAL}
    for entry in of_year:
        by_register[entry.register].append(entry)
    return {
        "lex_sarah": _lex_sarah(every, by_register["lex_sarah"], year),
        "complaints_and_views": _complaints(by_register["complaint"], end),
        "incidents": {
            "label": LABELS["incidents"],
            "received": len(by_register["incident"]),
            "states": _states(by_register["incident"], end),
        },
        "ivo_supervision": {
            "label": LABELS["ivo_supervision"],
            "received": len(by_register["supervision"]),
            "states": _states(by_register["supervision"], end),
            "administration_informed": sum(
                e.did("inform_administration", end) for e in by_register["supervision"]
            ),
        },
    }


def _lex_sarah(every: list[Entry], reports: list[Entry], year: int) -> dict[str, Any]:
    end = date(year, 12, 31)
    to_ivo = sorted(
        (
            (entry, step)
            for entry in every
            if entry.register == "lex_sarah"
            for step in entry.steps
            if step.step == "report_to_ivo" and step.on.year == year
        ),
        key=lambda pair: (pair[1].on, pair[0].record_id),
    )
    copies = Counter(step.social_worker_copy for _, step in to_ivo)
    counted = Counter(handling(e, end) for e in reports)
    return {
        "label": LABELS["lex_sarah"],
        "reports": len(reports),
        "reports_to_ivo": len(to_ivo),
        "reports_to_ivo_of_earlier_years": sum(e.received_on.year < year for e, _ in to_ivo),
        "copies_to_social_worker": copies["sent"],
        "no_responsible_social_worker": copies["no_responsible_social_worker"],
        "handling": {h: counted[h] for h in HANDLING},
        "reports_listed": [
            {
                "record_id": e.record_id,
                "received_on": e.received_on.isoformat(),
                "occurred_on": e.occurred_on.isoformat() if e.occurred_on else None,
                "programme": e.programme,
                "steps": [_step(s) for s in e.steps_until(end)],
                "handling": handling(e, end),
            }
            for e in reports
        ],
        "reports_to_ivo_listed": [
            {
                "record_id": e.record_id,
                "reported_on": s.on.isoformat(),
                "report_received_on": e.received_on.isoformat(),
                "social_worker_copy": s.social_worker_copy,
            }
            for e, s in to_ivo
        ],
    }


def _complaints(entries: list[Entry], end: date) -> dict[str, Any]:
    return {
        "label": LABELS["complaints_and_views"],
        "received": len(entries),
        "states": _states(entries, end),
        "complaints": sum(e.category == "complaint" for e in entries),
        "views": sum(e.category == "view" for e in entries),
        "through_provider": sum(e.channel == "provider" for e in entries),
        "through_administration": sum(e.channel == "administration" for e in entries),
        "concerning_administration": sum(e.concerns_administration for e in entries),
        "administration_informed": sum(e.did("inform_administration", end) for e in entries),
    }


def _states(entries: list[Entry], end: date) -> dict[str, int]:
    return dict(sorted(Counter(e.state_on(end) for e in entries).items()))


def _step(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"step": step.step, "on": step.on.isoformat()}
    if step.social_worker_copy is not None:
        out["social_worker_copy"] = step.social_worker_copy
    return out


#: Codes as a person reads them.
WORDS = {
    "investigate": "investigated",
    "report_to_ivo": "reported to IVO",
    "close": "closed",
    "answer": "answered",
    "inform_administration": "administration informed",
    "conclude": "concluded",
    "reported_to_ivo": "reported to IVO, awaiting IVO",
    "closed_after_report_to_ivo": "closed after a report to IVO",
    "closed_without_report_to_ivo": "closed without a report to IVO",
    "no_responsible_social_worker": "no responsible social worker",
}


def words(code: str) -> str:
    return WORDS.get(code, code.replace("_", " "))


def describe(report: dict[str, Any]) -> str:
    """One listed Lex Sarah report as a sentence: how it was handled (the seed's redogörelse)."""
    steps = ", ".join(_said(s) for s in report["steps"])
    where = f", {report['programme']}" if report["programme"] else ""
    occurred = f", occurred {report['occurred_on']}" if report["occurred_on"] else ""
    return (
        f"report {report['record_id']} received {report['received_on']}{occurred}{where}: "
        f"{steps or 'no step taken'}; on 31 December {words(report['handling'])}"
    )


def _said(step: dict[str, Any]) -> str:
    copy = step.get("social_worker_copy")
    return f"{words(step['step'])} {step['on']}" + (
        f" (copy to the social worker: {words(copy)})" if copy else ""
    )


def describe_report_to_ivo(made: dict[str, Any]) -> str:
    return (
        f"report {made['record_id']} (received {made['report_received_on']}) reported to IVO "
        f"{made['reported_on']}, copy to the social worker: {words(made['social_worker_copy'])}"
    )
