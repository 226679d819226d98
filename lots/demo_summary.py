"""What ``lots demo`` reports when the month is lived through: the summary (``--json``) and
its lines for a person, ending with the commands that read the demo's stores."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any
from uuid import UUID

from infra.money import kronor
from infra.topology import INTAKE_EVENTS, REFERRALS


def print_summary(summary: dict[str, Any], settlement: dict[str, Any], echo: Any) -> None:
    answered = summary["answered"]
    echo(
        f"answered on {INTAKE_EVENTS}: "
        + ", ".join(f"{n} {t}" for t, n in sorted(answered.items()))
    )
    if summary["rejection_reasons"]:
        echo(
            "referrals rejected, by reason: "
            + ", ".join(f"{c} {n}" for c, n in sorted(summary["rejection_reasons"].items()))
        )
    for letter in summary["dead_letters"]:
        echo(f"dead letter on {REFERRALS}.dead: {letter['error']}")
    echo(
        f"acknowledged {summary['acknowledged']}; first contacts booked "
        f"{summary['first_contacts_booked']}"
        + (f" (not booked: {summary['not_booked']})" if summary["not_booked"] else "")
        + f"; second conversations {summary['second_conversations']}"
    )
    echo(
        f"meetings held {summary['meetings_held']} ({summary['meetings_started_late']} started "
        f"late, after a longer meeting of the same staff), cancelled "
        f"{summary['meetings_cancelled']}"
    )
    lines = settlement.get("lines", [])
    for line in lines:
        echo(f"  {line['programme']:<22} {line['kind']:<10} {kronor(line['amount_ore']):>16}")
    echo(
        f"settlement {summary['month']}: total {kronor(settlement.get('total_ore', 0))}, "
        f"counselling hours {settlement.get('billable_hours')}, "
        f"fees {kronor(settlement.get('fees_ore', 0))}, net {kronor(settlement.get('net_ore', 0))}"
    )
    echo(f"digest {settlement.get('digest')}")
    echo(
        f"replayed from billing's log: {'same' if summary['replay_matches'] else 'DIFFERENT'}; "
        f"recomputed offline from {summary['export']}: "
        f"{'same digest' if summary['offline_digest_matches'] else 'DIFFERENT'}"
    )
    echo(
        "service levels: "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary["service_levels"].items()))
    )
    work = summary["field_work"]
    if work:
        echo(
            f"field work: {work['polare']} polare, {work['night_walks']} night walks, "
            f"{work['youths_met']} young people met, {work['youths_talked_with']} talked with, "
            f"polare fees {kronor(work['polare_fees_ore'])} (the provider's cost), "
            f"{work['area_deployments']} area deployment"
        )
    for service, tally in summary["stored_events"].items():
        echo(f"{service} store: {sum(tally.values())} events")
    echo(f"done in {summary['seconds']} s")
    echo(
        "Inspect the demo's stores (its services and Redis have stopped, so `lots status` "
        "says they are down and shows what the stores hold):"
    )
    for command in summary["inspect"]:
        echo(f"  {command}")


def inspect_commands(demo_dir: Path, prefix: str, case_id: UUID | None) -> list[str]:
    """The commands that read the demo's stores: the demo's var directory and stream prefix
    given as the settings they are (``LOTS_VAR_DIR``, ``LOTS_STREAM_PREFIX``)."""
    where = f"LOTS_VAR_DIR={shlex.quote(str(demo_dir))}"
    commands = [
        f"{where} LOTS_STREAM_PREFIX={shlex.quote(prefix)} lots status",
        f"{where} lots audit verify",
    ]
    if case_id is not None:
        commands.append(f"{where} lots audit case {case_id} --reason 'looking at the demo'")
    return commands
