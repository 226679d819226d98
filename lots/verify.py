"""``lots audit verify``: every store's hash chain, and the stores reconciled with each other.

The stores are opened without their services' start-up work (:func:`lots.stores.open_reader`):
verifying changes nothing, and a damaged store is reported, not met with a traceback.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from infra.application import ServiceApplication
from infra.integrity import verify
from infra.money import kronor
from infra.settings import SERVICES, ServiceName, Settings
from infra.words import counted
from lots.reconcile import reconcile
from lots.stores import open_reader


def verify_stores(settings: Settings) -> dict[str, Any]:
    """The report: ``intact`` (chains), ``reconciled`` (stores against each other), details."""
    apps: dict[ServiceName, ServiceApplication] = {}
    try:
        for service in SERVICES:
            apps[service] = open_reader(settings, service)
        chains = {s: verify(apps[s].store) for s in SERVICES}
        found = reconcile(apps)
    finally:
        for app in apps.values():
            app.close()
    return {
        "intact": all(v.intact for v in chains.values()),
        "stores": {
            s: {"events": v.events, "broken_at": v.broken_at, "problem": v.problem}
            for s, v in chains.items()
        },
        "reconciled": found.reconciled,
        "reconciliation": {
            "sessions_checked": found.sessions,
            "cases_checked": found.cases,
            "unmatched": [asdict(u) | {"problem": u.problem} for u in found.unmatched],
        },
    }


def render(report: dict[str, Any]) -> list[str]:
    lines = []
    for service, store in report["stores"].items():
        if store["broken_at"] is None:
            lines.append(f"{service}: intact ({counted(store['events'], 'event')})")
        else:
            lines.append(
                f"{service}: BROKEN at event {store['broken_at']}: {store['problem']} "
                f"({counted(store['events'], 'event')} before it verified)"
            )
    checked = report["reconciliation"]
    lines.append(
        f"reconciliation: {counted(checked['sessions_checked'], 'session')} of held meetings in "
        f"billing against scheduling, {counted(checked['cases_checked'], 'scheduled case')} "
        "against intake"
    )
    for u in checked["unmatched"]:
        what = f"{u['event']} {u['aggregate'] or '(id unreadable)'}"
        if u["meeting_id"] is not None:
            what += f" (meeting {u['meeting_id']}, case {u['case_id']}, {_billed(u)})"
        lines.append(f"UNMATCHED: {u['store']} event {u['position']}, {what}: {u['problem']}")
    if report["reconciled"]:
        lines.append("reconciled: every session's meeting was held, every case was referred")
    else:
        lines.append(f"NOT RECONCILED: {counted(len(checked['unmatched']), 'event')} above")
    return lines


def _billed(unmatched: dict[str, Any]) -> str:
    if not unmatched["billed"]:
        return "not billed"
    if unmatched["amount_ore"] is None:
        return "billed"
    return f"billed {kronor(unmatched['amount_ore'])}"
