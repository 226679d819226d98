"""How billing records and shows things: tariff records, late adjustments, months, statements."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.billing import AdjustmentRecorded, SessionLogged, SettlementClosed, TariffEntry
from events.codec import decode, encode
from infra.money import kronor, sek
from services.billing.settlement import (
    first_open_month,
    late_adjustment,
    next_month,
    settle,
)
from services.billing.statement import to_csv, to_html
from services.billing.tariff_entries import (
    UPLIFT,
    Extension,
    Indexation,
    TariffError,
    entry_from_record,
    entry_record,
)
from services.billing.tariff_seeds import default_catalogue

CATALOGUE = default_catalogue()


def test_every_default_entry_is_recorded_and_read_back_unchanged() -> None:
    for entry in CATALOGUE.entries():
        record = entry_record(entry)
        assert entry_from_record(record) == entry
        assert TariffEntry.model_validate(record).ref == entry.ref
    assert {entry_record(e)["kind"] for e in CATALOGUE.entries()} == {
        "term", "fixed", "rate", "fee", "cap", "posts",
    }  # fmt: skip


@given(
    st.decimals(min_value=-20, max_value=50, places=3, allow_nan=False),
    st.dates(min_value=date(2019, 1, 1), max_value=date(2040, 12, 31)),
)
def test_an_indexation_survives_its_record_exactly(percent: Decimal, applies_from: date) -> None:
    entry = Indexation(
        entry_id="i", series=UPLIFT, year=applies_from.year, percent=percent,
        applies_from=applies_from,
    )  # fmt: skip
    assert entry_from_record(entry_record(entry)).ref == entry.ref


def test_a_record_whose_content_does_not_match_its_ref_is_refused() -> None:
    record = entry_record(Extension(entry_id="e", contract="coordinated-network-2018"))
    record["fields"]["contract"] = "field-2021"
    with pytest.raises(TariffError, match="content does not match"):
        entry_from_record(record)
    with pytest.raises(TariffError, match="unreadable tariff record"):
        entry_from_record({"kind": "rate", "fields": {"entry_id": "x"}})


@pytest.mark.parametrize(
    ("month", "following"), [("2022-05", "2022-06"), ("2022-12", "2023-01"), ("1999-09", "1999-10")]
)
def test_the_month_after(month: str, following: str) -> None:
    assert next_month(month) == following


def test_the_first_open_month_skips_every_closed_one() -> None:
    closed = {"2022-05", "2022-06", "2022-08"}.__contains__
    assert first_open_month("2022-04", closed) == "2022-04"
    assert first_open_month("2022-05", closed) == "2022-07"
    assert first_open_month("2022-08", closed) == "2022-09"


def session() -> SessionLogged:
    return SessionLogged(
        session_id=UUID(int=9), case_id=UUID(int=8), meeting_id=UUID(int=7),
        programme="counselling", provider="leanlink", performed_on=date(2022, 5, 31), minutes=60,
        billable_quarters=4, client_hours=Decimal("1.00"), rate=Decimal("605.00"),
        amount_ore=60_500, fee_ore=20_000, tariff_version="v", settlement_month="2022-05",
    )  # fmt: skip


def test_a_late_sessions_adjustment_derives_from_the_session_alone() -> None:
    first, again = late_adjustment(session(), "2022-06"), late_adjustment(session(), "2022-06")
    assert first == again
    assert (first.month, first.belongs_to_month, first.amount_ore) == ("2022-06", "2022-05", 60_500)
    assert first.session_id == UUID(int=9) and first.fee_ore == 20_000
    assert "logged after 2022-05 had been closed" in first.reason


@pytest.mark.parametrize(
    ("ore", "machine", "person"),
    [
        (0, "0.00", "0,00\u00a0kr"),
        (5, "0.05", "0,05\u00a0kr"),
        (680_625, "6806.25", "6\u00a0806,25\u00a0kr"),
        (-15_125, "-151.25", "-151,25\u00a0kr"),
        (280_000_000, "2800000.00", "2\u00a0800\u00a0000,00\u00a0kr"),
    ],
)
def test_ore_are_written_as_kronor_without_floats(ore: int, machine: str, person: str) -> None:
    assert sek(ore) == machine
    assert kronor(ore) == person


def test_the_csv_has_a_row_per_line_and_the_months_sums() -> None:
    adjustment = late_adjustment(session(), "2022-06")
    document = settle("2022-06", [], CATALOGUE, adjustments=[adjustment])
    rows = list(csv.DictReader(io.StringIO(to_csv(document))))
    assert [r["kind"] for r in rows] == ["adjustment", "fixed", "total", "fees", "net", "digest"]
    lines = [r for r in rows if r["kind"] in ("adjustment", "fixed")]
    total = next(r for r in rows if r["kind"] == "total")
    assert sum(int(r["amount_ore"]) for r in lines) == int(total["amount_ore"])
    assert total["client_hours"] == "1.00"
    assert next(r for r in rows if r["kind"] == "fees")["amount_ore"] == "20000"
    assert rows[-1]["description"] == document["digest"]


def test_the_html_statement_escapes_what_it_shows() -> None:
    odd = late_adjustment(session(), "2022-06").model_copy(update={"reason": "<script>x</script>"})
    document = settle("2022-06", [], CATALOGUE, adjustments=[odd])
    usage = {
        "programme": "counselling", "year": 2022, "cap_hours": 2590, "call_off_hours": "0",
        "limit_hours": "2590", "billed_hours": "2072.00", "used_percent": "80.0",
        "over_cap_hours": "0", "warnings": [80],
    }  # fmt: skip
    page = to_html({"document": document, "status": "open", "cap_usage": [usage]})
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Family counselling" in page and "Field work" in page
    assert "2072.00 h" in page and "80 %" in page and document["digest"] in page


def test_the_optional_fields_of_billing_messages_travel_and_may_be_left_out() -> None:
    adjustment = late_adjustment(session(), "2022-06")
    closed = SettlementClosed(
        month="2022-06", total_ore=1, fees_ore=0, net_ore=1, billable_hours=Decimal("1.00"),
        digest="a" * 64, closed_at=datetime(2022, 7, 1, tzinfo=UTC),
        programme_digests={"counselling": "b" * 64}, tariff_book_version=4,
    )  # fmt: skip
    for message in (adjustment, closed):
        assert decode(encode(message)).message == message
    data = json.loads(encode(adjustment)["data"])
    assert (data["client_hours"], data["fee_ore"]) == ("1.00", 20_000)
    plain = {k: v for k, v in data.items() if k not in ("session_id", "client_hours", "fee_ore")}
    older = decode({**encode(adjustment), "data": json.dumps(plain)}).message
    assert isinstance(older, AdjustmentRecorded) and older.session_id is None
