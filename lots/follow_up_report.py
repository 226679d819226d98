"""The yearly report's follow-up of coordinated support (seed 002), from the public events.

Families assessed in the year; KASAM at the start against the latest follow-up (pairs, means,
improved/unchanged/worsened); SIPs at the start and at the latest follow-up; for families whose
end was assessed in the year, parents with an occupation and the economic situation at the
start and the end, and how many improved; goals set in the year and where they stood on
31 December; closures with a planned phase-out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from infra.calendar import local_date
from services.intake.followup import ECONOMY

ByType = dict[str, list[dict[str, Any]]]
CHANGES = ("improved", "unchanged", "worsened")


def day_of(text: str) -> date:
    """The Stockholm day of an ISO 8601 time stamp."""
    return local_date(datetime.fromisoformat(text))


def mean(values: list[int]) -> str | None:
    """The mean to one decimal (half up), as a string; none of nothing."""
    if not values:
        return None
    average = Decimal(sum(values)) / len(values)
    return str(average.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _change(before: int, after: int) -> str:
    return "improved" if after > before else "worsened" if after < before else "unchanged"


@dataclass
class _Comparison:
    """Each followed family's start against its latest follow-up, summed."""

    kasam_start: list[int] = field(default_factory=list)
    kasam_latest: list[int] = field(default_factory=list)
    kasam_change: Counter[str] = field(default_factory=Counter)
    sips_start: int = 0
    sips_latest: int = 0
    ended: int = 0
    occupation_start: int = 0
    occupation_end: int = 0
    occupation_change: Counter[str] = field(default_factory=Counter)
    economy_change: Counter[str] = field(default_factory=Counter)

    def add(self, start: dict[str, Any], latest: dict[str, Any], year: int) -> None:
        self.kasam_start.append(start["kasam"])
        self.kasam_latest.append(latest["kasam"])
        self.kasam_change[_change(start["kasam"], latest["kasam"])] += 1
        self.sips_start += start["sips"]
        self.sips_latest += latest["sips"]
        if latest["stage"] == "end" and date.fromisoformat(latest["assessed_on"]).year == year:
            self.ended += 1
            before, after = start["parents_with_occupation"], latest["parents_with_occupation"]
            self.occupation_start += before
            self.occupation_end += after
            self.occupation_change[_change(before, after)] += 1
            self.economy_change[
                _change(ECONOMY.index(start["economy"]), ECONOMY.index(latest["economy"]))
            ] += 1

    def figures(self) -> dict[str, Any]:
        return {
            "kasam": {
                "pairs": len(self.kasam_start),
                "mean_start": mean(self.kasam_start),
                "mean_follow_up": mean(self.kasam_latest),
                **{c: self.kasam_change[c] for c in CHANGES},
            },
            "sips": {"at_start": self.sips_start, "at_follow_up": self.sips_latest},
            "families_ended": self.ended,
            "occupation": {
                "parents_with_occupation_start": self.occupation_start,
                "parents_with_occupation_end": self.occupation_end,
                **{c: self.occupation_change[c] for c in CHANGES},
            },
            "economy": {c: self.economy_change[c] for c in CHANGES},
        }


def follow_up(by_type: ByType, year: int) -> dict[str, Any]:
    """The coordinated follow-up section of ``year``."""
    assessments = _assessments(by_type, year)
    followed = {
        case
        for case, rows in assessments.items()
        if any(date.fromisoformat(r["assessed_on"]).year == year for r in rows)
    }
    comparison = _Comparison()
    for case in sorted(followed):
        rows = sorted(assessments[case], key=lambda r: r["assessed_on"])
        start = next((r for r in rows if r["stage"] == "start"), None)
        later = [r for r in rows if r["stage"] != "start"]
        if start is not None and later:
            comparison.add(start, later[-1], year)
    return {
        "families_followed": len(followed),
        **comparison.figures(),
        "goals": _goals(by_type, year),
        "phase_out": _phase_out(by_type, year),
    }


def _assessments(by_type: ByType, year: int) -> dict[str, list[dict[str, Any]]]:
    """Each case's assessments made by the end of ``year``."""
    end = date(year, 12, 31)
    assessments: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in by_type["FamilyAssessed"]:
        if date.fromisoformat(d["assessed_on"]) <= end:
            assessments[d["case_id"]].append(d)
    return assessments


def _goals(by_type: ByType, year: int) -> dict[str, Any]:
    """The goals set in ``year``, by area and by where they stood on 31 December."""
    end = date(year, 12, 31)
    goals = {
        d["goal_id"]: d
        for d in by_type["FamilyGoalSet"]
        if date.fromisoformat(d["set_on"]).year == year
    }
    status = {goal_id: "not_started" for goal_id in goals}
    for d in sorted(by_type["FamilyGoalFollowedUp"], key=lambda d: d["followed_up_on"]):
        if d["goal_id"] in goals and date.fromisoformat(d["followed_up_on"]) <= end:
            status[d["goal_id"]] = d["status"]
    return {
        "set": len(goals),
        "by_area": dict(sorted(Counter(d["area"] for d in goals.values()).items())),
        "by_status": dict(sorted(Counter(status.values()).items())),
    }


def _phase_out(by_type: ByType, year: int) -> dict[str, Any]:
    """Coordinated cases closed in ``year``, and those with a planned phase-out."""
    planned = {d["case_id"] for d in by_type["PhaseOutPlanned"]}
    coordinated = {
        d["case_id"] for d in by_type["ReferralReceived"] if d["programme"] == "coordinated"
    }
    closed = [
        d
        for d in by_type["CaseClosed"]
        if day_of(d["closed_at"]).year == year and d["case_id"] in coordinated
    ]
    return {
        "families_with_plan": len(planned),
        "closed": len(closed),
        "closed_with_plan": sum(1 for d in closed if d["case_id"] in planned),
        "closed_phased_out": sum(1 for d in closed if d["outcome"] == "phased_out"),
    }
