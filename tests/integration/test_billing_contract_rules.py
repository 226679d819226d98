"""Issue 14's money rules through billing's store (SQLite and PostgreSQL): the month is closed,
replayed from the log and computed offline from the export, and all three must agree."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.scheduling import MeetingHeld
from infra.settings import Settings
from infra.store import store_env
from services.billing import settlement
from services.billing.application import Billing
from services.billing.errors import BillingError
from services.billing.offline import compute_from_export
from services.billing.pricing import session_id_for
from services.billing.replay import replay_month
from services.billing.tariff_entries import YearlyCap
from services.billing.tariff_seeds import default_catalogue
from tests.support.billing import Clock, close_and_check, deliver, export, published

CEST = timezone(timedelta(hours=2))
CET = timezone(timedelta(hours=1))


def held(n: int, start: datetime, minutes: int, **over: Any) -> MeetingHeld:
    fields: dict[str, Any] = {
        "meeting_id": uuid.UUID(int=7000 + n),
        "case_id": uuid.UUID(int=8000 + n % 3),
        "programme": "counselling",
        "kind": "counselling",
        "format": "couple",
        "provider": "leanlink",
        "staff": ["staff-bo"],
        "started_at": start,
        "ended_at": start + timedelta(minutes=minutes),
        "participants": 2,
        "client_visits": 1,
    }
    return MeetingHeld(**(fields | over))


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 1, 20, 12, tzinfo=UTC))


@pytest.fixture
def billing(store_settings: Settings, clock: Clock) -> Iterator[Billing]:
    app = Billing(store_env(store_settings, "billing"), clock=clock)
    app.record_default_tariffs()
    yield app
    app.close()


def test_a_month_closed_under_the_first_rules_replays_saying_so_first(
    billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting = held(1, datetime(2022, 5, 3, 9, tzinfo=CEST), 45)
    deliver(billing, [meeting])
    with monkeypatch.context() as patched:
        patched.setattr(settlement, "DOCUMENT_VERSION", 1)
        billing.close_month("2022-05")
    first, *rest = replay_month(billing, "2022-05").differences
    assert first == (
        "2022-05 was closed under settlement document version 1; this replay applies version 3 "
        "(docs/billing.md, document versions)"
    )
    assert any(r.startswith("document_version: closed 1, replayed 3") for r in rest)


def test_the_joint_contracts_partial_years_close_and_replay_exactly(billing: Billing) -> None:
    documents = [close_and_check(billing, f"2018-{m:02d}", []) for m in range(9, 13)]
    amounts = [
        line["amount_ore"] for d in documents for line in d["lines"] if line["kind"] == "fixed"
    ]
    assert sum(amounts) == 93_333_333


def test_a_meeting_with_no_price_waits_in_the_service_and_offline_alike(billing: Billing) -> None:
    """Issue 14, Money 5: offline, a meeting with no price in force is listed as waiting."""
    before_contract = held(2, datetime(2021, 11, 5, 10, tzinfo=CEST), 60)
    may = held(3, datetime(2022, 5, 5, 10, tzinfo=CEST), 60)
    deliver(billing, [before_contract, may])
    live = billing.settlement("2021-11")["document"]
    [waiting] = live["awaiting_price"]
    assert waiting["meeting_id"] == str(before_contract.meeting_id)
    assert "counselling hourly rate is not known for 2021-11-05" in waiting["reason"]
    lines = export(billing, [before_contract, may])
    for month in ("2021-11", "2022-05"):
        offline = compute_from_export(lines, month, None, default_catalogue())
        assert offline == billing.settlement(month)["document"]
    close_and_check(billing, "2022-05", [before_contract, may])


# --- only Leanlink's own time is Leanlink's to bill (issue 14, Money 1) ---------------------


def test_the_other_providers_meetings_are_reported_apart_never_billed(billing: Billing) -> None:
    ours = [held(10, datetime(2022, 5, 3, 9, tzinfo=CEST), 45),
            held(11, datetime(2022, 5, 4, 9, tzinfo=CEST), 80)]  # fmt: skip
    theirs = [
        held(12, datetime(2022, 5, 4, 10, tzinfo=CEST), 120, provider="other_provider",
             kind="group_session", format="group", participants=7, client_visits=7),
        held(13, datetime(2022, 5, 5, 9, tzinfo=CEST), 60, provider="other_provider"),
    ]  # fmt: skip
    deliver(billing, [*ours, *theirs])
    logged = published(billing, "SessionLogged")
    assert sorted(s.meeting_id for s in logged) == [m.meeting_id for m in ours]
    apart = published(billing, "SessionReportedApart")
    assert sorted(r.meeting_id for r in apart) == [m.meeting_id for m in theirs]
    document = billing.settlement("2022-05", "counselling")["document"]
    assert (document["total_ore"], document["billable_hours"], document["fees_ore"]) == (
        45_375 + 90_750, "2.25", 40_000,
    )  # fmt: skip
    [row] = document["other_providers"]
    assert (row["provider"], row["meetings"], row["minutes"], row["client_visits"]) == (
        "other_provider", 2, 180, 8,
    )  # fmt: skip
    assert billing.cap_usage("counselling", 2022)["billed_hours"] == "2.25"
    assert billing.session(session_id_for(theirs[0].meeting_id))["status"] == "reported_apart"
    close_and_check(billing, "2022-05", [*ours, *theirs])


def test_an_other_providers_meeting_after_its_month_closed_is_reported_on_the_next(
    billing: Billing,
) -> None:
    billing.close_month("2022-05")
    late = held(14, datetime(2022, 5, 31, 16, tzinfo=CEST), 60, provider="other_provider")
    deliver(billing, [late])
    june = close_and_check(billing, "2022-06", [late])
    assert [(r["month_held"], r["meetings"]) for r in june["other_providers"]] == [("2022-05", 1)]
    counselling = billing.closed_document("2022-06", "counselling")
    assert counselling is not None and counselling["lines"] == []
    assert counselling["total_ore"] == 0 and counselling["fees_ore"] == 0


def test_time_of_the_other_provider_is_not_logged_for_leanlink(billing: Billing) -> None:
    case = held(15, datetime(2022, 5, 3, 9, tzinfo=CEST), 45)
    deliver(billing, [case])
    with pytest.raises(BillingError, match="not Leanlink's to bill"):
        billing.log_time(
            case_id=case.case_id, minutes=30, performed_on=date(2022, 5, 3),
            activity="preparation", provider="other_provider",
        )  # fmt: skip


# --- the yearly cap goes in the order sessions were performed (issue 14, Money 5) -------------

TEN_HOURS = YearlyCap(
    entry_id="cap-2023-test", programme="counselling", hours=10, valid_from=date(2023, 1, 1)
)


def two_hours(n: int, day: date, hour: int = 9) -> MeetingHeld:
    return held(n, datetime(day.year, day.month, day.day, hour, tzinfo=CET), 120)


def tariff_lines(app: Billing) -> list[str]:
    """What an export says of the tariffs (the cap recorded for the test), and nothing else."""
    _, out = app.outbox(0, 100_000)
    return [
        json.dumps({"stream": o.stream, "type": o.message.type_name, "version": 1,
                    "id": str(o.id), "data": o.message.model_dump(mode="json")})
        for o in out
        if o.message.type_name in ("TariffRecorded", "CallOffRecorded")
    ]  # fmt: skip


def scheduling_lines(meetings: Iterable[MeetingHeld]) -> list[str]:
    return [
        json.dumps({"stream": "scheduling.events", "type": "MeetingHeld", "version": 1,
                    "id": str(uuid.uuid4()), "data": m.model_dump(mode="json")})
        for m in meetings
    ]  # fmt: skip


def test_the_cap_goes_in_the_order_performed_whatever_order_they_are_recorded(
    billing: Billing,
) -> None:
    billing.record_price(TEN_HOURS, reference="SON 2022-99")
    february = [two_hours(20 + d, date(2023, 2, 1 + d)) for d in range(6)]  # 12 h for a 10 h cap
    for meeting in reversed(february):  # recorded held last first
        deliver(billing, [meeting])
    now = {s.session_id: s for s in published(billing, "SessionLogged")}
    now |= {r.session_id: r for r in published(billing, "SessionRecut")}
    billed = [now[session_id_for(m.meeting_id)].client_hours for m in february]
    assert billed == [Decimal("2.00")] * 5 + [Decimal("0.00")]  # the last performed, not recorded
    assert billing.cap_usage("counselling", 2023)["billed_hours"] == "10.00"
    document = billing.settlement("2023-02", "counselling")["document"]
    assert document["billable_hours"] == "10.00" and document["total_ore"] == 10 * 60_500
    from_scratch = compute_from_export(
        tariff_lines(billing) + scheduling_lines(february), "2023-02", "counselling",
        default_catalogue(),
    )  # fmt: skip
    assert from_scratch == document
    close_and_check(billing, "2023-02", february)


def test_a_closed_months_sessions_keep_their_hours_and_a_late_one_takes_from_open_months(
    billing: Billing, clock: Clock
) -> None:
    billing.record_price(TEN_HOURS, reference="SON 2022-99")
    january = [two_hours(30 + d, date(2023, 1, 10 + d)) for d in range(4)]  # 8 h
    deliver(billing, january)
    billing.close_month("2023-01")
    february = [two_hours(40 + d, date(2023, 2, 1 + d)) for d in range(3)]  # 2 h fit
    deliver(billing, february)
    late = two_hours(50, date(2023, 1, 5))  # held in January, recorded after it closed
    deliver(billing, [late])
    [recut] = published(billing, "SessionRecut")
    assert recut.session_id == session_id_for(february[0].meeting_id)
    assert recut.client_hours == Decimal("0.00") and recut.given_to == session_id_for(
        late.meeting_id
    )
    closed = billing.closed_document("2023-01", "counselling")
    assert closed is not None and closed["billable_hours"] == "8.00"
    feb = close_and_check(billing, "2023-02", [*january, *february, late])
    [adjustment] = [line for line in feb["lines"] if line["kind"] == "adjustment"]
    assert (adjustment["belongs_to_month"], adjustment["client_hours"]) == ("2023-01", "2.00")
    assert feb["billable_hours"] == "2.00"  # February gave its 2 hours to the late session


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_recording_order_bills_what_the_offline_computation_bills(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """The service given the meetings of a month in any order, in any batches, and the offline
    computation given them alone agree to the byte while the month is open, cap included."""
    count = data.draw(st.integers(1, 14))
    meetings = [
        held(60 + n, datetime(2023, 3, 1 + data.draw(st.integers(0, 27)),
                              8 + data.draw(st.integers(0, 9)), tzinfo=CET),
             data.draw(st.sampled_from([30, 60, 80, 120])))
        for n in range(count)
    ]  # fmt: skip
    order = data.draw(st.permutations(meetings))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, count - 1)), max_size=3)))
    var = tmp_path_factory.mktemp("billing")
    app = Billing(store_env(settings.model_copy(update={"var_dir": var}), "billing"),
                  clock=Clock(datetime(2024, 1, 20, 12, tzinfo=UTC)))  # fmt: skip
    try:
        app.record_default_tariffs()
        app.record_price(TEN_HOURS, reference="SON 2022-99")
        for batch in (order[a:b] for a, b in zip([0, *cuts], [*cuts, count], strict=True)):
            if batch:
                deliver(app, batch)
        document = app.settlement("2023-03")["document"]
        lines = tariff_lines(app) + scheduling_lines(meetings)
        assert compute_from_export(lines, "2023-03", None, default_catalogue()) == document
        assert Decimal(document["billable_hours"]) <= 10
    finally:
        app.close()
