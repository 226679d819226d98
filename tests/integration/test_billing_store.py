"""Billing over its real store (SQLite and PostgreSQL): sessions, closing, late events, replay.

Messages are applied through ``Billing.process`` exactly as the runtime applies a batch read
from Redis (exactly-once tracking included); what billing publishes is read from its outbox.
Every closed month is checked three ways: as closed, replayed from the log, and computed offline
from the export of what was published.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from events.codec import Envelope
from events.scheduling import MeetingHeld
from events.types import Message
from infra.batches import Incoming
from infra.settings import Settings
from infra.store import store_env
from services.billing.app import make_app
from services.billing.application import Billing
from services.billing.errors import Conflict, MonthClosed
from services.billing.offline import compute_from_export
from services.billing.replay import replay_month
from services.billing.settlement import PROGRAMMES, verify
from services.billing.tariff_entries import Posts
from services.billing.tariff_seeds import default_catalogue
from tests.support.billing import Clock

CEST = timezone(timedelta(hours=2))
CET = timezone(timedelta(hours=1))


def held(n: int, start: datetime, minutes: int, **over: Any) -> MeetingHeld:
    fields: dict[str, Any] = {
        "meeting_id": uuid.UUID(int=1000 + n),
        "case_id": uuid.UUID(int=2000 + n % 7),
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


def may_meetings() -> list[MeetingHeld]:
    return [
        held(i, datetime(2022, 5, 2 + i, 9 + i % 5, tzinfo=CEST), 30 + 10 * i) for i in range(8)
    ]


def deliver(app: Billing, messages: Iterable[Message], *, fresh_ids: bool = False) -> None:
    """Apply messages as one batch; ids derive from the message unless ``fresh_ids``."""
    items = [
        Incoming(
            f"{n}-0",
            "scheduling.events",
            Envelope(m, uuid.uuid4() if fresh_ids else uuid.uuid5(uuid.NAMESPACE_URL, repr(m))),
        )
        for n, m in enumerate(messages)
    ]
    assert all(error is None for error in app.process("billing", items).values())


def published(app: Billing) -> list[Message]:
    _, out = app.outbox(0, 100_000)
    return [o.message for o in out]


def of_type(app: Billing, name: str) -> list[Any]:
    return [m for m in published(app) if m.type_name == name]


def export_lines(app: Billing, meetings: Iterable[MeetingHeld]) -> list[str]:
    """The export of contracts.md: the meetings scheduling published, then billing's log."""

    def line(stream: str, message: Message, ident: uuid.UUID | None) -> str:
        body = {
            "stream": stream,
            "type": message.type_name,
            "version": message.version,
            "id": str(ident),
            "data": message.model_dump(mode="json"),
        }
        return json.dumps(body)

    lines = [
        line("scheduling.events", m, uuid.uuid5(uuid.NAMESPACE_URL, repr(m))) for m in meetings
    ]
    _, out = app.outbox(0, 100_000)
    return lines + [line(o.stream, o.message, o.id) for o in out]


def assert_reproducible(app: Billing, month: str, meetings: Iterable[MeetingHeld]) -> None:
    """Replay and offline compute give the closed document byte for byte, per programme too."""
    lines = export_lines(app, meetings)
    for programme in (None, *PROGRAMMES):
        closed = app.closed_document(month, programme)
        assert closed is not None and verify(closed)
        replayed = replay_month(app, month, programme)
        assert replayed.differences == ()
        assert replayed.document == closed
        offline = compute_from_export(lines, month, programme, default_catalogue())
        assert json.dumps(offline, sort_keys=True) == json.dumps(closed, sort_keys=True)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2022, 7, 15, 12, tzinfo=UTC))


@pytest.fixture
def billing(store_settings: Settings, clock: Clock) -> Iterator[Billing]:
    app = Billing(store_env(store_settings, "billing"), clock=clock)
    app.record_default_tariffs()
    yield app
    app.close()


