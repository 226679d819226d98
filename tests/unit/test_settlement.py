"""The monthly settlement document, online (from sessions) and offline (from an export)."""

from __future__ import annotations

import hashlib
import json
import os
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.billing import AdjustmentRecorded, SessionLogged
from events.scheduling import MeetingHeld
from services.billing.cap import CallOff
from services.billing.export_reader import ExportError
from services.billing.fixed import monthly_share
from services.billing.offline import compute_from_export
from services.billing.pricing import price_meeting
from services.billing.settlement import (
    SettlementError,
    canonical_json,
    settle,
    verify,
)
from services.billing.tariff_entries import Extension
from services.billing.tariff_quotes import PriceNotKnown
from services.billing.tariff_seeds import default_catalogue

CATALOGUE = default_catalogue()
CEST = timezone(timedelta(hours=2))
JOINT = "coordinated-network-2018"


# A copy of ../shared/examples/billing-may-2022.jsonl, so the example runs on any clone;
# test_the_example_copy_matches_shared keeps it equal to the original where that is present.
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "billing-may-2022.jsonl"
SHARED_EXAMPLE = (
    Path(os.environ.get("LOTS_SHARED_DIR", str(Path(__file__).resolve().parents[3] / "shared")))
    / "examples"
    / "billing-may-2022.jsonl"
)


@pytest.mark.skipif(not SHARED_EXAMPLE.is_file(), reason="../shared is not beside this clone")
def test_the_example_copy_matches_shared() -> None:
    assert EXAMPLE.read_bytes() == SHARED_EXAMPLE.read_bytes()


def example_lines() -> list[str]:
    return EXAMPLE.read_text(encoding="utf-8").splitlines()


def entry(type_: str, ident: int, data: dict[str, Any], stream: str = "billing.events") -> str:
    body = {"stream": stream, "type": type_, "version": 1, "id": str(UUID(int=ident)), "data": data}
    return json.dumps(body)


def held(n: int, start: datetime, minutes: int, **over: Any) -> MeetingHeld:
    fields: dict[str, Any] = {
        "meeting_id": UUID(int=1000 + n),
        "case_id": UUID(int=2000 + n),
        "programme": "counselling",
        "kind": "counselling",
        "format": "couple",
        "provider": "leanlink",
        "staff": ["staff-anna"],
        "started_at": start,
        "ended_at": start + timedelta(minutes=minutes),
        "participants": 2,
        "client_visits": 1,
    }
    return MeetingHeld(**(fields | over))


def session_of(meeting: MeetingHeld) -> SessionLogged:
    result = price_meeting(meeting, CATALOGUE)
    assert isinstance(result, SessionLogged)
    return result


def may_sessions() -> list[SessionLogged]:
    return [
        session_of(held(i, datetime(2022, 5, 2 + i, 10, tzinfo=CEST), 30 + 15 * i))
        for i in range(6)
    ]


# --- the worked example ------------------------------------------------------------------------


def test_worked_example_of_may_2022_comes_out_exactly() -> None:
    document = compute_from_export(example_lines(), "2022-05", "counselling", CATALOGUE)
    hourly = [line for line in document["lines"] if line["kind"] == "hourly"]
    assert all(line["programme"] == "counselling" for line in document["lines"])
    assert sum(line["amount_ore"] for line in hourly) == 680_625
    assert document["total_ore"] == 680_625
    assert document["billable_hours"] == "11.25"
    assert document["fees_ore"] == 220_000
    assert document["net_ore"] == 460_625
    assert document["month"] == "2022-05" and document["programme"] == "counselling"
    assert verify(document)


def test_worked_example_gives_the_same_digest_every_run_in_any_order() -> None:
    lines = example_lines()
    first = compute_from_export(lines, "2022-05", "counselling", CATALOGUE)
    rng = random.Random(580)
    for _ in range(20):
        shuffled = lines + rng.sample(lines, k=rng.randint(1, len(lines)))
        rng.shuffle(shuffled)
        again = compute_from_export(shuffled, "2022-05", "counselling", default_catalogue())
        assert canonical_json(again) == canonical_json(first)
        assert again["digest"] == first["digest"]


