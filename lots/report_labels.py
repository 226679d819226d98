"""The yearly report's sections and figures in words, as the administration reads them.

The report's JSON keeps its keys (``reports_to_ivo``, ``kasam.mean_start``) for programs; text,
CSV and HTML show these labels instead. A key without a label here reads as its words
(``goals.followed_up`` → "goals followed up"), never as an identifier.
"""

from __future__ import annotations

from events.types import PROGRAMMES

SECTIONS: dict[str, str] = {
    "coordinated_follow_up": "follow-up of the families in coordinated support",
    "throughput": "throughput: days from referral to closure, per programme",
    "volumes": "volumes against the contracts' expected numbers, per programme",
    "steering_group": "the steering group's meetings (seed 002)",
}

FIGURES: dict[str, str] = {
    # the quality registers
    "reports": "lex Sarah reports",
    "reports_to_ivo": "reports to IVO made",
    "reports_to_ivo_of_earlier_years": "of them, about earlier years' reports",
    "copies_to_social_worker": "copies sent to the responsible social worker",
    "no_responsible_social_worker": "reports with no responsible social worker",
    "handling.received": "received, not investigated on 31 December",
    "handling.investigating": "under investigation on 31 December",
    "handling.reported_to_ivo": "reported to IVO, open on 31 December",
    "handling.closed_after_report_to_ivo": "reports closed after a report to IVO",
    "handling.closed_without_report_to_ivo": "reports closed without a report to IVO",
    "received": "received",
    "complaints": "complaints",
    "views": "views",
    "through_provider": "received through the provider",
    "through_administration": "received through the administration",
    "concerning_administration": "concerning the administration",
    "administration_informed": "the administration informed",
    "due": "due on",
    "submitted_at": "submitted at",
    "status": "status",
    # coordinated support's follow-up
    "families_followed": "families followed up",
    "kasam.pairs": "families with KASAM at start and at follow-up",
    "kasam.mean_start": "KASAM at start, mean",
    "kasam.mean_follow_up": "KASAM at follow-up, mean",
    "kasam.improved": "KASAM improved (families)",
    "kasam.unchanged": "KASAM unchanged (families)",
    "kasam.worsened": "KASAM worsened (families)",
    "sips.at_start": "SIPs at start",
    "sips.at_follow_up": "SIPs at follow-up",
    "families_ended": "families whose support ended",
    "occupation.parents_with_occupation_start": "parents with an occupation at start",
    "occupation.parents_with_occupation_end": "parents with an occupation at the end",
    "occupation.improved": "occupation improved (families)",
    "occupation.unchanged": "occupation unchanged (families)",
    "occupation.worsened": "occupation worsened (families)",
    "economy.improved": "economy improved (families)",
    "economy.unchanged": "economy unchanged (families)",
    "economy.worsened": "economy worsened (families)",
    "goals.set": "goals set",
    "phase_out.families_with_plan": "families with a phase-out plan",
    "phase_out.closed": "families whose case was closed",
    "phase_out.closed_with_plan": "closed with a phase-out plan",
    "phase_out.closed_phased_out": "closed as phased out",
    # throughput and volumes, per programme
    "closed": "cases closed",
    "median_days": "days from referral to closure, median",
    "mean_days": "days from referral to closure, mean",
    "max_days": "days from referral to closure, longest",
    "unit": "counted in",
    "expected": "expected in the year",
    "actual": "in the year",
    "percent": "of the expected (%)",
    # the steering group
    "minimum": "meetings a year at least",
    "required": "meetings required this year",
    "held": "meetings held",
    "held_without_all_three": "held without social services, education and the provider",
    "planned": "meetings planned",
    "cancelled": "meetings cancelled",
    "unrecorded": "meetings past but not recorded",
    "missing": "meetings still needed",
    "level": "standing",
    "warning": "warning",
    "message": "in words",
    "judged_on": "judged on",
}

LISTED = {"reports_listed": "lex Sarah report", "reports_to_ivo_listed": "report to IVO"}


def section(key: str) -> str:
    """A section in words (the quality registers' sections are already labelled)."""
    return SECTIONS.get(key, key.replace("_", " "))


def figure(key: str) -> str:
    """A figure's dotted key in words: ``network.median_days`` → "network: days from …"."""
    head, _, rest = key.partition(".")
    if head in PROGRAMMES and rest:
        return f"{head}: {figure(rest)}"
    if head in LISTED and rest.isdigit():
        return f"{LISTED[head]} {rest}"
    if key in FIGURES:
        return FIGURES[key]
    return key.replace(".", " ").replace("_", " ")