def test_the_default_catalogue_is_recorded_once_on_first_start(store_settings: Settings) -> None:
    first = make_app(store_settings)
    first.close()
    again = make_app(store_settings)
    tariffs = again.tariffs()
    assert tariffs["book_version"] == 1
    assert [e["ref"] for e in tariffs["entries"]] == [e.ref for e in default_catalogue().entries()]
    topics = [n.topic for n in again.recorder.select_notifications(start=1, limit=100)]
    assert topics == ["services.billing.tariff_book:TariffBook.Opened"]
    assert published(again) == []  # the default itself is not news on billing.events
    again.close()


def test_a_held_meeting_is_logged_once_with_its_price(billing: Billing) -> None:
    meeting = held(1, datetime(2022, 5, 3, 13, 0, tzinfo=CEST), 80)
    deliver(billing, [meeting])
    deliver(billing, [meeting], fresh_ids=True)  # re-published under another id
    deliver(billing, [meeting])  # redelivered: already processed
    [session] = of_type(billing, "SessionLogged")
    assert session.meeting_id == meeting.meeting_id
    assert (session.minutes, session.billable_quarters) == (80, 6)
    assert (session.client_hours, session.rate) == (Decimal("1.50"), Decimal("605.00"))
    assert (session.amount_ore, session.fee_ore) == (90_750, 20_000)
    assert session.settlement_month == "2022-05"


def test_close_then_a_late_session_is_an_adjustment_and_the_month_never_changes(
    billing: Billing,
) -> None:
    may = may_meetings()
    deliver(billing, may[:6])
    closed = billing.close_month("2022-05", "ekonom")
    # 30, 40, ..., 80 minutes: 2 + 3 + 4 + 4 + 5 + 6 started quarters
    assert closed["billable_hours"] == "6.00" and verify(closed)
    with pytest.raises(MonthClosed, match="already closed"):
        billing.close_month("2022-05")

    deliver(billing, may[6:])  # held in May, arrives after May was closed
    assert billing.settlement("2022-05")["document"] == closed
    adjustments = of_type(billing, "AdjustmentRecorded")
    assert [(a.month, a.belongs_to_month) for a in adjustments] == [("2022-06", "2022-05")] * 2
    late_ids = {m.meeting_id for m in may[6:]}
    late_sessions = [s for s in of_type(billing, "SessionLogged") if s.meeting_id in late_ids]
    assert {a.session_id for a in adjustments} == {s.session_id for s in late_sessions}
    assert sum(a.amount_ore for a in adjustments) == sum(s.amount_ore for s in late_sessions)

    june = billing.settlement("2022-06")["document"]
    lines = [line for line in june["lines"] if line["kind"] == "adjustment"]
    assert {line["belongs_to_month"] for line in lines} == {"2022-05"}
    assert june["fees_ore"] == 2 * 20_000
    assert june["billable_hours"] == str(sum(s.client_hours for s in late_sessions))
    closed_june = billing.close_month("2022-06")
    assert closed_june == june
    for month in ("2022-05", "2022-06"):
        assert_reproducible(billing, month, may)


def test_duplicate_and_out_of_order_delivery_close_to_the_same_digest(
    store_settings: Settings, clock: Clock, billing: Billing
) -> None:
    may = may_meetings()
    deliver(billing, may)
    expected = billing.close_month("2022-05")

    elsewhere = store_settings.model_copy(
        update={
            "var_dir": store_settings.var_dir / "other",
            "postgres_schema_prefix": f"{store_settings.postgres_schema_prefix}o",
        }
    )
    other = Billing(store_env(elsewhere, "billing"), clock=clock)
    other.record_default_tariffs()
    rng = random.Random(580)
    shuffled = may + rng.sample(may, k=5)
    rng.shuffle(shuffled)
    for start in range(0, len(shuffled), 3):
        deliver(other, shuffled[start : start + 3])
        deliver(other, shuffled[start : start + 2], fresh_ids=True)
    assert other.close_month("2022-05") == expected
    assert_reproducible(other, "2022-05", may)
    other.close()