def test_replaying_logged_sessions_gives_the_offline_digest() -> None:
    lines = example_lines()
    offline = compute_from_export(lines, "2022-05", "counselling", CATALOGUE)
    meetings = [MeetingHeld.model_validate(json.loads(line)["data"]) for line in lines]
    logged = [
        entry("SessionLogged", 900 + i, session_of(m).model_dump(mode="json"))
        for i, m in enumerate(meetings)
    ]
    assert compute_from_export(lines + logged, "2022-05", "counselling", CATALOGUE) == offline
    live = settle("2022-05", [session_of(m) for m in meetings], CATALOGUE, programme="counselling")
    assert live == offline


def test_worked_example_without_filter_adds_the_field_work_payment() -> None:
    document = compute_from_export(example_lines(), "2022-05", None, CATALOGUE)
    fixed = [line for line in document["lines"] if line["kind"] == "fixed"]
    assert [(f["programme"], f["amount_ore"]) for f in fixed] == [("field", 41_666_666)]
    assert document["total_ore"] == 680_625 + 41_666_666
    assert document["billable_hours"] == "11.25"


# --- the document -----------------------------------------------------------------------------


def test_digest_is_sha256_of_the_canonical_json_without_the_digest() -> None:
    document = settle("2022-05", may_sessions(), CATALOGUE)
    body = {k: v for k, v in document.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert document["digest"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    tampered = document | {"total_ore": document["total_ore"] + 1}
    assert verify(document) and not verify(tampered)


def test_document_holds_no_floats() -> None:
    def walk(value: Any) -> None:
        assert not isinstance(value, float)
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            for child in children:
                walk(child)

    walk(settle("2022-05", may_sessions(), CATALOGUE))


@given(st.permutations(may_sessions() + may_sessions()[:3]))
def test_any_order_and_duplicates_give_a_byte_identical_document(
    sessions: list[SessionLogged],
) -> None:
    expected = canonical_json(settle("2022-05", may_sessions(), CATALOGUE))
    assert canonical_json(settle("2022-05", sessions, CATALOGUE)) == expected
    payloads = [s.model_dump(mode="json") for s in sessions]
    assert canonical_json(settle("2022-05", payloads, CATALOGUE)) == expected


def test_same_session_id_with_different_content_is_refused() -> None:
    first = may_sessions()[0]
    other = first.model_copy(update={"amount_ore": first.amount_ore + 1})
    with pytest.raises(SettlementError, match=str(first.session_id)):
        settle("2022-05", [first, other], CATALOGUE)


def test_sessions_are_taken_as_they_stand_and_grouped_by_rate_and_version() -> None:
    sessions = may_sessions()
    odd = sessions[0].model_copy(update={"rate": Decimal("700.00"), "amount_ore": 52_500})
    document = settle("2022-05", [odd, *sessions[1:]], CATALOGUE, programme="counselling")
    by_rate = {line["rate"]: line for line in document["lines"]}
    assert by_rate["700.00"]["amount_ore"] == 52_500 and by_rate["700.00"]["sessions"] == 1
    assert by_rate["605.00"]["sessions"] == 5
    assert document["total_ore"] == sum(s.amount_ore for s in [odd, *sessions[1:]])


def test_sessions_of_other_months_are_left_out() -> None:
    june = session_of(held(9, datetime(2022, 6, 1, 0, 30, tzinfo=CEST), 60))
    document = settle("2022-05", [*may_sessions(), june], CATALOGUE, programme="counselling")
    assert document == settle("2022-05", may_sessions(), CATALOGUE, programme="counselling")


def test_hourly_line_without_a_recorded_uplift_is_noted() -> None:
    session = session_of(held(1, datetime(2023, 2, 1, 10, tzinfo=CEST), 60))
    document = settle("2023-02", [session], CATALOGUE, programme="counselling")
    assert document["notes"] == [
        "counselling hourly line at 605.00 SEK/h: unindexed-counselling-fee-revision-2023, "
        "the previous price level carried forward",
        "counselling hourly line at 605.00 SEK/h: unindexed-linkoping-uplift-2023, "
        "the previous price level carried forward",
    ]


def test_adjustments_are_lines_of_the_month_they_are_booked_on() -> None:
    adjustment = AdjustmentRecorded(
        adjustment_id=UUID(int=5),
        month="2022-05",
        belongs_to_month="2022-04",
        programme="counselling",
        amount_ore=-15_125,
        reason="quarter billed twice in April",
    )
    document = settle("2022-05", [], CATALOGUE, programme="counselling", adjustments=[adjustment])
    assert document["lines"] == [
        {
            "programme": "counselling",
            "kind": "adjustment",
            "adjustment_id": str(UUID(int=5)),
            "belongs_to_month": "2022-04",
            "reason": "quarter billed twice in April",
            "amount_ore": -15_125,
        }
    ]
    assert document["total_ore"] == -15_125
    assert settle("2022-06", [], CATALOGUE, adjustments=[adjustment])["lines"][0]["kind"] == "fixed"


@pytest.mark.parametrize(("month", "programme"), [("2022-13", None), ("2022-5", None)])
def test_bad_month_is_refused(month: str, programme: str | None) -> None:
    with pytest.raises(SettlementError, match="YYYY-MM"):
        settle(month, [], CATALOGUE, programme=programme)


def test_unknown_programme_is_refused() -> None:
    with pytest.raises(SettlementError, match="unknown programme"):
        settle("2022-05", [], CATALOGUE, programme="dentistry")


# --- fixed lines -------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**12))
def test_twelve_monthly_shares_sum_to_the_yearly_amount(yearly: int) -> None:
    shares = [monthly_share(yearly, 12, month) for month in range(1, 13)]
    assert sum(shares) == yearly
    assert max(shares) - min(shares) <= 1


def test_twelve_settlements_of_field_work_sum_to_5_million_sek() -> None:
    lines = [
        line
        for month in range(1, 13)
        for line in settle(f"2023-{month:02d}", [], CATALOGUE, programme="field")["lines"]
    ]
    assert [line["amount_ore"] for line in lines] == [41_666_667, 41_666_666, 41_666_667] * 4
    assert sum(line["amount_ore"] for line in lines) == 500_000_000


def test_network_work_2018_is_shared_over_its_eight_months() -> None:
    amounts = [
        settle(f"2018-{m:02d}", [], CATALOGUE, programme="network")["total_ore"]
        for m in range(1, 13)
    ]
    assert amounts[:8] == [8_087_500] * 8
    assert sum(amounts[:8]) == 64_700_000
    assert amounts[8:] == [23_333_333, 23_333_334, 23_333_333, 23_333_333]
    assert sum(amounts[8:]) == 93_333_333  # 2.8 MSEK x 4 / 12, rounded once


def test_joint_line_serves_both_programmes_and_carries_its_note() -> None:
    for programme in ("coordinated", "network"):
        document = settle("2019-03", [], CATALOGUE, programme=programme)
        [line] = document["lines"]
        assert line["programme"] == "coordinated+network"
        assert line["programmes"] == ["coordinated", "network"]
        assert line["contract"] == JOINT and line["amount_ore"] == 23_333_333
        assert document["notes"] == [
            f"fixed payment of contract {JOINT}: no OPI indexation recorded for 2019; "
            "the previous price level is carried forward"
        ]
    assert settle("2019-03", [], CATALOGUE, programme="field")["lines"] == []


def test_joint_contract_is_not_paid_after_its_term_without_a_recorded_extension() -> None:
    assert settle("2021-08", [], CATALOGUE, programme="network")["total_ore"] == 23_333_334
    assert settle("2021-09", [], CATALOGUE, programme="network")["lines"] == []
    extended = CATALOGUE.with_entries(Extension(entry_id="ext-2021", contract=JOINT))
    assert settle("2021-09", [], extended, programme="network")["total_ore"] == 23_333_333
    assert settle("2024-09", [], extended, programme="network")["lines"] == []


def test_unknown_indexation_refuses_the_settlement_under_the_refuse_policy() -> None:
    with pytest.raises(PriceNotKnown, match="no OPI indexation recorded for 2019"):
        settle("2019-03", [], CATALOGUE.with_policy("refuse"))


# --- offline from an export --------------------------------------------------------------------


def test_bad_line_is_named_by_its_number() -> None:
    meeting = held(1, datetime(2022, 5, 3, 9, tzinfo=CEST), 45)
    good = entry("MeetingHeld", 1, json.loads(meeting.model_dump_json()))
    cases = {
        "{not json": "line 3: not JSON",
        "[1, 2]": "line 3: not a JSON object",
        json.dumps({"type": "MeetingHeld", "data": {}}): "line 3: needs a string 'type'",
        entry("MeetingHeld", 2, {"meeting_id": "x"}): "line 3: invalid MeetingHeld",
    }
    for bad, message in cases.items():
        with pytest.raises(ExportError, match=message):
            compute_from_export([good, "", bad], "2022-05", None, CATALOGUE)


def test_same_entry_id_with_different_content_is_refused() -> None:
    data = json.loads(held(1, datetime(2022, 5, 3, 9, tzinfo=CEST), 45).model_dump_json())
    changed = data | {"client_visits": 2}
    lines = [entry("MeetingHeld", 1, data), entry("MeetingHeld", 1, changed)]
    with pytest.raises(ExportError, match=r"line 2: entry id \S+ already appeared on line 1"):
        compute_from_export(lines, "2022-05", None, CATALOGUE)


def test_other_types_and_other_years_are_ignored() -> None:
    old = held(1, datetime(2021, 12, 31, 9, tzinfo=CEST), 45)  # before the contract's start
    lines = [
        entry("ReferralReceived", 1, {"whatever": True}, stream="intake.events"),
        entry("MeetingHeld", 2, json.loads(old.model_dump_json())),
    ]
    document = compute_from_export(lines, "2022-05", "counselling", CATALOGUE)
    assert document["lines"] == [] and document["billable_hours"] == "0.00"


def test_unclear_group_session_is_pending_until_a_session_is_logged() -> None:
    group = held(3, datetime(2022, 5, 4, 10, tzinfo=CEST), 90, format="group", participants=4)
    lines = [entry("MeetingHeld", 1, json.loads(group.model_dump_json()))]
    document = compute_from_export(lines, "2022-05", "counselling", CATALOGUE)
    assert document["lines"] == []
    [pending] = document["pending_decisions"]
    assert pending["meeting_id"] == str(group.meeting_id) and "4 participants" in pending["reason"]
    decided = session_of(held(3, group.started_at, 90))  # a person chose ordinary time
    logged = entry("SessionLogged", 2, decided.model_dump(mode="json"))
    document = compute_from_export([*lines, logged], "2022-05", "counselling", CATALOGUE)
    assert document["pending_decisions"] == [] and document["billable_hours"] == "1.50"


def test_offline_pricing_stops_at_the_yearly_cap_unless_called_off() -> None:
    earlier = session_of(held(1, datetime(2022, 4, 4, 10, tzinfo=CEST), 60)).model_copy(
        update={"client_hours": Decimal("2589.00")}  # the year's hours so far, as logged
    )
    may = held(2, datetime(2022, 5, 4, 10, tzinfo=CEST), 120, format="group", participants=6)
    lines = [
        entry("SessionLogged", 1, earlier.model_dump(mode="json")),
        entry("MeetingHeld", 2, json.loads(may.model_dump_json())),
    ]
    capped = compute_from_export(lines, "2022-05", "counselling", CATALOGUE)
    assert capped["billable_hours"] == "1.00" and capped["total_ore"] == 60_500
    call_off = CallOff("AVROP-2022-1", 2022, Decimal(100))
    free = compute_from_export(lines, "2022-05", None, CATALOGUE, call_offs=[call_off])
    assert free["billable_hours"] == "8.00"
    assert sum(li["amount_ore"] for li in free["lines"] if li["kind"] == "hourly") == 484_000


def test_offline_with_a_fixed_programme_filter_prices_no_meetings() -> None:
    late = held(1, datetime(2021, 9, 3, 9, tzinfo=CEST), 45)
    lines = [entry("MeetingHeld", 1, json.loads(late.model_dump_json()))]
    document = compute_from_export(lines, "2021-09", "field", CATALOGUE)
    assert [line["contract"] for line in document["lines"]] == ["field-2021"]
    assert document["fees_ore"] == 0 and document["programme"] == "field"
