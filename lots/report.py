"""``lots report year``: the yearly activity summary for the administration (due 31 March).

Computed from the public events only (the same lines as ``lots export``), so it reads the same
from a live system and from an export, and depends on no service's internals. Per programme:
referrals received and rejected, cases opened and closed, families (distinct households),
meetings held, meeting hours, first-contact wait (median and share within 14 days), SIP
meetings, client fees, billed client hours, the yearly cap in force and the share of it used
(counselling: the cap recorded in the tariffs, 2,590 hours from 2022 unless a later entry says
otherwise, plus the year's call-offs, as :func:`~services.billing.offline.cap_limit` reads them);
for field work also the figures of :mod:`lots.field_report` (young people met and talked with,
night walks, polare, their fees, area deployments). Printed as text, CSV or HTML by
:mod:`lots.report_formats`.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from events.billing import CallOffRecorded, TariffRecorded
from events.types import PROGRAMMES
from infra.calendar import local_date
from lots import field_report
from lots.quality_report import sections
from services.billing.offline import cap_limit
from services.billing.pricing import LEANLINK, bills_for_leanlink
from services.billing.tariff_seeds import default_catalogue


@dataclass
class _Programme:
    received: int = 0
    rejected: int = 0
    opened: int = 0
    closed: int = 0
    households: set[frozenset[str]] = field(default_factory=set)
    meetings: int = 0
    meeting_minutes: int = 0
    waits: list[int] = field(default_factory=list)
    sips: int = 0
    client_hours: Decimal = Decimal(0)
    fees_ore: int = 0


def yearly(lines: Iterable[str], year: int, today: date | None = None) -> dict[str, Any]:
    """The year's figures per programme from export lines (JSON, one event each), with the
    follow-up sections of :mod:`lots.quality_report` (``today`` judges what is due or short)."""
    events = [json.loads(line) for line in lines if line.strip()]
    cases = _cases(events)
    rows, first_contact = _counted(events, year, cases)
    _billed(events, year, rows)
    _waits(cases, first_contact, year, rows)
    field = field_report.field_figures(events, year)
    cap = _cap_in_force(events, year)
    programmes: dict[str, dict[str, Any]] = {
        p: _figures(p, rows[p], cap) | (field if p == "field" else dict.fromkeys(field))
        for p in PROGRAMMES
    }
    return {
        "year": year,
        "programmes": programmes,
        "rejected_referrals": rows["unknown"].rejected,
        **sections(events, year, programmes, today),
    }


def _cases(events: list[dict[str, Any]]) -> dict[str, tuple[str, datetime]]:
    """Each case's programme and when its referral was received: read before anything else,
    since a meeting may be listed before its referral."""
    cases: dict[str, tuple[str, datetime]] = {}
    for event in events:
        if event["type"] == "ReferralReceived":
            data = event["data"]
            cases[data["case_id"]] = (
                data["programme"],
                datetime.fromisoformat(data["received_at"]),
            )
    return cases


def _counted(
    events: list[dict[str, Any]], year: int, cases: dict[str, tuple[str, datetime]]
) -> tuple[dict[str, _Programme], dict[str, datetime]]:
    """The year's referrals, cases and meetings per programme, and each case's first meeting
    (of any year), each event counted once."""
    first_contact: dict[str, datetime] = {}
    seen: set[str] = set()
    rows: dict[str, _Programme] = defaultdict(_Programme)
    for event in events:
        # An answer sent again to a referral re-sent (``repeat_of``) is no new referral.
        if event["id"] in seen or event["data"].get("repeat_of"):
            continue
        seen.add(event["id"])
        data, kind = event["data"], event["type"]
        if kind == "ReferralReceived":
            programme, received = cases[data["case_id"]]
            if local_date(received).year == year:
                row = rows[programme]
                row.received += 1
                row.opened += 1
                row.households.add(frozenset(m["person_ref"] for m in data["household"]))
        elif kind == "ReferralRejected":
            if local_date(datetime.fromisoformat(data["received_at"])).year == year:
                rows["unknown"].rejected += 1
        elif kind == "CaseClosed" and data["case_id"] in cases:
            if local_date(datetime.fromisoformat(data["closed_at"])).year == year:
                rows[cases[data["case_id"]][0]].closed += 1
        elif kind == "MeetingHeld":
            _meeting(data, year, rows, first_contact)
    return rows, first_contact


def _meeting(
    data: dict[str, Any],
    year: int,
    rows: dict[str, _Programme],
    first_contact: dict[str, datetime],
) -> None:
    """A held meeting: its case's first contact if earlier, and counted in the year's."""
    started = datetime.fromisoformat(data["started_at"])
    ended = datetime.fromisoformat(data["ended_at"])
    case_id = data["case_id"]
    if case_id not in first_contact or started < first_contact[case_id]:
        first_contact[case_id] = started
    if local_date(started).year == year:
        row = rows[data["programme"]]
        row.meetings += 1
        row.meeting_minutes += int((ended - started).total_seconds() // 60)
        row.sips += data["kind"] == "sip_meeting"


def _waits(
    cases: dict[str, tuple[str, datetime]],
    first_contact: dict[str, datetime],
    year: int,
    rows: dict[str, _Programme],
) -> None:
    """Days from receipt to first contact of the cases received in the year."""
    for case_id, (programme, received) in cases.items():
        if local_date(received).year == year and case_id in first_contact:
            wait = (local_date(first_contact[case_id]) - local_date(received)).days
            rows[programme].waits.append(wait)


def _billed(events: list[dict[str, Any]], year: int, rows: dict[str, _Programme]) -> None:
    """Leanlink's client hours and fees of the year's sessions, each as billing bills it now:
    as logged, or as its last ``SessionRecut`` re-booked it (it gave way at the cap to a session
    performed before it). Another provider's time is never Leanlink's (003 §1.2)."""
    sessions: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["type"] in ("SessionLogged", "SessionRecut"):
            sessions[str(event["data"].get("session_id") or event["id"])] = event["data"]
    for data in sessions.values():
        if int(data["settlement_month"][:4]) != year:
            continue
        if not bills_for_leanlink(data.get("provider", LEANLINK)):
            continue
        row = rows[data["programme"]]
        row.client_hours += Decimal(data["client_hours"])
        row.fees_ore += int(data["fee_ore"])


def _cap_in_force(events: list[dict[str, Any]], year: int) -> Decimal | None:
    """Counselling's yearly cap of ``year`` with its call-offs, as recorded in the events (each
    recording once, however often it was published)."""
    tariffs: dict[int, TariffRecorded] = {}
    call_offs: dict[str, CallOffRecorded] = {}
    for event in events:
        if event["type"] == TariffRecorded.type_name:
            recorded = TariffRecorded.model_validate(event["data"])
            tariffs.setdefault(recorded.book_version, recorded)
        elif event["type"] == CallOffRecorded.type_name:
            call_off = CallOffRecorded.model_validate(event["data"])
            call_offs.setdefault(call_off.reference, call_off)
    return cap_limit(
        default_catalogue(), list(tariffs.values()), list(call_offs.values()), "counselling", year
    )


def _figures(programme: str, row: _Programme, cap: Decimal | None) -> dict[str, Any]:
    within = sum(1 for w in row.waits if w <= 14)
    capped = programme == "counselling" and cap is not None
    return {
        "referrals_received": row.received,
        "referrals_rejected": None,
        "cases_opened": row.opened,
        "cases_closed": row.closed,
        "families": len(row.households),
        "meetings_held": row.meetings,
        "meeting_hours": str((Decimal(row.meeting_minutes) / 60).quantize(Decimal("0.01"))),
        "median_wait_days": statistics.median(row.waits) if row.waits else None,
        "first_contact_within_14_days": round(100 * within / len(row.waits)) if row.waits else None,
        "sip_meetings": row.sips,
        "client_hours_billed": str(row.client_hours.quantize(Decimal("0.01"))),
        "yearly_cap_hours": str(cap) if capped else None,
        "cap_used_percent": (
            str((100 * row.client_hours / cap).quantize(Decimal("0.1"))) if capped and cap else None
        ),
        "fees_sek": str((Decimal(row.fees_ore) / 100).quantize(Decimal("0.01"))),
    }