def test_a_session_waiting_for_a_price_blocks_the_close_until_dismissed(billing: Billing) -> None:
    before_contract = held(1, datetime(2021, 12, 10, 10, tzinfo=CET), 60)
    deliver(billing, [before_contract])
    [item] = billing.worklist()
    assert item["need"] == "price" and item["month"] == "2021-12"
    assert "counselling hourly rate is not known for 2021-12-10" in item["reason"]
    with pytest.raises(Conflict, match=r"1 session waits for a price.*2021-12-10"):
        billing.close_month("2021-12")
    billing.dismiss(
        session_id=uuid.UUID(item["session_id"]),
        reason="held before the counselling contract began",
        decided_by="ekonom",
    )
    assert billing.worklist() == []
    closed = billing.close_month("2021-12")
    assert [line.get("contract") for line in closed["lines"]] == ["field-2021"]
    assert_reproducible(billing, "2021-12", [before_contract])


def test_agreed_posts_set_the_fixed_line_in_service_replay_and_offline(billing: Billing) -> None:
    posts = Posts(
        entry_id="joint-posts-2020-07", contract="coordinated-network-2018", ftes=Decimal("5"),
        payment_ftes=Decimal("4"), valid_from=date(2020, 7, 1),
    )  # fmt: skip
    billing.record_price(posts, reference="SON 2020-7", recorded_by="ekonom")
    closed = billing.close_month("2020-07")
    [line] = [x for x in closed["lines"] if x["kind"] == "fixed"]
    assert (line["ftes"], line["amount_ore"]) == ("5", 29_166_667)  # 3.5 MSEK / 12
    assert_reproducible(billing, "2020-07", [])


def test_premises_share_and_grants_are_reported_apart_in_service_replay_and_offline(
    billing: Billing,
) -> None:
    common = {"period_from": date(2019, 1, 1), "period_to": date(2019, 12, 31)}
    billing.record_separately(
        kind="premises_share", programme="network", month="2019-03", amount_ore=30_000_000,
        reference="Leanlink 2019 premises", recorded_by="ekonom", **common,
    )  # fmt: skip
    billing.record_separately(
        kind="state_grant", programme="coordinated", month="2019-03", amount_ore=5_000_000,
        reference="SB 2019-4", **common,
    )  # fmt: skip
    with pytest.raises(Conflict, match="already"):
        billing.record_separately(
            kind="state_grant", programme="coordinated", month="2019-03", amount_ore=1,
            reference="SB 2019-4", **common,
        )  # fmt: skip
    closed = billing.close_month("2019-03")
    apart = closed["reported_separately"]
    assert (apart["premises_share_ore"], apart["state_grant_ore"]) == (30_000_000, 5_000_000)
    assert closed["total_ore"] == 23_333_333 and closed["net_ore"] == closed["total_ore"]
    assert [m.type_name for m in published(billing)].count("SeparateAmountRecorded") == 2
    assert_reproducible(billing, "2019-03", [])
    with pytest.raises(MonthClosed):
        billing.record_separately(
            kind="state_grant", programme="network", month="2019-03", amount_ore=1,
            reference="SB late", **common,
        )  # fmt: skip


def test_a_notice_ends_the_joint_term_and_the_months_after_say_so(billing: Billing) -> None:
    codes = [n["code"] for n in billing.notices()]  # today is 2022-07-15
    assert codes == ["no_contract_in_force", "no_contract_in_force"]
    done = billing.record_termination(
        contract="coordinated-network-2018", given_on=date(2020, 6, 10), reference="SON 2020-6"
    )
    assert done["recorded"] == ["coordinated-network-2018-termination"]
    assert billing.catalogue_end("coordinated-network-2018") == "2021-08-31"
    with pytest.raises(Conflict, match="cannot be extended"):
        billing.record_extension(contract="coordinated-network-2018", reference="SON 2021-4")
    with pytest.raises(Conflict, match="already recorded"):
        billing.record_termination(
            contract="coordinated-network-2018", given_on=date(2020, 6, 1), reference="again"
        )
    closed = billing.close_month("2021-09")
    assert [line["contract"] for line in closed["lines"]] == ["field-2021"]
    assert any("by the notice given on 2020-06-10" in n for n in closed["notes"])
    assert_reproducible(billing, "2021-09", [])
