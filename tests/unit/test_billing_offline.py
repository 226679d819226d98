"""Offline settlement of exports that hold what billing published: closes, tariffs, late work."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from events.billing import (
    CallOffRecorded,
    SessionDismissed,
    SessionFlagged,
    SessionLogged,
    SettlementClosed,
    TariffEntry,
    TariffRecorded,
)
from events.scheduling import MeetingHeld
from events.types import Message
from services.billing.export_reader import ExportError
from services.billing.offline import compute_from_export
from services.billing.pricing import price_meeting
from services.billing.settlement import late_adjustment, settle
from services.billing.tariff_entries import UPLIFT, Indexation, entry_record
from services.billing.tariff_seeds import default_catalogue
from services.billing.tariffs import Catalogue

CATALOGUE = default_catalogue()
CEST = timezone(timedelta(hours=2))
CET = timezone(timedelta(hours=1))
NOW = datetime(2022, 7, 1, tzinfo=UTC)


class Log:
    """An export being written: entries numbered in the order they are added."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, message: Message, stream: str = "billing.events") -> Log:
        body = {
            "stream": stream,
            "type": message.type_name,
            "version": 1,
            "id": str(UUID(int=len(self.lines) + 1)),
            "data": message.model_dump(mode="json"),
        }
        self.lines.append(json.dumps(body))
        return self

    def held(self, meeting: MeetingHeld) -> Log:
        return self.add(meeting, "scheduling.events")

    def compute(self, month: str, programme: str | None = None) -> dict[str, Any]:
        return compute_from_export(self.lines, month, programme, CATALOGUE)


def meeting(n: int, start: datetime, minutes: int, **over: Any) -> MeetingHeld:
    fields: dict[str, Any] = {
        "meeting_id": UUID(int=100 + n),
        "case_id": UUID(int=200 + n),
        "programme": "counselling",
        "kind": "counselling",
        "format": "couple",
        "provider": "leanlink",
        "staff": ["s"],
        "started_at": start,
        "ended_at": start + timedelta(minutes=minutes),
        "participants": 2,
        "client_visits": 1,
    }
    return MeetingHeld(**(fields | over))


def logged(m: MeetingHeld, catalogue: Catalogue = CATALOGUE) -> SessionLogged:
    session = price_meeting(m, catalogue)
    assert isinstance(session, SessionLogged)
    return session


def closed(month: str, document: dict[str, Any], version: int | None = 1) -> SettlementClosed:
    return SettlementClosed(
        month=month,
        total_ore=document["total_ore"],
        fees_ore=document["fees_ore"],
        net_ore=document["net_ore"],
        billable_hours=Decimal(document["billable_hours"]),
        digest=document["digest"],
        closed_at=NOW,
        tariff_book_version=version,
    )


MAY = [meeting(i, datetime(2022, 5, 10 + i, 10, tzinfo=CEST), 45 + 15 * i) for i in range(3)]
LATE = meeting(9, datetime(2022, 5, 31, 16, tzinfo=CEST), 60)


def test_a_closed_month_is_settled_from_what_was_published_before_its_close() -> None:
    log = Log()
    for m in MAY:
        log.held(m).add(logged(m))
    document = settle("2022-05", [logged(m) for m in MAY], CATALOGUE)
    log.add(closed("2022-05", document))
    late = logged(LATE)
    log.held(LATE).add(late).add(late_adjustment(late, "2022-06"))
    assert log.compute("2022-05") == document
    june = log.compute("2022-06")
    [adjustment] = [line for line in june["lines"] if line["kind"] == "adjustment"]
    assert adjustment["belongs_to_month"] == "2022-05"
    assert adjustment["amount_ore"] == 60_500 and adjustment["fees_collected_ore"] == 20_000
    assert june["billable_hours"] == "1.00" and june["fees_ore"] == 20_000


def test_an_unlogged_meeting_of_a_closed_month_is_an_adjustment_of_the_first_open_one() -> None:
    log = Log()
    for month in ("2022-05", "2022-06"):
        log.add(closed(month, settle(month, [], CATALOGUE)))
    log.held(LATE)  # billing has not consumed it yet: it would book it on July
    july = log.compute("2022-07")
    [line] = [line for line in july["lines"] if line["kind"] == "adjustment"]
    assert (line["amount_ore"], line["belongs_to_month"]) == (60_500, "2022-05")
    assert line["adjustment_id"] == str(late_adjustment(logged(LATE), "2022-07").adjustment_id)
    assert log.compute("2022-05")["lines"] == settle("2022-05", [], CATALOGUE)["lines"]
    assert [li["kind"] for li in log.compute("2022-06")["lines"]] == ["fixed"]


