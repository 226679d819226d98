"""Field work's yearly figures (seed 004) for ``lots report year``, from the public events.

The seed follows field work by the young people met and talked with (the field app's two
counts); with them: night walks, the polare enrolled for the school year that starts in the
year (1 July; replacements for drop-outs included) and those of them who left it, the polare
who walked, their walk shifts and fees (the provider's cost, inside its budget; counted from
intake's attestations, so a ref the register does not know is not a polar), and area
deployments started in the year with their weeks including extensions.
A walk belongs to the year of its date, a deployment to the year of its first day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from infra.schoolyear import FIRST_MONTH, school_year_of

COLUMNS = (
    ("night_walks", "night walks"),
    ("youths_met", "young people met"),
    ("youths_talked_with", "young people talked with"),
    ("polare_enrolled", "polare enrolled (school year from 1 July)"),
    ("polare_left", "polare who left (school year from 1 July)"),
    ("polare_walked", "polare who walked"),
    ("polare_walks", "polare walk shifts"),
    ("polare_fees_sek", "polare fees (SEK, provider's cost)"),
    ("area_deployments", "area deployments started"),
    ("deployment_weeks", "area deployment weeks"),
)


def field_figures(events: Iterable[dict[str, Any]], year: int) -> dict[str, Any]:
    """The year's field-work figures from decoded export lines."""
    school_year = school_year_of(date(year, FIRST_MONTH, 1))
    walks = met = talked = shifts = fees_ore = 0
    enrolled: set[str] = set()
    left: set[str] = set()
    walked: set[str] = set()
    deployments: dict[str, int] = {}
    extensions: list[tuple[str, int]] = []
    seen: set[str] = set()
    for event in events:
        if event["id"] in seen:
            continue
        seen.add(event["id"])
        data, kind = event["data"], event["type"]
        if kind == "NightWalkReported" and date.fromisoformat(data["walked_on"]).year == year:
            walks += 1
            met += int(data["youths_met"])
            talked += int(data["youths_talked_with"])
        elif kind == "PolareWalkAttested" and date.fromisoformat(data["walked_on"]).year == year:
            shifts += len(data["attested"])
            walked.update(a["polar_ref"] for a in data["attested"])
        elif kind == "PolarEnrolled" and data["school_year"] == school_year:
            enrolled.add(data["polar_ref"])
        elif kind == "PolarLeft" and data["school_year"] == school_year:
            left.add(data["polar_ref"])
        elif kind == "PolareFeesLogged" and date.fromisoformat(data["walked_on"]).year == year:
            fees_ore += int(data["total_ore"])
        elif kind == "AreaDeploymentStarted":
            if date.fromisoformat(data["first_day"]).year == year:
                deployments[data["deployment_id"]] = int(data["weeks"])
        elif kind == "AreaDeploymentExtended":
            extensions.append((data["deployment_id"], int(data["weeks_added"])))
    weeks = sum(deployments.values()) + sum(w for d, w in extensions if d in deployments)
    return {
        "night_walks": walks,
        "youths_met": met,
        "youths_talked_with": talked,
        "polare_enrolled": len(enrolled),
        "polare_left": len(left),
        "polare_walked": len(walked),
        "polare_walks": shifts,
        "polare_fees_sek": str((Decimal(fees_ore) / 100).quantize(Decimal("0.01"))),
        "area_deployments": len(deployments),
        "deployment_weeks": weeks,
    }
