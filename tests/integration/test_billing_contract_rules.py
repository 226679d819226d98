"""Issue 14's money rules through billing's store (SQLite and PostgreSQL): the month is closed,
replayed from the log and computed offline from the export, and all three must agree."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from events.messages import MeetingHeld, Message
from infra.settings import Settings
from infra.store import store_env
from services.billing import settlement
from services.billing.application import Billing
from services.billing.domain import BillingError
from services.billing.offline import compute_from_export
from services.billing.pricing import session_id_for
from services.billing.replay import replay_month
from services.billing.tariffs import default_catalogue
from tests.support.billing import Clock, deliver, published

CEST = timezone(timedelta(hours=2))


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


def export(app: Billing, meetings: Iterable[MeetingHeld]) -> list[str]:
    def line(stream: str, message: Message, ident: uuid.UUID) -> str:
        data = message.model_dump(mode="json")
        return json.dumps(
            {"stream": stream, "type": message.type_name, "version": 1, "id": str(ident),
             "data": data}
        )  # fmt: skip

    _, out = app.outbox(0, 100_000)
    return [line("scheduling.events", m, uuid.uuid4()) for m in meetings] + [
        line(o.stream, o.message, o.id) for o in out
    ]


def close_and_check(app: Billing, month: str, meetings: Iterable[MeetingHeld]) -> dict[str, Any]:
    """Close the month; its replay and its offline computation must give the closed document."""
    closed = app.close_month(month)
    replayed = replay_month(app, month)
    assert replayed.differences == () and replayed.document == closed
    offline = compute_from_export(export(app, meetings), month, None, default_catalogue())
    assert offline == closed
    return closed


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
        "2022-05 was closed under settlement document version 1; this replay applies version 2 "
        "(docs/billing.md, document versions)"
    )
    assert any(r.startswith("document_version: closed 1, replayed 2") for r in rest)


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