def test_recorded_tariffs_price_unlogged_meetings_and_stop_at_a_close() -> None:
    uplift = Indexation(
        entry_id="uplift-2023", series=UPLIFT, year=2023, percent=Decimal("3.1"),
        applies_from=date(2023, 1, 1),
    )  # fmt: skip
    raised = TariffRecorded(
        entries=[TariffEntry.model_validate(entry_record(uplift))],
        book_version=2, reason="uplift", recorded_at=NOW,
    )  # fmt: skip
    january = meeting(1, datetime(2023, 1, 10, 10, tzinfo=CEST), 60)
    february = meeting(2, datetime(2023, 2, 10, 10, tzinfo=CET), 60)
    log = Log().held(january).add(logged(january))
    january_closed = settle("2023-01", [logged(january)], CATALOGUE)
    log.add(closed("2023-01", january_closed)).add(raised).held(february)
    [line] = log.compute("2023-02", "counselling")["lines"]
    assert line["rate"] == "623.76" and line["amount_ore"] == 62_376
    assert log.compute("2023-01") == january_closed  # the uplift came after its close


def test_an_export_whose_tariffs_contradict_the_default_is_refused() -> None:
    changed = Indexation(
        entry_id="counselling-rate-2022", series=UPLIFT, year=2023, percent=Decimal(1),
        applies_from=date(2023, 1, 1),
    )  # fmt: skip
    log = Log().add(
        TariffRecorded(
            entries=[TariffEntry.model_validate(entry_record(changed))],
            book_version=3, reason="x", recorded_at=NOW,
        )
    )  # fmt: skip
    with pytest.raises(ExportError, match="tariffs cannot be used"):
        log.compute("2023-01")


def test_a_recorded_call_off_raises_the_cap_from_its_date() -> None:
    earlier = logged(meeting(1, datetime(2022, 4, 4, 10, tzinfo=CEST), 60)).model_copy(
        update={"client_hours": Decimal("2590.00")}
    )
    before = meeting(2, datetime(2022, 5, 2, 10, tzinfo=CEST), 60)
    after = meeting(3, datetime(2022, 5, 20, 10, tzinfo=CEST), 60)
    call_off = CallOffRecorded(
        reference="AVROP-1", programme="counselling", year=2022, hours=Decimal(10),
        effective_from=date(2022, 5, 15), book_version=2, recorded_at=NOW,
    )  # fmt: skip
    log = Log().add(earlier).add(call_off).held(before).held(after)
    assert log.compute("2022-05")["billable_hours"] == "1.00"


def test_a_flagged_meeting_is_pending_until_logged_and_a_dismissed_one_is_never_priced() -> None:
    unclear = meeting(4, datetime(2022, 5, 4, 10, tzinfo=CEST), 90, format="group",
                      participants=3, client_visits=3)  # fmt: skip
    flag = SessionFlagged(
        session_id=UUID(int=1), meeting_id=unclear.meeting_id, case_id=unclear.case_id,
        programme="counselling", performed_on=date(2022, 5, 4), settlement_month="2022-06",
        minutes=90, participants=3, reason="as flagged", options=["not_billable"],
    )  # fmt: skip
    log = Log().held(unclear).add(flag)
    assert log.compute("2022-05")["pending_decisions"] == []
    assert [p["reason"] for p in log.compute("2022-06")["pending_decisions"]] == ["as flagged"]
    before_contract = meeting(5, datetime(2021, 12, 1, 10, tzinfo=CEST), 60)
    dismissed = SessionDismissed(
        session_id=UUID(int=2), meeting_id=before_contract.meeting_id,
        case_id=before_contract.case_id, reason="no contract", decided_by="x", decided_at=NOW,
    )  # fmt: skip
    ruled_out = Log().held(before_contract).add(dismissed).compute("2021-12")
    assert ruled_out["billable_hours"] == "0.00" and ruled_out["awaiting_price"] == []
    [waiting] = Log().held(before_contract).compute("2021-12")["awaiting_price"]
    assert waiting["meeting_id"] == str(before_contract.meeting_id)
    assert "counselling hourly rate is not known for 2021-12-01" in waiting["reason"]


def test_two_versions_of_the_same_close_are_refused() -> None:
    document = settle("2022-05", [], CATALOGUE)
    other = closed("2022-05", document).model_copy(update={"total_ore": 1})
    log = Log().add(closed("2022-05", document)).add(other)
    with pytest.raises(ExportError, match="line 2: SettlementClosed 2022-05 already appeared"):
        log.compute("2022-05")
