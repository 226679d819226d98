"""Only Leanlink's own time is Leanlink's to bill (003 §1.2, §2.3); the other provider's
meetings are reported apart, never in Leanlink's total, cap or fees."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.billing import SessionLogged
from events.scheduling import MeetingHeld
from services.billing.offline import compute_from_export
from services.billing.pricing import NotLeanlinks, price_logged_time, price_meeting
from services.billing.providers import report_apart
from services.billing.settlement import SettlementError, settle, verify
from services.billing.statement import to_csv, to_html
from services.billing.tariff_entries import YearlyCap
from services.billing.tariff_seeds import default_catalogue

CATALOGUE = default_catalogue()
CEST = timezone(timedelta(hours=2))
OTHER = "other_provider"


def held(
    n: int, start: datetime, minutes: int, provider: str = "leanlink", **over: Any
) -> MeetingHeld:
    fields: dict[str, Any] = {
        "meeting_id": UUID(int=3000 + n),
        "case_id": UUID(int=4000 + n % 5),
        "programme": "counselling",
        "kind": "counselling",
        "format": "couple",
        "provider": provider,
        "staff": ["staff-x"],
        "started_at": start,
        "ended_at": start + timedelta(minutes=minutes),
        "participants": 2,
        "client_visits": 1,
    }
    return MeetingHeld(**(fields | over))


def line(message: Any, n: int, stream: str = "scheduling.events") -> str:
    return json.dumps(
        {"stream": stream, "type": message.type_name, "version": 1, "id": str(UUID(int=n)),
         "data": message.model_dump(mode="json")}
    )  # fmt: skip


def test_a_meeting_of_the_other_provider_is_never_priced_at_leanlinks_rate() -> None:
    meeting = held(1, datetime(2022, 5, 3, 9, tzinfo=CEST), 80, OTHER)
    with pytest.raises(NotLeanlinks, match="only Leanlink's own time is Leanlink's to bill"):
        price_meeting(meeting, CATALOGUE)
    with pytest.raises(NotLeanlinks):
        price_logged_time(
            session_id=UUID(int=9), case_id=meeting.case_id, programme="counselling",
            provider=OTHER, performed_on=date(2022, 5, 3), minutes=30, catalogue=CATALOGUE,
        )  # fmt: skip


def test_it_is_reported_apart_with_its_time_and_visits_and_no_amount() -> None:
    group = held(2, datetime(2022, 5, 4, 10, tzinfo=CEST), 120, OTHER, format="group",
                 kind="group_session", participants=7, client_visits=7)  # fmt: skip
    record = report_apart(group, "2022-05")
    assert (record.provider, record.performed_on, record.settlement_month) == (
        OTHER, date(2022, 5, 4), "2022-05",
    )  # fmt: skip
    assert (record.minutes, record.billable_quarters) == (120, 8)
    assert (record.participants, record.client_visits) == (7, 7)
    assert "amount_ore" not in record.model_dump() and "fee_ore" not in record.model_dump()
    with pytest.raises(ValueError, match="held by Leanlink"):
        report_apart(held(3, group.started_at, 60), "2022-05")


def test_the_settlement_reports_other_providers_apart_and_refuses_their_sessions() -> None:
    ours = price_meeting(held(4, datetime(2022, 5, 5, 9, tzinfo=CEST), 45), CATALOGUE)
    assert isinstance(ours, SessionLogged)
    theirs = report_apart(held(5, datetime(2022, 5, 6, 9, tzinfo=CEST), 80, OTHER), "2022-05")
    document = settle("2022-05", [ours], CATALOGUE, programme="counselling", apart=[theirs])
    assert (document["total_ore"], document["billable_hours"], document["fees_ore"]) == (
        45_375, "0.75", 20_000,
    )  # fmt: skip
    assert document["other_providers"] == [
        {"provider": OTHER, "programme": "counselling", "month_held": "2022-05", "meetings": 1,
         "minutes": 80, "billable_quarters": 6, "participants": 2, "client_visits": 1}
    ]  # fmt: skip
    assert verify(document)
    assert (
        settle("2022-05", [], CATALOGUE, programme="field", apart=[theirs])["other_providers"] == []
    )
    logged_for_them = ours.model_copy(update={"provider": OTHER})
    with pytest.raises(SettlementError, match="logged for other_provider"):
        settle("2022-05", [logged_for_them], CATALOGUE)


def test_offline_the_other_providers_meetings_take_nothing_from_leanlinks_cap() -> None:
    # A cap of 10 hours from 2023 makes the limit reachable; the other provider's 8 group hours
    # (32 client hours at Leanlink's group rule) must not use any of it.
    small = CATALOGUE.with_entries(
        YearlyCap(entry_id="cap-2023", programme="counselling", hours=10,
                  valid_from=date(2023, 1, 1))
    )  # fmt: skip
    theirs = [
        held(10 + i, datetime(2023, 3, 1 + i, 9, tzinfo=CEST), 120, OTHER, format="group",
             kind="group_session", participants=6, client_visits=6)
        for i in range(4)
    ]  # fmt: skip
    ours = [held(20 + i, datetime(2023, 3, 10 + i, 9, tzinfo=CEST), 120) for i in range(5)]
    lines = [line(m, n) for n, m in enumerate([*theirs, *ours], start=1)]
    document = compute_from_export(lines, "2023-03", "counselling", small)
    assert document["billable_hours"] == "10.00"  # Leanlink's five 2-hour meetings: the cap
    assert document["total_ore"] == 10 * 60_500 and document["fees_ore"] == 5 * 20_000
    [row] = document["other_providers"]
    assert (row["meetings"], row["minutes"], row["client_visits"]) == (4, 480, 24)


def test_a_session_logged_for_the_other_provider_before_version_2_is_left_out_offline() -> None:
    meeting = held(30, datetime(2022, 5, 9, 9, tzinfo=CEST), 60, OTHER)
    legacy = price_meeting(meeting.model_copy(update={"provider": "leanlink"}), CATALOGUE)
    assert isinstance(legacy, SessionLogged)
    legacy = legacy.model_copy(update={"provider": OTHER})  # as billing logged it before
    lines = [line(meeting, 1), line(legacy, 2, "billing.events")]
    document = compute_from_export(lines, "2022-05", "counselling", CATALOGUE)
    assert document["total_ore"] == 0 and document["fees_ore"] == 0
    assert [r["meetings"] for r in document["other_providers"]] == [1]


meetings = st.lists(
    st.tuples(
        st.sampled_from(["leanlink", OTHER]),
        st.integers(min_value=0, max_value=29 * 24 * 4),  # quarter hours into May
        st.integers(min_value=1, max_value=180),
        st.sampled_from(["individual", "couple", "group"]),
        st.integers(min_value=1, max_value=9),
    ),
    max_size=25,
)


@given(meetings)
def test_leanlinks_month_is_the_same_with_or_without_the_other_providers_meetings(
    drawn: list[tuple[str, int, int, str, int]],
) -> None:
    held_ = [
        held(n, datetime(2022, 5, 1, tzinfo=CEST) + timedelta(minutes=15 * at), minutes,
             provider, format=fmt, participants=people, client_visits=people,
             kind="group_session" if fmt == "group" else "counselling")
        for n, (provider, at, minutes, fmt, people) in enumerate(drawn)
    ]  # fmt: skip
    everything = [line(m, n) for n, m in enumerate(held_, start=1)]
    leanlinks = [line(m, n) for n, m in enumerate(held_, start=1) if m.provider == "leanlink"]
    both = compute_from_export(everything, "2022-05", None, CATALOGUE)
    alone = compute_from_export(leanlinks, "2022-05", None, CATALOGUE)
    for key in ("lines", "total_ore", "billable_hours", "fees_ore", "net_ore", "pending_decisions"):
        assert both[key] == alone[key]
    theirs = [m for m in held_ if m.provider == OTHER]
    assert sum(r["meetings"] for r in both["other_providers"]) == len(theirs)
    assert sum(r["client_visits"] for r in both["other_providers"]) == sum(
        m.client_visits for m in theirs
    )
    assert alone["other_providers"] == []


def test_statements_show_the_other_providers_apart_from_what_is_owed() -> None:
    theirs = report_apart(held(40, datetime(2022, 5, 6, 9, tzinfo=CEST), 80, OTHER), "2022-05")
    document = settle("2022-05", [], CATALOGUE, programme="counselling", apart=[theirs])
    rows = to_csv(document).splitlines()
    [apart_row] = [r for r in rows if ",other_provider," in r]
    assert apart_row.startswith('2022-05,counselling,other_provider,"held by other_provider in')
    assert "2022-05,,total,owed by the municipality for the month,,,,,0.00,,0,0.00" in rows
    page = to_html({"document": document, "status": "computed"})
    assert "Meetings held by other providers (reported apart, not owed to Leanlink)" in page
    assert "held by other_provider in May 2022: 1 meeting, 80 min, 1 client visit;" in page
