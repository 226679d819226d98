"""Billing's rules end to end over a SQLite store: decisions, the cap, tariffs, logged time.

Each scenario ends the way an auditor would check it: the month is closed, then replayed from
the log and computed offline from the export, and all three documents must be byte-identical.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from events.intake import ReferralReceived
from events.scheduling import MeetingHeld
from infra.settings import Settings
from infra.store import store_env
from services.billing.application import Billing
from services.billing.errors import BillingError, Conflict, NotFound
from services.billing.offline import compute_from_export
from services.billing.replay import replay_month
from services.billing.tariff_entries import (
    UPLIFT,
    ClientFee,
    ContractTerm,
    HourlyRate,
    TariffError,
    YearlyCap,
)
from services.billing.tariff_seeds import default_catalogue
from tests.support.billing import Clock, close_and_check, deliver, export, published

CEST = timezone(timedelta(hours=2))
CET = timezone(timedelta(hours=1))
UTC0 = UTC


def held(n: int, start: datetime, minutes: int, **over: Any) -> MeetingHeld:
    fields: dict[str, Any] = {
        "meeting_id": uuid.UUID(int=5000 + n),
        "case_id": uuid.UUID(int=6000 + n % 3),
        "programme": "counselling",
        "kind": "counselling",
        "format": "individual",
        "provider": "leanlink",
        "staff": ["staff-bo"],
        "started_at": start,
        "ended_at": start + timedelta(minutes=minutes),
        "participants": 1,
        "client_visits": 1,
    }
    return MeetingHeld(**(fields | over))


def group(n: int, start: datetime, minutes: int, participants: int) -> MeetingHeld:
    return held(
        n,
        start,
        minutes,
        kind="group_session",
        format="group",
        participants=participants,
        client_visits=participants,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 1, 20, 12, tzinfo=UTC))


@pytest.fixture
def billing(settings: Settings, clock: Clock) -> Iterator[Billing]:
    app = Billing(store_env(settings, "billing"), clock=clock)
    app.record_default_tariffs()
    yield app
    app.close()


# --- group sessions: flagged, decided, priced ------------------------------------------------


def test_a_clear_group_session_is_priced_at_four_client_hours_per_group_hour(
    billing: Billing,
) -> None:
    deliver(billing, [group(1, datetime(2022, 5, 4, 10, tzinfo=CEST), 120, participants=7)])
    [session] = published(billing, "SessionLogged")
    assert (session.client_hours, session.amount_ore) == (Decimal("8.00"), 484_000)
    assert session.fee_ore == 7 * 20_000
    assert billing.worklist() == []


def test_an_unclear_group_session_waits_for_a_decision_then_is_priced_as_decided(
    billing: Billing,
) -> None:
    meeting = group(2, datetime(2022, 5, 4, 10, tzinfo=CEST), 90, participants=4)
    deliver(billing, [meeting])
    assert published(billing, "SessionLogged") == []
    [flag] = published(billing, "SessionFlagged")
    assert flag.settlement_month == "2022-05" and "4 participants" in flag.reason
    [pending] = billing.settlement("2022-05")["document"]["pending_decisions"]
    assert pending["meeting_id"] == str(meeting.meeting_id)
    [item] = billing.worklist()
    assert item["need"] == "decision" and item["meeting_id"] == str(meeting.meeting_id)

    assert flag.options == ["bill_as_ordinary_time", "not_billable"]  # never as a group
    with pytest.raises(BillingError, match="at least 5 participants"):
        billing.decide(meeting_id=meeting.meeting_id, decision="bill_as_group", decided_by="c")
    assert published(billing, "SessionDecided") == [] and len(billing.worklist()) == 1

    view = billing.decide(
        meeting_id=meeting.meeting_id, decision="bill_as_ordinary_time", decided_by="chef",
        note="ok",
    )  # fmt: skip
    assert view["status"] == "logged" and view["decision"] == "bill_as_ordinary_time"
    [session] = published(billing, "SessionLogged")
    assert (session.billable_quarters, session.client_hours) == (6, Decimal("1.50"))
    [decided] = published(billing, "SessionDecided")
    assert (decided.decision, decided.decided_by) == ("bill_as_ordinary_time", "chef")
    assert billing.settlement("2022-05")["document"]["pending_decisions"] == []
    assert billing.worklist() == []
    with pytest.raises(Conflict, match="already decided: bill_as_ordinary_time"):
        billing.decide(meeting_id=meeting.meeting_id, decision="not_billable", decided_by="x")
    close_and_check(billing, "2022-05", [meeting])


def test_a_decision_is_refused_for_an_unknown_meeting_or_an_unknown_choice(
    billing: Billing,
) -> None:
    with pytest.raises(NotFound, match="no held meeting"):
        billing.decide(meeting_id=uuid.uuid4(), decision="bill_as_group", decided_by="chef")
    with pytest.raises(BillingError, match="decision must be one of"):
        billing.decide(meeting_id=uuid.uuid4(), decision="guess", decided_by="chef")
    meeting = held(3, datetime(2022, 5, 4, 10, tzinfo=CEST), 60)
    deliver(billing, [meeting])
    with pytest.raises(Conflict, match="not waiting for a decision"):
        billing.decide(meeting_id=meeting.meeting_id, decision="bill_as_group", decided_by="c")


def test_a_pending_decision_closes_with_its_month_and_its_decision_bills_the_next_one(
    billing: Billing,
) -> None:
    meeting = group(4, datetime(2022, 5, 30, 10, tzinfo=CEST), 150, participants=8)
    deliver(billing, [meeting])
    may = close_and_check(billing, "2022-05", [meeting])
    assert [p["meeting_id"] for p in may["pending_decisions"]] == [str(meeting.meeting_id)]
    billing.decide(meeting_id=meeting.meeting_id, decision="bill_as_ordinary_time", decided_by="c")
    [adjustment] = published(billing, "AdjustmentRecorded")
    assert (adjustment.month, adjustment.belongs_to_month) == ("2022-06", "2022-05")
    assert adjustment.amount_ore == 10 * 15_125 and adjustment.fee_ore == 8 * 20_000
    assert billing.closed_document("2022-05") == may
    close_and_check(billing, "2022-06", [meeting])


def test_a_group_session_held_in_a_closed_month_is_pending_in_the_first_open_one(
    billing: Billing,
) -> None:
    billing.close_month("2022-05")
    meeting = group(5, datetime(2022, 5, 30, 10, tzinfo=CEST), 45, participants=6)
    deliver(billing, [meeting])
    [flag] = published(billing, "SessionFlagged")
    assert flag.settlement_month == "2022-06" and flag.performed_on == date(2022, 5, 30)
    june = close_and_check(billing, "2022-06", [meeting])
    assert [p["meeting_id"] for p in june["pending_decisions"]] == [str(meeting.meeting_id)]


# --- the yearly cap, call-offs and warnings ---------------------------------------------------


def test_the_cap_stops_billing_warns_at_80_95_100_and_a_call_off_reopens_it(
    billing: Billing,
) -> None:
    # A cap of 10 hours from 2023 makes the year's limit reachable in a test.
    billing.record_price(
        YearlyCap(entry_id="cap-2023", programme="counselling", hours=10,
                  valid_from=date(2023, 1, 1)),
        reference="SON 2022-99",
    )  # fmt: skip
    two_hours = [held(10 + i, datetime(2023, 2, 1 + i, 9, tzinfo=CET), 120) for i in range(6)]
    deliver(billing, two_hours)
    sessions = published(billing, "SessionLogged")
    assert [s.client_hours for s in sessions] == [Decimal("2.00")] * 5 + [Decimal("0.00")]
    assert sessions[-1].amount_ore == 0 and sessions[-1].minutes == 120
    warnings = published(billing, "YearlyCapWarning")
    assert [(w.percent, w.billed_hours) for w in warnings] == [
        (80, Decimal("8.00")),
        (95, Decimal("10.00")),
        (100, Decimal("10.00")),
    ]
    usage = billing.cap_usage("counselling", 2023)
    assert (usage["billed_hours"], usage["over_cap_hours"]) == ("10.00", "2.00")
    assert usage["warnings"] == [80, 95, 100]

    billing.record_call_off(
        programme="counselling", year=2023, hours=Decimal("3"), reference="AVROP-2023-1",
        effective_from=date(2023, 3, 1),
    )  # fmt: skip
    march = [held(20 + i, datetime(2023, 3, 6 + i, 9, tzinfo=CET), 120) for i in range(2)]
    deliver(billing, march)
    billed = [s.client_hours for s in published(billing, "SessionLogged")[6:]]
    assert billed == [Decimal("2.00"), Decimal("1.00")]
    # The call-off raised the limit to 13 hours: its thresholds are crossed anew.
    later = published(billing, "YearlyCapWarning")[3:]
    assert [(w.percent, w.limit_hours) for w in later] == [(80, 13), (95, 13), (100, 13)]
    with pytest.raises(Conflict, match="AVROP-2023-1 is already recorded"):
        billing.record_call_off(
            programme="counselling", year=2023, hours=Decimal(1), reference="AVROP-2023-1"
        )
    for month in ("2023-02", "2023-03"):
        close_and_check(billing, month, two_hours + march)
    [usage] = billing.settlement("2023-03")["cap_usage"]
    assert (usage["limit_hours"], usage["billed_hours"], usage["used_percent"]) == (
        "13",
        "13.00",
        "100.0",
    )


def test_a_call_off_must_be_whole_quarters_of_a_capped_programme(billing: Billing) -> None:
    with pytest.raises(BillingError, match="quarter hours"):
        billing.record_call_off(
            programme="counselling", year=2023, hours=Decimal("0.1"), reference="A"
        )
    with pytest.raises(BillingError, match="no yearly cap"):
        billing.record_call_off(programme="network", year=2023, hours=Decimal(1), reference="A")


# --- tariffs recorded with effective dates -----------------------------------------------------


def test_an_uplift_prices_the_day_it_applies_from_but_not_the_day_before(
    billing: Billing,
) -> None:
    billing.record_indexation(
        series=UPLIFT, year=2023, percent=Decimal("3.1"), applies_from=date(2023, 3, 1),
        reference="KF 2023-12",
    )  # fmt: skip
    before = held(30, datetime(2023, 2, 28, 23, 0, tzinfo=CET), 60)
    on_the_day = held(31, datetime(2023, 3, 1, 0, 0, tzinfo=CET), 60)
    deliver(billing, [before, on_the_day])
    rates = [s.rate for s in published(billing, "SessionLogged")]
    assert rates == [Decimal("605.00"), Decimal("623.76")]  # 605 x 1.031 = 623.755
    [recorded] = published(billing, "TariffRecorded")
    assert recorded.book_version == 2 and recorded.reference == "KF 2023-12"
    close_and_check(billing, "2023-02", [before, on_the_day])
    close_and_check(billing, "2023-03", [before, on_the_day])


def test_a_tariff_recorded_after_a_close_does_not_change_the_closed_month(
    billing: Billing,
) -> None:
    february = held(32, datetime(2023, 2, 10, 10, tzinfo=CET), 60)
    deliver(billing, [february])
    closed = billing.close_month("2023-02")
    billing.record_indexation(
        series="OPI", year=2023, percent=Decimal("2.5"), applies_from=date(2023, 1, 1),
        reference="SKR OPI 2023",
    )  # fmt: skip
    assert billing.settlement("2023-02")["document"] == closed
    assert replay_month(billing, "2023-02").matches
    lines = export(billing, [february])
    assert compute_from_export(lines, "2023-02", None, default_catalogue()) == closed
    assert (
        compute_from_export(lines, "2023-03", None, default_catalogue())["notes"]
        != (closed["notes"])
    )


def test_a_duplicate_or_overlapping_tariff_is_refused(billing: Billing) -> None:
    billing.record_indexation(
        series=UPLIFT, year=2023, percent=Decimal(3), applies_from=date(2023, 1, 1), reference="a"
    )
    with pytest.raises(TariffError, match="duplicate"):
        billing.record_indexation(
            series=UPLIFT, year=2023, percent=Decimal(4), applies_from=date(2023, 1, 1),
            reference="b",
        )  # fmt: skip
    with pytest.raises(BillingError, match="not in 2024"):
        billing.record_indexation(
            series=UPLIFT, year=2024, percent=Decimal(4), applies_from=date(2023, 12, 1),
            reference="c",
        )  # fmt: skip
    with pytest.raises(TariffError, match="not extendable"):
        billing.record_extension(contract="counselling-2022", reference="d")


def test_an_extension_pays_the_joint_contract_for_three_more_years(billing: Billing) -> None:
    assert billing.settlement("2021-09", "network")["document"]["lines"] == []
    result = billing.record_extension(contract="coordinated-network-2018", reference="SON 2021")
    assert result["recorded"] == ["coordinated-network-2018-extension-1"]
    [line] = billing.settlement("2021-09", "network")["document"]["lines"]
    assert line["contract"] == "coordinated-network-2018" and line["amount_ore"] == 23_333_333
    assert billing.settlement("2024-09", "network")["document"]["lines"] == []


def test_a_session_waiting_for_a_price_is_priced_once_the_price_is_recorded(
    billing: Billing,
) -> None:
    old = held(33, datetime(2021, 11, 5, 10, tzinfo=CET), 60)
    deliver(billing, [old])
    [item] = billing.worklist()
    assert "counselling hourly rate is not known for 2021-11-05" in item["reason"]
    pilot = ContractTerm(
        entry_id="pilot-2021-term", contract="counselling-pilot-2021", programmes=("counselling",),
        billing="hourly", valid_from=date(2021, 1, 1), valid_to=date(2021, 12, 31),
    )  # fmt: skip
    assert billing.record_price(pilot, reference="SON 2020-7")["repriced_sessions"] == 0
    rate = HourlyRate(
        entry_id="pilot-2021-rate", programme="counselling", sek_per_hour=Decimal(600),
        price_level_year=2021, valid_from=date(2021, 1, 1), valid_to=date(2021, 12, 31),
    )  # fmt: skip
    with pytest.raises(Conflict, match="waits for a price"):
        billing.close_month("2021-11")
    fee = ClientFee(
        entry_id="pilot-2021-fee", programme="counselling", ore_per_visit=15_000,
        price_level_year=2021, valid_from=date(2021, 1, 1), valid_to=date(2021, 12, 31),
    )  # fmt: skip
    cap = YearlyCap(entry_id="pilot-2021-cap", programme="counselling", hours=500,
                    valid_from=date(2021, 1, 1), valid_to=date(2021, 12, 31))  # fmt: skip
    for missing_one in (fee, cap):
        assert billing.record_price(missing_one, reference="SON 2020-7")["repriced_sessions"] == 0
    assert billing.record_price(rate, reference="SON 2020-7")["repriced_sessions"] == 1
    [session] = published(billing, "SessionLogged")
    assert (session.rate, session.amount_ore, session.fee_ore) == (Decimal(600), 60_000, 15_000)
    assert billing.worklist() == []
    close_and_check(billing, "2021-11", [old])


# --- logged preparation and follow-up time -----------------------------------------------------


def referral(case_id: uuid.UUID, programme: str) -> ReferralReceived:
    return ReferralReceived.model_validate(
        {
            "case_id": case_id, "source": "s", "referral_id": str(case_id), "programme": programme,
            "basis": "service", "urgency": "normal", "priority": 3,
            "received_at": datetime(2022, 4, 1, tzinfo=UTC), "first_contact_due": "2022-04-15",
            "household": [], "consent": True,
        }
    )  # fmt: skip


def test_logged_preparation_time_is_billed_by_started_quarter_once(billing: Billing) -> None:
    case = uuid.uuid4()
    deliver(billing, [referral(case, "counselling")])
    entry = uuid.uuid4()
    kwargs: dict[str, Any] = dict(
        case_id=case, minutes=50, performed_on=date(2022, 5, 9), activity="preparation",
        entry_id=entry, logged_by="staff-bo",
    )  # fmt: skip
    view = billing.log_time(**kwargs)
    assert billing.log_time(**kwargs) == view  # the same entry again: nothing new
    session = view["session"]
    assert session["meeting_id"] is None and session["billable_quarters"] == 4
    assert (session["amount_ore"], session["fee_ore"]) == (60_500, 0)
    assert len(published(billing, "SessionLogged")) == 1
    with pytest.raises(Conflict, match="other content"):
        billing.log_time(**(kwargs | {"minutes": 51}))
    close_and_check(billing, "2022-05", [])


def test_logged_time_is_refused_for_an_unknown_case_a_fixed_programme_or_the_future(
    billing: Billing,
) -> None:
    with pytest.raises(NotFound, match="not known to billing"):
        billing.log_time(
            case_id=uuid.uuid4(), minutes=30, performed_on=date(2022, 5, 9), activity="follow_up"
        )
    network = uuid.uuid4()
    counselling = uuid.uuid4()
    deliver(billing, [referral(network, "network"), referral(counselling, "counselling")])
    with pytest.raises(BillingError, match="paid by a fixed sum"):
        billing.log_time(
            case_id=network, minutes=30, performed_on=date(2022, 5, 9), activity="follow_up"
        )
    with pytest.raises(BillingError, match="in the future"):
        billing.log_time(
            case_id=counselling, minutes=30, performed_on=date(2024, 1, 21), activity="follow_up"
        )
    with pytest.raises(BillingError, match="minutes"):
        billing.log_time(
            case_id=counselling, minutes=0, performed_on=date(2022, 5, 9), activity="follow_up"
        )


# --- the business calendar ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "month"),
    [
        (datetime(2022, 3, 31, 22, 30, tzinfo=UTC0), "2022-04"),  # 00:30 CEST on 1 April
        (datetime(2022, 3, 31, 21, 59, tzinfo=UTC0), "2022-03"),  # 23:59 CEST on 31 March
        (datetime(2022, 3, 27, 0, 30, tzinfo=UTC0), "2022-03"),  # last Sunday of March, 01:30
        (datetime(2022, 10, 30, 0, 30, tzinfo=UTC0), "2022-10"),  # last Sunday of October
        (datetime(2022, 10, 31, 23, 15, tzinfo=UTC0), "2022-11"),  # 00:15 CET on 1 November
    ],
)
def test_a_session_belongs_to_the_month_of_its_stockholm_date(
    billing: Billing, start: datetime, month: str
) -> None:
    deliver(billing, [held(40, start, 45)])
    [session] = published(billing, "SessionLogged")
    assert session.settlement_month == month
    assert billing.settlement(month)["document"]["billable_hours"] == "0.75"


def test_a_month_is_closed_only_after_it_is_over(billing: Billing, clock: Clock) -> None:
    with pytest.raises(Conflict, match="2024-01 is not over"):
        billing.close_month("2024-01")
    clock.now = datetime(2024, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 February in Stockholm
    assert billing.close_month("2024-01")["month"] == "2024-01"
