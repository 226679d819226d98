"""The month-end grace window, the open month's preview and the cap forecast, over a real store.

March 2026 ends on a Tuesday; with a grace window of 3 business days it counts 1 and 2 April,
skips Good Friday (3 April), the Easter weekend and Easter Monday (6 April), and counts 7 April:
the window ends at 2026-04-08 00:00 Europe/Stockholm (CEST, after the change of 29 March).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from events.codec import encode
from events.scheduling import MeetingHeld
from infra.auth import Role
from infra.runtime import Periodic, Runtime
from infra.settings import Settings
from infra.store import store_env
from lots.settlement_cli import settlement_app
from services.billing.app import make_app, periodic
from services.billing.application import Billing
from services.billing.errors import Conflict, MonthClosed
from services.billing.grace import GRACE_CLOSER, grace_ends
from services.billing.http import router_for
from services.billing.offline import compute_from_export
from services.billing.replay import replay_month
from services.billing.settlement import canonical_json
from services.billing.tariff_entries import ClientFee, ContractTerm, HourlyRate, YearlyCap
from services.billing.tariff_seeds import default_catalogue
from tests.integration.test_billing_sessions import export, held
from tests.support.auth import api, headers
from tests.support.billing import Clock, deliver, published
from tests.support.flow import eventually

CEST = timezone(timedelta(hours=2))
CET = timezone(timedelta(hours=1))
MARCH_GRACE_ENDS = datetime(2026, 4, 8, tzinfo=CEST)


def app_for(settings: Settings, clock: Clock, *, grace_days: int = 3, **kw: Any) -> Billing:
    app = Billing(store_env(settings, "billing"), clock=clock, grace_days=grace_days, **kw)
    app.record_default_tariffs()
    return app


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 31, 12, tzinfo=CEST))


@pytest.fixture
def billing(settings: Settings, clock: Clock) -> Iterator[Billing]:
    app = app_for(settings, clock)
    yield app
    app.close()


def march_and_april(app: Billing, clock: Clock, late_at: datetime) -> list[Any]:
    """Two sessions held in March; the second reported at ``late_at``; one held in April."""
    meetings = [
        held(1, datetime(2026, 3, 10, 9, tzinfo=CET), 45),
        held(2, datetime(2026, 3, 31, 15, tzinfo=CEST), 60),
        held(3, datetime(2026, 4, 14, 9, tzinfo=CEST), 30),
    ]
    clock.now = datetime(2026, 3, 31, 18, tzinfo=CEST)
    deliver(app, meetings[:1])
    clock.now = late_at
    deliver(app, meetings[1:2])
    clock.now = datetime(2026, 4, 20, 9, tzinfo=CEST)
    deliver(app, meetings[2:])
    return meetings


def test_the_grace_window_of_march_2026_ends_after_easter() -> None:
    assert grace_ends("2026-03", 3) == MARCH_GRACE_ENDS
    assert grace_ends("2026-03", 0) == datetime(2026, 4, 1, tzinfo=CEST)


def test_a_late_session_inside_the_grace_window_lands_in_its_own_month(
    billing: Billing, clock: Clock
) -> None:
    late_at = MARCH_GRACE_ENDS - timedelta(microseconds=1)
    meetings = march_and_april(billing, clock, late_at)
    assert published(billing, "AdjustmentRecorded") == []
    assert billing.settlement("2026-03")["status"] == "open"  # until the periodic job runs
    assert billing.close_due_months() == ["2026-03"]
    march = billing.settlement("2026-03")
    assert march["status"] == "closed" and march["closed_by"] == GRACE_CLOSER
    assert march["grace"] == {
        "grace_days": 3,
        "grace_ends": "2026-04-08T00:00:00+02:00",
        "close": "automatic",
    }
    [line] = [x for x in march["document"]["lines"] if x["kind"] == "hourly"]
    assert line["sessions"] == 2 and line["minutes"] == 105
    clock.now = datetime(2026, 5, 20, tzinfo=CEST)
    assert billing.close_due_months() == ["2026-04"]
    for month in ("2026-03", "2026-04"):
        replayed = replay_month(billing, month)
        assert replayed.differences == ()
    offline = compute_from_export(export(billing, meetings), "2026-03", None, default_catalogue())
    assert offline == march["document"]


def test_a_late_session_after_the_grace_window_becomes_an_adjustment_on_the_next_open_month(
    billing: Billing, clock: Clock
) -> None:
    meetings = march_and_april(billing, clock, MARCH_GRACE_ENDS)
    [adjustment] = published(billing, "AdjustmentRecorded")
    assert (adjustment.month, adjustment.belongs_to_month) == ("2026-04", "2026-03")
    [closed] = published(billing, "SettlementClosed")
    assert closed.month == "2026-03"
    march = billing.settlement("2026-03")
    [line] = [x for x in march["document"]["lines"] if x["kind"] == "hourly"]
    assert line["sessions"] == 1 and march["closed_at"] == MARCH_GRACE_ENDS.isoformat()
    clock.now = datetime(2026, 5, 20, tzinfo=CEST)  # April's window is long over
    assert billing.close_due_months() == ["2026-04"]
    april = billing.settlement("2026-04")["document"]
    assert [x["belongs_to_month"] for x in april["lines"] if x["kind"] == "adjustment"] == [
        "2026-03"
    ]
    for month in ("2026-03", "2026-04"):
        first, second = replay_month(billing, month), replay_month(billing, month)
        assert first.differences == () and second.differences == ()
        assert canonical_json(first.document) == canonical_json(second.document)
        closed_document = billing.closed_document(month)
        assert closed_document is not None
        assert canonical_json(first.document) == canonical_json(closed_document)
        offline = compute_from_export(export(billing, meetings), month, None, default_catalogue())
        assert offline == closed_document


def test_the_same_arrivals_give_byte_identical_months_in_another_store(
    settings: Settings, tmp_path: Any
) -> None:
    digests = []
    for run in range(2):
        clock = Clock(datetime(2026, 3, 31, 12, tzinfo=CEST))
        other = settings.model_copy(update={"var_dir": tmp_path / f"run{run}"})
        app = app_for(other, clock)
        try:
            march_and_april(app, clock, MARCH_GRACE_ENDS + timedelta(hours=1))
            clock.now = datetime(2026, 5, 20, tzinfo=CEST)
            app.close_due_months()
            digests.append(
                [app.settlement(m)["document"]["digest"] for m in ("2026-03", "2026-04")]
            )
        finally:
            app.close()
    assert digests[0] == digests[1]


def test_closing_by_hand_in_the_grace_window_is_refused_unless_early(
    billing: Billing, clock: Clock
) -> None:
    deliver(billing, [held(1, datetime(2026, 3, 10, 9, tzinfo=CET), 45)])
    clock.now = datetime(2026, 4, 7, 23, 59, tzinfo=CEST)
    with pytest.raises(Conflict, match=r"grace window of 3 business day.*2026-04-08 00:00"):
        billing.close_month("2026-03", "ebba")
    assert billing.settlement("2026-03")["status"] == "open"
    document = billing.close_month("2026-03", "ebba", early=True)
    march = billing.settlement("2026-03")
    assert march["document"] == document and march["closed_by"] == "ebba"
    assert march["grace"]["close"] == "early"
    # The window is over for it: a session of March reported now is an adjustment on April.
    deliver(billing, [held(2, datetime(2026, 3, 31, 15, tzinfo=CEST), 60)])
    [adjustment] = published(billing, "AdjustmentRecorded")
    assert (adjustment.month, adjustment.belongs_to_month) == ("2026-04", "2026-03")
    with pytest.raises(MonthClosed):
        billing.close_month("2026-03", early=True)


def test_after_the_window_a_month_not_yet_closed_by_billing_may_be_closed_by_hand(
    billing: Billing, clock: Clock
) -> None:
    deliver(billing, [held(1, datetime(2026, 3, 10, 9, tzinfo=CET), 45)])
    clock.now = MARCH_GRACE_ENDS
    billing.close_month("2026-03", "ebba")
    assert billing.settlement("2026-03")["grace"]["close"] == "by_hand"
    assert billing.close_due_months() == []


def test_without_a_grace_window_billing_works_as_before(settings: Settings, clock: Clock) -> None:
    app = app_for(settings, clock, grace_days=0)
    try:
        deliver(app, [held(1, datetime(2026, 3, 10, 9, tzinfo=CET), 45)])
        clock.now = datetime(2026, 9, 1, tzinfo=CEST)
        deliver(app, [held(2, datetime(2026, 3, 31, 15, tzinfo=CEST), 60)])
        assert published(app, "AdjustmentRecorded") == []
        assert app.close_due_months() == []
        assert app.settlement("2026-03")["status"] == "open"
        assert app.close_month("2026-03")["lines"][0]["sessions"] == 2
        assert app.settlement("2026-03")["grace"]["close"] == "by_hand"
    finally:
        app.close()


def test_the_periodic_job_closes_only_months_billing_has_a_settlement_for(
    billing: Billing, clock: Clock
) -> None:
    deliver(billing, [held(1, datetime(2026, 3, 10, 9, tzinfo=CET), 45)])
    clock.now = MARCH_GRACE_ENDS - timedelta(seconds=1)
    assert billing.close_due_months() == []
    clock.now = MARCH_GRACE_ENDS
    assert billing.close_due_months() == ["2026-03"]
    assert billing.close_due_months() == []
    assert billing.settlement("2026-02")["status"] == "open"  # nothing was ever booked on it


def test_a_month_waiting_for_a_price_stays_open_past_its_window_until_it_is_priced(
    billing: Billing, clock: Clock
) -> None:
    clock.now = datetime(2021, 11, 20, tzinfo=CET)
    deliver(billing, [held(33, datetime(2021, 11, 5, 10, tzinfo=CET), 60)])
    [item] = billing.worklist()
    assert (item["need"], item["month"]) == ("price", "2021-11")
    clock.now = datetime(2022, 1, 20, tzinfo=CET)
    assert billing.close_due_months() == []  # it cannot close, so it is left open
    assert billing.settlement("2021-11")["status"] == "open"
    for entry in (
        ContractTerm(
            entry_id="pilot-2021-term", contract="counselling-pilot-2021",
            programmes=("counselling",), billing="hourly", valid_from=date(2021, 1, 1),
            valid_to=date(2021, 12, 31),
        ),
        HourlyRate(
            entry_id="pilot-2021-rate", programme="counselling", sek_per_hour=Decimal(600),
            price_level_year=2021, valid_from=date(2021, 1, 1), valid_to=date(2021, 12, 31),
        ),
        ClientFee(
            entry_id="pilot-2021-fee", programme="counselling", ore_per_visit=15_000,
            price_level_year=2021, valid_from=date(2021, 1, 1), valid_to=date(2021, 12, 31),
        ),
        YearlyCap(
            entry_id="pilot-2021-cap", programme="counselling", hours=500,
            valid_from=date(2021, 1, 1), valid_to=date(2021, 12, 31),
        ),
    ):  # fmt: skip
        billing.record_price(entry, reference="SON 2020-7")
    # Priced in the month that waited for it; then billing closes that month itself.
    assert published(billing, "AdjustmentRecorded") == []
    assert billing.close_due_months() == ["2021-11"]
    assert billing.settlement("2021-11")["document"]["lines"][0]["sessions"] == 1
    assert replay_month(billing, "2021-11").differences == ()


# --- preview --------------------------------------------------------------------------------


def test_the_preview_equals_the_close_when_nothing_changes_in_between(
    billing: Billing, clock: Clock
) -> None:
    deliver(billing, [held(1, datetime(2026, 3, 10, 9, tzinfo=CET), 45)])
    clock.now = datetime(2026, 4, 2, 10, tzinfo=CEST)
    position = billing.recorder.max_notification_id()
    preview = billing.preview("2026-03")
    assert billing.recorder.max_notification_id() == position  # nothing recorded
    assert (preview["preview"], preview["final"], preview["status"]) == (True, False, "in_grace")
    assert preview["closable"] is False and "grace window" in preview["close_refusal"]
    assert preview["grace"]["grace_ends"] == MARCH_GRACE_ENDS.isoformat()
    clock.now = MARCH_GRACE_ENDS
    again = billing.preview("2026-03")
    assert again["status"] == "over" and again["closable"] is True
    assert again["document"] == preview["document"]
    assert billing.close_due_months() == ["2026-03"]
    closed = billing.closed_document("2026-03")
    assert closed == preview["document"]
    with pytest.raises(MonthClosed, match="final"):
        billing.preview("2026-03")


def test_the_preview_of_the_current_month_follows_its_sessions(
    billing: Billing, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 12, 9, tzinfo=CET)
    before = billing.preview("2026-03", "counselling")
    deliver(billing, [held(1, datetime(2026, 3, 10, 9, tzinfo=CET), 45)])
    after = billing.preview("2026-03", "counselling")
    assert before["status"] == "current" and "not over" in before["close_refusal"]
    assert after["document"]["total_ore"] > before["document"]["total_ore"]


# --- the cap forecast -------------------------------------------------------------------------


def counselling_weeks(
    app: Billing, first: int, weeks: int, per_day: int, minutes: int = 60
) -> None:
    """``per_day`` sessions on every weekday of ``weeks`` weeks from 2 March 2026."""
    n = first
    start = date(2026, 3, 2)
    for day in (start + timedelta(days=d) for d in range(7 * weeks)):
        if day.weekday() >= 5:
            continue
        for slot in range(per_day):
            begins = datetime(day.year, day.month, day.day, 6 + 2 * slot, tzinfo=CET)
            deliver(app, [held(n, begins, minutes, case_id=uuid.UUID(int=9000 + n))])
            n += 1


def test_the_cap_forecast_moves_with_the_pace(settings: Settings, clock: Clock) -> None:
    app = app_for(settings, clock, grace_days=0, pace_weeks=2)
    try:
        clock.now = datetime(2026, 3, 13, 18, tzinfo=CET)
        counselling_weeks(app, 0, weeks=2, per_day=2)
        slow = app.cap_forecast("counselling", 2026)
        assert slow["window_hours"] == "20.00" and slow["window_business_days"] == 10
        assert slow["status"] == "no_forecast" and "not reached in 2026" in slow["reason"]
        # A faster pace (18 hours a business day) reaches the 2 590 hours this year.
        counselling_weeks(app, 1000, weeks=2, per_day=8, minutes=120)
        fast = app.cap_forecast("counselling", 2026)
        assert fast["status"] == "forecast", fast
        assert fast["window_hours"] == "180.00" and fast["hours_per_business_day"] == "18.00"
        reached = date.fromisoformat(fast["reached_on"])
        assert reached > date(2026, 3, 13)
        # A week later with nothing more billed, the window holds half the hours: the pace
        # drops to 9 hours a business day, which does not reach the cap in 2026.
        clock.now = datetime(2026, 3, 20, 18, tzinfo=CET)
        dropped = app.cap_forecast("counselling", 2026)
        assert dropped["hours_per_business_day"] == "9.00"
        assert dropped["status"] == "no_forecast" and "not reached in 2026" in dropped["reason"]
        clock.now = datetime(2026, 3, 13, 18, tzinfo=CET)
        assert app.cap_forecast("counselling", 2026) == fast
        # A call-off raises the limit: the same pace reaches it later.
        app.record_call_off(
            programme="counselling", year=2026, hours=Decimal(500), reference="avrop 2026-1"
        )
        later = app.cap_forecast("counselling", 2026)
        assert later["status"] == "forecast", later
        assert date.fromisoformat(later["reached_on"]) > reached
        # The cap view carries the same forecast.
        assert {"programme": "counselling", **app.cap_usage("counselling", 2026)["forecast"]} == (
            later
        )
        # The pace drops when the window moves past the sessions: no hours, no forecast.
        clock.now = datetime(2026, 4, 20, 12, tzinfo=CEST)
        idle = app.cap_forecast("counselling", 2026)
        assert idle["status"] == "no_forecast" and idle["window_hours"] == "0"
    finally:
        app.close()


# --- HTTP -------------------------------------------------------------------------------------


def test_http_preview_forecast_and_early_close(
    billing: Billing, clock: Clock, settings: Settings
) -> None:
    deliver(billing, [held(1, datetime(2026, 3, 10, 9, tzinfo=CET), 45)])
    clock.now = datetime(2026, 4, 2, 10, tzinfo=CEST)
    client = TestClient(api(settings, [router_for(billing)]), headers=headers(settings, Role.STAFF))
    preview = client.get("/settlements/2026-03/preview")
    assert preview.status_code == 200 and preview.headers["X-Settlement-Status"] == "preview"
    assert preview.json()["preview"] is True and preview.json()["final"] is False
    html = client.get("/settlements/2026-03/preview?format=html").text
    assert "PREVIEW" in html and "not final" in html
    assert client.get("/settlements/2026-13/preview").status_code == 400
    refused = client.post("/settlements/2026-03/close", json={"closed_by": "ebba"})
    assert refused.status_code == 409 and "grace window" in refused.json()["detail"]
    early = client.post("/settlements/2026-03/close", json={"closed_by": "ebba", "early": True})
    assert early.status_code == 200
    assert early.json() == preview.json()["document"]
    assert client.get("/settlements/2026-03/preview").status_code == 409
    forecast = client.get("/caps/counselling/2026/forecast")
    assert forecast.status_code == 200 and forecast.json()["pace_weeks"] == 8
    in_view = client.get("/caps/counselling/2026").json()["forecast"]
    assert in_view | {"programme": "counselling"} == forecast.json()
    assert client.get("/caps/network/2026/forecast").status_code == 404
    assert client.get("/caps/nobody/2026/forecast").status_code == 422


# --- the service: sessions on Redis, the periodic close ------------------------------------------


async def test_the_service_closes_a_month_when_its_window_ends_and_books_later_sessions_after(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """May 2022 ends on a Tuesday; 3 business days (1-3 June) end the window at 4 June 00:00."""
    clock = Clock(datetime(2022, 6, 2, 10, tzinfo=CEST))
    app = app_for(settings, clock)
    job = Periodic("billing-grace-close", 0.05, app.close_due_months)
    runtime = Runtime("billing", app, settings, settings.redis_url, periodic=[job])
    stream = settings.stream("scheduling.events")

    def send(meeting: MeetingHeld) -> None:
        redis_client.xadd(stream, encode(meeting))  # type: ignore[arg-type]

    def out(kind: str) -> list[dict[str, Any]]:
        entries = redis_client.xrange(settings.stream("billing.events"))
        return [json.loads(f["data"]) for _, f in entries if f["type"] == kind]  # type: ignore[index,union-attr]

    await runtime.start()
    try:
        send(held(1, datetime(2022, 5, 30, 9, tzinfo=CEST), 45))  # in the window: lands in May
        await eventually(lambda: len(out("SessionLogged")) == 1)
        assert out("SettlementClosed") == []
        clock.now = datetime(2022, 6, 4, 0, 0, tzinfo=CEST)  # the window has ended
        await eventually(lambda: len(out("SettlementClosed")) == 1)
        send(held(2, datetime(2022, 5, 31, 9, tzinfo=CEST), 60))  # after it: an adjustment
        await eventually(lambda: len(out("AdjustmentRecorded")) == 1)
    finally:
        await runtime.stop()
    try:
        [closed] = out("SettlementClosed")
        assert closed["month"] == "2022-05"
        [adjustment] = out("AdjustmentRecorded")
        assert (adjustment["month"], adjustment["belongs_to_month"]) == ("2022-06", "2022-05")
        may = app.settlement("2022-05")
        assert may["closed_by"] == GRACE_CLOSER and may["grace"]["close"] == "automatic"
        assert may["grace"]["grace_ends"] == "2022-06-04T00:00:00+02:00"
        assert replay_month(app, "2022-05").differences == ()
    finally:
        app.close()


# --- the command line ---------------------------------------------------------------------------

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(settlement_app, list(args), catch_exceptions=False)


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A billing store (as the CLI finds it from LOTS_ settings) with a March 2026 session,
    on 2 April 2026 10:00, inside March's grace window of 3 business days."""
    monkeypatch.setenv("LOTS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LOTS_STORE", "sqlite")
    monkeypatch.setenv("LOTS_BILLING_GRACE_DAYS", "3")
    monkeypatch.setenv("LOTS_SIMULATED_START", "2026-04-02T10:00:00+02:00")
    app = make_app(Settings())
    try:
        deliver(app, [held(1, datetime(2026, 3, 10, 9, tzinfo=CET), 45)])
    finally:
        app.close()


