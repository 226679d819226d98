"""Whose time is Leanlink's to bill: only Leanlink's own (003 §1.2, §2.3).

Leanlink is the single point of entry for family counselling and distributes the cases
"mellan sig och annan utförare" (003 §2.3); what it may bill is "utförd tid", time it performed
itself (003 §1.2). A meeting held by the other provider is therefore never priced at Leanlink's
rate, never held against Leanlink's yearly cap, and its visit fees are not fees Leanlink
collected. It stays recorded, and each month's settlement reports it apart, per provider, for
the administration (``other_providers``): how many meetings, their minutes and started quarter
hours, participants and client visits. No amount: the seeds set no price for the other
provider's work, so the document puts none on it.

Pure functions of their inputs; the billing service, its replay and the offline computation all
call them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from events.billing import SessionReportedApart
from events.scheduling import MeetingHeld
from infra.calendar import local_date
from infra.months import month_of_date
from services.billing.pricing import bills_for_leanlink, session_id_for
from services.billing.pricing_time import minutes_between, started_quarters


def report_apart(meeting: MeetingHeld, settlement_month: str) -> SessionReportedApart:
    """The record of a meeting another provider held, reported on ``settlement_month``."""
    if bills_for_leanlink(meeting.provider):
        raise ValueError(f"meeting {meeting.meeting_id} was held by Leanlink: it is priced")
    minutes = minutes_between(meeting.started_at, meeting.ended_at)
    return SessionReportedApart(
        session_id=session_id_for(meeting.meeting_id),
        meeting_id=meeting.meeting_id,
        case_id=meeting.case_id,
        programme=meeting.programme,
        provider=meeting.provider,
        performed_on=local_date(meeting.started_at),
        settlement_month=settlement_month,
        minutes=minutes,
        billable_quarters=started_quarters(minutes),
        participants=meeting.participants,
        client_visits=meeting.client_visits,
        reason=(
            f"held by {meeting.provider}: only Leanlink's own time is Leanlink's to bill "
            "(003 §1.2, §2.3); reported apart"
        ),
    )


def other_providers(
    records: Iterable[SessionReportedApart], month: str, wanted: Callable[[Iterable[str]], bool]
) -> list[dict[str, Any]]:
    """The month's meetings of other providers, one row per provider, programme and month the
    meetings were held in (a meeting reported after its own month closed is in a later one)."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in records:
        if r.settlement_month != month or not wanted([r.programme]):
            continue
        held = month_of_date(r.performed_on)
        row = rows.setdefault(
            (r.provider, r.programme, held),
            {"provider": r.provider, "programme": r.programme, "month_held": held,
             "meetings": 0, "minutes": 0, "billable_quarters": 0, "participants": 0,
             "client_visits": 0},
        )  # fmt: skip
        row["meetings"] += 1
        row["minutes"] += r.minutes
        row["billable_quarters"] += r.billable_quarters
        row["participants"] += r.participants
        row["client_visits"] += r.client_visits
    return [rows[key] for key in sorted(rows)]
