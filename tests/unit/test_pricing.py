"""Pricing counselling time: started quarters, the group rule, the calendar and the yearly cap."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.billing import SessionLogged
from events.scheduling import MeetingHeld
from events.types import MeetingFormat, Programme
from infra.calendar import local_date
from services.billing.cap import THRESHOLDS, CallOff, apply_cap, hold_against_cap, split_at_cap
from services.billing.pricing import (
    Billable,
    NotHourlyBilled,
    price_decided,
    price_logged_time,
    price_meeting,
    session_id_for,
)
from services.billing.pricing_groups import (
    DECISIONS,
    DecisionRefused,
    NeedsDecision,
    decision_options,
)
from services.billing.pricing_time import PricingError, amount_ore, started_quarters
from services.billing.session_sources import billable_of, price_source
from services.billing.tariff_seeds import default_catalogue

CATALOGUE = default_catalogue()
CEST = timezone(timedelta(hours=2))
CET = timezone(timedelta(hours=1))
MEETING_ID = UUID("00000000-0000-0000-0000-0000000003e8")
CASE_ID = UUID("00000000-0000-0000-0000-0000000007d0")

# Every minute from 1 to 240 and the started quarter hours it is billed as (003 §1.2).
QUARTER_TABLE = [
    (1, 15, 1), (16, 30, 2), (31, 45, 3), (46, 60, 4),
    (61, 75, 5), (76, 90, 6), (91, 105, 7), (106, 120, 8),
    (121, 135, 9), (136, 150, 10), (151, 165, 11), (166, 180, 12),
    (181, 195, 13), (196, 210, 14), (211, 225, 15), (226, 240, 16),
]  # fmt: skip
EXPECTED_QUARTERS = {m: q for first, last, q in QUARTER_TABLE for m in range(first, last + 1)}


def meeting(
    minutes: float = 60,
    *,
    start: datetime = datetime(2022, 5, 3, 9, 0, tzinfo=CEST),
    end: datetime | None = None,
    format: MeetingFormat = "couple",
    participants: int = 2,
    visits: int = 1,
    programme: Programme = "counselling",
) -> MeetingHeld:
    return MeetingHeld(
        meeting_id=MEETING_ID,
        case_id=CASE_ID,
        programme=programme,
        kind="group_session" if format == "group" else "counselling",
        format=format,
        provider="leanlink",
        staff=["staff-anna"],
        started_at=start,
        ended_at=end if end is not None else start + timedelta(minutes=minutes),
        participants=participants,
        client_visits=visits,
    )


def priced(held: MeetingHeld) -> SessionLogged:
    result = price_meeting(held, CATALOGUE)
    assert isinstance(result, SessionLogged), result
    return result


def test_quarter_table_covers_every_minute_from_1_to_240() -> None:
    assert sorted(EXPECTED_QUARTERS) == list(range(1, 241))


@pytest.mark.parametrize("minutes", range(1, 241))
def test_every_started_quarter_hour_is_billed(minutes: int) -> None:
    quarters = EXPECTED_QUARTERS[minutes]
    assert started_quarters(minutes) == quarters
    session = priced(meeting(minutes))
    assert session.minutes == minutes
    assert session.billable_quarters == quarters
    assert session.client_hours == Decimal(quarters) / 4
    assert session.amount_ore == 15_125 * quarters  # a quarter of 605 SEK


@pytest.mark.parametrize(("minutes", "quarters"), [(0, 0), (1, 1), (45, 3), (61, 5), (80, 6)])
def test_seed_examples_of_started_quarters(minutes: int, quarters: int) -> None:
    assert started_quarters(minutes) == quarters


def test_a_started_minute_counts_as_a_minute() -> None:
    start = datetime(2022, 5, 3, 9, 0, tzinfo=CEST)
    session = priced(meeting(start=start, end=start + timedelta(minutes=45, seconds=1)))
    assert (session.minutes, session.billable_quarters) == (46, 4)


def test_couple_session_of_80_minutes() -> None:
    session = priced(meeting(80))
    assert session.client_hours == Decimal("1.50")
    assert session.amount_ore == 90_750
    assert session.fee_ore == 20_000
    assert session.rate == Decimal("605.00")
    assert session.settlement_month == "2022-05"
    assert session.performed_on == date(2022, 5, 3)
    assert session.session_id == session_id_for(MEETING_ID)
    assert session.tariff_version.startswith("counselling-rate-2022#")


@given(
    rate=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10_000), places=2),
    low=st.integers(min_value=0, max_value=600),
    extra=st.integers(min_value=0, max_value=600),
)
def test_amount_never_falls_when_minutes_grow(rate: Decimal, low: int, extra: int) -> None:
    more = low + extra
    assert amount_ore(rate, started_quarters(low)) <= amount_ore(rate, started_quarters(more))


@given(st.integers(min_value=1, max_value=10_000))
def test_quarters_are_exactly_the_started_quarter_hours(minutes: int) -> None:
    quarters = started_quarters(minutes)
    assert (quarters - 1) * 15 < minutes <= quarters * 15


def test_quarter_amount_is_rounded_half_up_once() -> None:
    # 623.77 SEK/h: a quarter is 15594.25 öre -> 15594; three quarters 46782.75 -> 46783.
    assert amount_ore(Decimal("623.77"), 1) == 15_594
    assert amount_ore(Decimal("623.77"), 3) == 46_783
    assert amount_ore(Decimal("623.78"), 2) == 31_189  # 31189.0 exactly


def test_group_of_seven_for_two_hours_earns_eight_client_hours() -> None:
    session = priced(meeting(120, format="group", participants=7, visits=7))
    assert session.billable_quarters == 8
    assert session.client_hours == Decimal("8.00")
    assert session.amount_ore == 484_000
    assert session.fee_ore == 140_000


def test_quarters_of_group_time_count_four_client_hours_per_group_hour() -> None:
    session = priced(meeting(75, format="group", participants=5))
    assert (session.billable_quarters, session.client_hours) == (5, Decimal("5.00"))


@pytest.mark.parametrize(("minutes", "client_hours"), [(60, "4.00"), (120, "8.00")])
def test_group_rule_covers_one_to_two_hours_inclusive(minutes: int, client_hours: str) -> None:
    assert priced(meeting(minutes, format="group", participants=5)).client_hours == Decimal(
        client_hours
    )


ALL_THREE = ("bill_as_ordinary_time", "bill_as_group", "not_billable")
NEVER_AS_GROUP = ("bill_as_ordinary_time", "not_billable")


@pytest.mark.parametrize(
    ("minutes", "participants", "why", "options"),
    [
        (90, 4, "4 participants; the group rule needs at least 5", NEVER_AS_GROUP),
        (59, 5, "59 minutes; the group rule covers sessions of 60 to 120 minutes", ALL_THREE),
        (121, 8, "121 minutes; the group rule covers sessions of 60 to 120 minutes", ALL_THREE),
    ],
)
def test_group_session_outside_the_rule_needs_a_decision(
    minutes: int, participants: int, why: str, options: tuple[str, ...]
) -> None:
    result = price_meeting(meeting(minutes, format="group", participants=participants), CATALOGUE)
    assert isinstance(result, NeedsDecision)
    assert result.reason == f"group session not clearly covered by the group rule: {why}"
    assert (result.meeting_id, result.minutes, result.participants) == (
        MEETING_ID,
        minutes,
        participants,
    )
    assert result.settlement_month == "2022-05"
    assert result.options == options


def test_both_gaps_are_named() -> None:
    result = price_meeting(meeting(45, format="group", participants=3), CATALOGUE)
    assert isinstance(result, NeedsDecision)
    assert "3 participants" in result.reason and "45 minutes" in result.reason
    assert result.options == NEVER_AS_GROUP  # too few participants: never as a group


def test_five_participants_is_enough_four_is_not() -> None:
    assert isinstance(priced(meeting(90, format="group", participants=5)), SessionLogged)
    needs = price_meeting(meeting(90, format="group", participants=4), CATALOGUE)
    assert isinstance(needs, NeedsDecision)


def test_decided_group_session_is_priced_as_decided() -> None:
    held = meeting(90, format="group", participants=4, visits=4)
    ordinary = price_decided(held, "bill_as_ordinary_time", CATALOGUE)
    nothing = price_decided(held, "not_billable", CATALOGUE)
    assert (ordinary.client_hours, ordinary.amount_ore) == (Decimal("1.50"), 90_750)
    assert (nothing.client_hours, nothing.amount_ore) == (Decimal("0.00"), 0)
    assert ordinary.fee_ore == nothing.fee_ore == 80_000
    assert ordinary.session_id == nothing.session_id == session_id_for(MEETING_ID)
    longer = meeting(135, format="group", participants=6, visits=6)  # 2 h 15 min: a person's call
    group = price_decided(longer, "bill_as_group", CATALOGUE)
    assert (group.billable_quarters, group.client_hours) == (9, Decimal("9.00"))
    assert (group.amount_ore, group.fee_ore) == (544_500, 120_000)


@pytest.mark.parametrize("participants", [0, 1, 2, 3, 4])
def test_a_group_of_fewer_than_five_is_never_billed_as_a_group(participants: int) -> None:
    """003 §1.2: four client hours per group hour "med minst 5 deltagare"."""
    held = meeting(90, format="group", participants=participants, visits=participants)
    with pytest.raises(DecisionRefused, match="at least 5 participants"):
        price_decided(held, "bill_as_group", CATALOGUE)
    with pytest.raises(DecisionRefused):
        billable_of(held, "bill_as_group", CATALOGUE)
    assert decision_options(participants) == NEVER_AS_GROUP


@given(
    minutes=st.integers(min_value=1, max_value=300),
    participants=st.integers(min_value=0, max_value=12),
)
def test_only_the_duration_leaves_billing_as_a_group_to_a_person(
    minutes: int, participants: int
) -> None:
    result = price_meeting(meeting(minutes, format="group", participants=participants), CATALOGUE)
    if participants < 5:
        assert isinstance(result, NeedsDecision) and "bill_as_group" not in result.options
    elif 60 <= minutes <= 120:
        assert isinstance(result, SessionLogged)
        assert result.client_hours == started_quarters(minutes)  # 4 per group hour
    else:
        assert isinstance(result, NeedsDecision) and result.options == ALL_THREE


@pytest.mark.parametrize(
    ("start", "month"),
    [
        (datetime(2022, 5, 31, 23, 15, tzinfo=CEST), "2022-05"),
        (datetime(2022, 5, 31, 22, 30, tzinfo=UTC), "2022-06"),  # 00:30 on 1 June locally
        (datetime(2022, 3, 31, 22, 30, tzinfo=UTC), "2022-04"),  # contracts.md's example
        # 2024-03-31 is the last Sunday of March: summer time starts on the month's last day.
        (datetime(2024, 3, 31, 0, 30, tzinfo=CET), "2024-03"),
        (datetime(2024, 3, 31, 23, 30, tzinfo=CEST), "2024-03"),
        (datetime(2024, 3, 31, 22, 30, tzinfo=UTC), "2024-04"),
        # 2027-10-31 is the last Sunday of October: winter time starts on the month's last day.
        (datetime(2027, 10, 31, 23, 30, tzinfo=CET), "2027-10"),
        (datetime(2027, 10, 31, 23, 30, tzinfo=UTC), "2027-11"),
        (datetime(2027, 10, 31, 22, 59, tzinfo=UTC), "2027-10"),
    ],
)
def test_settlement_month_is_the_local_month_of_the_start(start: datetime, month: str) -> None:
    session = priced(meeting(30, start=start))
    assert session.settlement_month == month
    assert session.performed_on == local_date(start)


def test_meeting_across_the_spring_change_lasts_its_real_time() -> None:
    start = datetime(2024, 3, 31, 1, 30, tzinfo=CET)
    session = priced(meeting(start=start, end=datetime(2024, 3, 31, 3, 30, tzinfo=CEST)))
    assert (session.minutes, session.billable_quarters) == (60, 4)


def test_meeting_across_the_autumn_change_lasts_its_real_time() -> None:
    start = datetime(2027, 10, 31, 2, 30, tzinfo=CEST)
    session = priced(meeting(start=start, end=datetime(2027, 10, 31, 2, 30, tzinfo=CET)))
    assert (session.minutes, session.billable_quarters) == (60, 4)


def test_meeting_ending_before_it_starts_is_refused() -> None:
    start = datetime(2022, 5, 3, 9, 0, tzinfo=CEST)
    with pytest.raises(PricingError, match="before it starts"):
        price_meeting(meeting(start=start, end=start - timedelta(minutes=1)), CATALOGUE)


def test_naive_time_has_no_business_date() -> None:
    # Billing takes its business date from infra.calendar, which refuses with a ValueError.
    with pytest.raises(ValueError, match="no offset"):
        local_date(datetime(2022, 5, 3, 9, 0))


def test_fixed_price_programmes_are_not_priced_by_the_hour() -> None:
    with pytest.raises(NotHourlyBilled):
        price_meeting(meeting(60, programme="network"), CATALOGUE)


def test_logged_preparation_time_is_billed_by_started_quarter_without_a_fee() -> None:
    session = price_logged_time(
        session_id=UUID(int=7),
        case_id=CASE_ID,
        programme="counselling",
        provider="leanlink",
        performed_on=date(2022, 5, 31),
        minutes=20,
        catalogue=CATALOGUE,
    )
    assert session.meeting_id is None
    assert (session.billable_quarters, session.client_hours) == (2, Decimal("0.50"))
    assert (session.amount_ore, session.fee_ore) == (30_250, 0)
    assert session.settlement_month == "2022-05"


# --- the yearly cap ----------------------------------------------------------------------------


def test_thresholds_are_reported_when_crossed() -> None:
    assert split_at_cap(Decimal("2071.75"), Decimal("0.25"), 2590, (), 2022).thresholds_crossed == (
        80,
    )
    assert split_at_cap(Decimal("2000"), Decimal("600"), 2590, (), 2022).thresholds_crossed == (
        80,
        95,
        100,
    )
    assert split_at_cap(Decimal("2072"), Decimal("1"), 2590, (), 2022).thresholds_crossed == ()


def test_hours_beyond_the_cap_are_not_billed() -> None:
    split = split_at_cap(Decimal("2589.5"), Decimal("1.5"), 2590, (), 2022)
    assert (split.billed_hours, split.over_cap_hours) == (Decimal("0.5"), Decimal("1.0"))
    assert split.billed_after == Decimal("2590.0") and split.thresholds_crossed == (100,)
    after = split_at_cap(Decimal(2590), Decimal(2), 2590, (), 2022)
    assert (after.billed_hours, after.over_cap_hours) == (Decimal(0), Decimal(2))
    assert after.thresholds_crossed == ()


def test_a_call_off_of_the_same_year_raises_the_limit() -> None:
    call_offs = (CallOff("AVROP-1", 2022, Decimal(10)), CallOff("AVROP-OLD", 2021, Decimal(50)))
    split = split_at_cap(Decimal("2589.5"), Decimal("1.5"), 2590, call_offs, 2022)
    assert (split.billed_hours, split.over_cap_hours, split.limit_hours) == (
        Decimal("1.5"),
        Decimal(0),
        Decimal(2600),
    )


def test_call_off_must_be_whole_quarters() -> None:
    with pytest.raises(PricingError):
        CallOff("AVROP-2", 2022, Decimal("0.1"))


@given(
    st.lists(st.integers(min_value=0, max_value=40), max_size=200),
    st.lists(st.integers(min_value=1, max_value=400), max_size=3),
)
def test_cap_is_never_exceeded_without_a_call_off(quarters: list[int], extra: list[int]) -> None:
    call_offs = tuple(CallOff(f"A{i}", 2022, Decimal(q) / 4) for i, q in enumerate(extra))
    cap = 300  # small, so that the sessions drawn reach it
    for offs, limit in (((), Decimal(cap)), (call_offs, cap + sum(Decimal(q) / 4 for q in extra))):
        billed = Decimal(0)
        for q in quarters:
            split = split_at_cap(billed, Decimal(q) / 4, cap, offs, 2022)
            assert split.billed_hours + split.over_cap_hours == Decimal(q) / 4
            billed = split.billed_after
            assert billed <= limit
        assert billed == min(limit, sum((Decimal(q) / 4 for q in quarters), Decimal(0)))


def test_cap_reprices_the_billed_part_of_a_session() -> None:
    session = priced(meeting(120, format="group", participants=7, visits=7))
    outcome = apply_cap(session, Decimal("2587"), (), CATALOGUE)
    assert outcome.split.over_cap_hours == Decimal(5)
    assert outcome.session.client_hours == Decimal("3.00")
    assert outcome.session.amount_ore == 181_500
    assert (outcome.session.minutes, outcome.session.fee_ore) == (120, 140_000)
    assert "counselling-cap-2022#" in outcome.session.tariff_version
    untouched = apply_cap(session, Decimal(0), (), CATALOGUE)
    assert untouched.session == session


@given(
    before=st.integers(min_value=0, max_value=4 * 2700).map(lambda q: Decimal(q) / 4),
    hours=st.integers(min_value=0, max_value=64).map(lambda q: Decimal(q) / 4),
    cap=st.integers(min_value=0, max_value=2700),
    extra=st.lists(st.integers(min_value=1, max_value=400), max_size=3),
)
def test_the_cap_split_is_its_definition(
    before: Decimal, hours: Decimal, cap: int, extra: list[int]
) -> None:
    offs = [CallOff(f"A{i}", 2022 + i % 2, Decimal(q) / 4) for i, q in enumerate(extra)]
    split = split_at_cap(before, hours, cap, offs, 2022)
    limit = cap + sum((o.hours for o in offs if o.year == 2022), Decimal(0))
    billed = min(hours, max(Decimal(0), limit - before))
    assert (split.limit_hours, split.billed_hours) == (limit, billed)
    assert (split.over_cap_hours, split.billed_after) == (hours - billed, before + billed)
    crossed = tuple(t for t in THRESHOLDS if before < limit * t / 100 <= before + billed)
    assert split.thresholds_crossed == crossed


@given(
    minutes=st.integers(min_value=1, max_value=300),
    format=st.sampled_from(["individual", "couple", "group"]),
    participants=st.integers(min_value=1, max_value=9),
    decision=st.sampled_from([None, *DECISIONS]),
    before=st.integers(min_value=0, max_value=4 * 2700).map(lambda q: Decimal(q) / 4),
    extra=st.lists(st.integers(min_value=1, max_value=400), max_size=2),
)
def test_the_hours_a_replay_derives_are_those_pricing_bills(
    minutes: int,
    format: MeetingFormat,
    participants: int,
    decision: str | None,
    before: Decimal,
    extra: list[int],
) -> None:
    """A replay holds sessions of other months against the cap without pricing them in full
    (``services/billing/replay.py``): the hours must be exactly those of the full pricing."""
    held = meeting(minutes, format=format, participants=participants, visits=participants)
    offs = [CallOff(f"A{i}", 2022, Decimal(q) / 4) for i, q in enumerate(extra)]
    if decision == "bill_as_group" and participants < 5:  # never a group (003 §1.2)
        with pytest.raises(DecisionRefused):
            billable_of(held, decision, CATALOGUE)
        with pytest.raises(DecisionRefused):
            price_source(held, decision, CATALOGUE)
        return
    billable = billable_of(held, decision, CATALOGUE)  # type: ignore[arg-type]
    session = price_source(held, decision, CATALOGUE)  # type: ignore[arg-type]
    if isinstance(session, NeedsDecision):
        assert billable == session
        return
    assert isinstance(billable, Billable)
    assert (billable.programme, billable.performed_on) == (session.programme, session.performed_on)
    assert (billable.minutes, billable.quarters) == (session.minutes, session.billable_quarters)
    assert billable.client_hours == session.client_hours
    outcome = apply_cap(session, before, offs, CATALOGUE)
    held_hours = hold_against_cap(
        billable.programme, billable.performed_on, billable.client_hours, before, offs,
        CATALOGUE, session.session_id,
    )  # fmt: skip
    assert held_hours.split == outcome.split
    assert held_hours.billed_hours(billable.client_hours) == outcome.session.client_hours