def test_cli_preview_close_early_and_forecast(cli_store: None) -> None:
    text = run("preview", "2026-03")
    assert text.exit_code == 0, text.output
    assert "PREVIEW" in text.output
    assert "grace window until 8 April 2026, 00:00 Stockholm time (CEST)" in text.output
    assert "digest of this preview (not final)" in text.output
    as_json = run("preview", "2026-03", "--json")
    body = json.loads(as_json.output)
    assert (body["preview"], body["final"], body["status"]) == (True, False, "in_grace")
    refused = run("close", "2026-03", "--by", "ebba")
    assert refused.exit_code == 1 and "grace window" in refused.output
    closed = run("close", "2026-03", "--by", "ebba", "--early", "--json")
    assert closed.exit_code == 0 and json.loads(closed.output) == body["document"]
    again = run("preview", "2026-03")
    assert again.exit_code == 1 and "is closed" in again.output
    forecast = run("forecast", "--json")
    assert forecast.exit_code == 0 and json.loads(forecast.output)["year"] == 2026
    said = run("forecast", "--programme", "counselling", "--year", "2026")
    assert said.exit_code == 0 and "no forecast" in said.output


@pytest.mark.parametrize(
    "args",
    [
        ("preview", "2026-13"),
        ("preview", "March"),
        ("preview",),
        ("preview", "2026-03", "--programme", "nobody"),
        ("forecast", "--programme", "nobody"),
        ("forecast", "--year", "1999"),
        ("forecast", "--programme", "network"),
    ],
)
def test_cli_bad_arguments_say_what_was_wrong_and_exit_2(
    cli_store: None, args: tuple[str, ...]
) -> None:
    result = run(*args)
    assert result.exit_code == 2 and result.output.strip()


def test_the_service_runs_the_close_job_only_with_a_grace_window(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for(settings, Clock(datetime(2026, 4, 20, tzinfo=CEST)), grace_days=0)
    try:
        assert periodic(app, settings) == []
        monkeypatch.setenv("LOTS_BILLING_GRACE_DAYS", "3")
        monkeypatch.setenv("LOTS_BILLING_CLOSE_CHECK_SECONDS", "60")
        [job] = periodic(app, settings)
        assert (job.name, job.seconds) == ("billing-grace-close", 60.0)
    finally:
        app.close()
