"""The yearly activity report from public events: counts, hours, waits, fees and cap usage."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from events.billing import CallOffRecorded, TariffEntry, TariffRecorded
from lots.report import yearly
from lots.report_formats import to_csv, to_html
from services.billing.tariff_entries import YearlyCap, entry_record


def line(message_type: str, **data: Any) -> str:
    return json.dumps(
        {"stream": "x", "type": message_type, "version": 1, "id": str(uuid.uuid4()), "data": data}
    )


def received(case: str, programme: str, at: str, people: tuple[str, ...]) -> str:
    return line(
        "ReferralReceived",
        case_id=case,
        programme=programme,
        received_at=at,
        household=[{"person_ref": p, "role": "child", "age": 9} for p in people],
    )


def held(case: str, programme: str, start: str, end: str, kind: str = "counselling") -> str:
    return line(
        "MeetingHeld", case_id=case, programme=programme, kind=kind, started_at=start, ended_at=end
    )


def test_the_year_is_summarised_per_programme() -> None:
    lines = [
        received("a", "network", "2026-01-05T09:00:00+01:00", ("p1", "p2")),
        received("b", "network", "2026-02-02T09:00:00+01:00", ("p1", "p2")),
        received("c", "counselling", "2026-03-02T09:00:00+01:00", ("p3",)),
        received("old", "network", "2025-12-31T22:59:00+00:00", ("p9",)),  # 23:59 local: 2025
        held("a", "network", "2026-01-12T10:00:00+01:00", "2026-01-12T11:30:00+01:00"),
        held(
            "a", "network", "2026-01-20T10:00:00+01:00", "2026-01-20T11:00:00+01:00", "sip_meeting"
        ),
        held("b", "network", "2026-03-02T10:00:00+01:00", "2026-03-02T11:00:00+01:00"),
        held("c", "counselling", "2026-03-09T10:00:00+01:00", "2026-03-09T10:45:00+01:00"),
        line(
            "SessionLogged",
            programme="counselling",
            client_hours="0.75",
            fee_ore=20000,
            settlement_month="2026-03",
        ),
        line("CaseClosed", case_id="a", outcome="goals_met", closed_at="2026-04-01T10:00:00+02:00"),
        line("ReferralRejected", received_at="2026-05-01T10:00:00+02:00", reasons=[]),
    ]
    report = yearly(lines, 2026)
    network, counselling = report["programmes"]["network"], report["programmes"]["counselling"]
    assert network["referrals_received"] == 2 and network["families"] == 1
    assert network["meetings_held"] == 3 and network["meeting_hours"] == "3.50"
    assert network["sip_meetings"] == 1 and network["cases_closed"] == 1
    assert network["median_wait_days"] == 17.5  # 7 days for a, 28 for b
    assert network["first_contact_within_14_days"] == 50
    assert counselling["client_hours_billed"] == "0.75" and counselling["fees_sek"] == "200.00"
    assert counselling["cap_used_percent"] == "0.0" and network["cap_used_percent"] is None
    assert report["rejected_referrals"] == 1
    assert report["programmes"]["field"]["referrals_received"] == 0
    assert yearly(lines, 2025)["programmes"]["network"]["referrals_received"] == 1
    csv_text = to_csv(report)
    assert csv_text.splitlines()[0] == "figure,network,coordinated,counselling,field"
    assert "meeting hours,3.50,0.00,0.75,0.00" in csv_text
    assert "<h1>Leanlink Råd och stöd: activity report 2026</h1>" in to_html(report)


def test_a_duplicate_event_counts_once() -> None:
    once = received("a", "network", "2026-01-05T09:00:00+01:00", ("p1",))
    assert yearly([once, once], 2026)["programmes"]["network"]["referrals_received"] == 1


def test_an_answer_repeated_to_a_referral_sent_again_counts_once() -> None:
    first = received("a", "network", "2026-01-05T09:00:00+01:00", ("p1",))
    again = json.loads(first) | {"id": str(uuid.uuid4())}
    again["data"]["repeat_of"] = json.loads(first)["id"]
    rejected = json.loads(line("ReferralRejected", received_at="2026-05-01T10:00:00+02:00"))
    rejected_again = rejected | {"id": str(uuid.uuid4())}
    rejected_again["data"] = rejected["data"] | {"repeat_of": rejected["id"]}
    lines = [first, json.dumps(again), json.dumps(rejected), json.dumps(rejected_again)]
    report = yearly(lines, 2026)
    assert report["programmes"]["network"]["referrals_received"] == 1
    assert report["rejected_referrals"] == 1


def logged(hours: str, month: str = "2026-03", kind: str = "SessionLogged", n: int = 1) -> str:
    return line(
        kind,
        session_id=str(uuid.UUID(int=n)),
        programme="counselling",
        provider="leanlink",
        client_hours=hours,
        fee_ore=0,
        settlement_month=month,
    )


def test_a_session_that_gave_way_at_the_cap_counts_as_it_is_billed_now() -> None:
    lines = [logged("2.00", n=1), logged("1.50", n=2), logged("0.50", kind="SessionRecut", n=2)]
    assert yearly(lines, 2026)["programmes"]["counselling"]["client_hours_billed"] == "2.50"


def test_time_logged_for_another_provider_is_not_leanlinks() -> None:
    theirs = json.loads(logged("4.00", n=3))
    theirs["data"]["provider"] = "other_provider"
    figures = yearly([logged("1.00"), json.dumps(theirs)], 2026)["programmes"]["counselling"]
    assert figures["client_hours_billed"] == "1.00"


def recorded_cap(hours: int, valid_from: date, book_version: int) -> str:
    cap = YearlyCap(
        entry_id=f"cap-{valid_from}", programme="counselling", hours=hours, valid_from=valid_from
    )
    message = TariffRecorded(
        entries=[TariffEntry.model_validate(entry_record(cap))],
        book_version=book_version,
        reason="new cap",
        reference="SON 2025-9",
        recorded_at=datetime(2025, 12, 1, tzinfo=UTC),
    )
    return line("TariffRecorded", **message.model_dump(mode="json"))


def call_off(reference: str, year: int, hours: str, effective_from: date) -> str:
    message = CallOffRecorded(
        reference=reference,
        programme="counselling",
        year=year,
        hours=Decimal(hours),
        effective_from=effective_from,
        book_version=3,
        recorded_at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    return line("CallOffRecorded", **message.model_dump(mode="json"))


def test_the_cap_used_is_of_the_cap_in_force_with_the_years_call_offs() -> None:
    hours = [logged("1500.00")]
    default = yearly(hours, 2026)["programmes"]["counselling"]
    assert (default["yearly_cap_hours"], default["cap_used_percent"]) == ("2590", "57.9")
    raised = [*hours, recorded_cap(2800, date(2026, 1, 1), 2)]
    raised += [call_off("AVROP-1", 2026, "200", date(2026, 9, 1))] * 2  # published twice
    raised.append(call_off("AVROP-OLD", 2025, "500", date(2025, 9, 1)))  # another year's
    figures = yearly(raised, 2026)["programmes"]["counselling"]
    assert (figures["yearly_cap_hours"], figures["cap_used_percent"]) == ("3000", "50.0")
    assert yearly(raised, 2025)["programmes"]["counselling"]["yearly_cap_hours"] == "3090"
    assert "yearly cap in force (hours),,,3000," in to_csv(yearly(raised, 2026))


def test_a_year_with_no_cap_in_force_has_no_share_of_it() -> None:
    figures = yearly([logged("3.00", "2021-05")], 2021)["programmes"]["counselling"]
    assert figures["yearly_cap_hours"] is None and figures["cap_used_percent"] is None
