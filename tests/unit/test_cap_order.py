"""The yearly cap goes to sessions in the order they were performed, whatever order they were
recorded in, while their months are open (cap_order.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.billing import cap_order
from services.billing.cap_order import (
    CapLedger,
    Key,
    day_key,
    give_way,
    performed_key,
    thresholds_crossed,
)

CET = timezone(timedelta(hours=1))
Session = tuple[Key, str, date, Decimal]  # place, month, day, hours wanted


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Blocks of two sessions, so that a few sessions already split and skip blocks."""
    monkeypatch.setattr(cap_order, "_BLOCK", 2)
    yield


def sessions(draw: st.DrawFn, count: int) -> list[Session]:
    out = []
    for n in range(count):
        day = date(2023, 1, 1) + timedelta(days=draw(st.integers(0, 89)))
        start = datetime(day.year, day.month, day.day, 8, tzinfo=CET)
        start += timedelta(minutes=15 * draw(st.integers(0, 40)))
        hours = Decimal(draw(st.integers(0, 40))) / 4
        key = performed_key(start, UUID(int=n + 1))
        out.append((key, f"2023-{day.month:02d}", day, hours))
    return out


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[Session], list[int], Decimal]:
    count = draw(st.integers(1, 30))
    drawn = sessions(draw, count)
    order = draw(st.permutations(range(count)))
    limit = Decimal(draw(st.integers(0, 200))) / 4
    return drawn, order, limit


def bill(
    ledger: CapLedger,
    session: Session,
    name: str,
    limit: Decimal,
    closed: Callable[[str], bool],
) -> None:
    """As billing does: hold the session after those before it, then let later ones give way."""
    key, month, day, wanted = session
    before = ledger.billed_before(key, month, closed)
    billed = min(wanted, max(Decimal(0), limit - before))
    ledger.record(name, key, month, day, billed)
    for other, keeps in give_way(ledger, key, month, (before, billed), lambda _: limit, closed):
        assert keeps < ledger.rows[other].billed
        ledger.give_way(other, keeps)


def in_order_performed(drawn: list[Session], limit: Decimal) -> dict[str, Decimal]:
    billed: dict[str, Decimal] = {}
    total = Decimal(0)
    for n in sorted(range(len(drawn)), key=lambda i: drawn[i][0]):
        billed[str(n)] = min(drawn[n][3], max(Decimal(0), limit - total))
        total += billed[str(n)]
    return billed


@given(scenario())
def test_while_months_are_open_any_recording_order_bills_the_order_performed(
    case: tuple[list[Session], list[int], Decimal],
) -> None:
    drawn, order, limit = case
    ledger = CapLedger()
    for n in order:
        bill(ledger, drawn[n], str(n), limit, lambda _: False)
        assert sum((r.billed for r in ledger.rows.values()), Decimal(0)) <= limit
    assert {s: r.billed for s, r in ledger.rows.items()} == in_order_performed(drawn, limit)
    assert sum(ledger.month_quarters.values()) == sum(r.quarters for r in ledger.rows.values())
    assert all(
        run.total == sum(block.total for block in run.blocks) == ledger.month_quarters[month]
        for month, run in ledger.runs.items()
    )


def naive_bill(
    rows: dict[str, list[object]],
    session: Session,
    name: str,
    limit: Decimal,
    closed: set[str],
) -> None:
    """The rule written plainly: after every closed month's session and every open one
    performed before; then the open ones performed after keep what is left in turn."""
    key, month, day, wanted = session

    def counts(row: list[object]) -> bool:
        return row[1] in closed or row[0] < key  # type: ignore[operator]

    before = sum((r[3] for r in rows.values() if counts(r)), Decimal(0))  # type: ignore[misc]
    billed = min(wanted, max(Decimal(0), limit - before))
    rows[name] = [key, month, day, billed]
    running = before + billed
    for row in sorted((r for r in rows.values() if r[1] not in closed and r[0] > key),
                      key=lambda r: r[0]):  # type: ignore[arg-type,return-value]  # fmt: skip
        keeps = min(row[3], max(Decimal(0), limit - running))  # type: ignore[call-overload]
        row[3] = keeps
        running += keeps


@given(scenario(), st.data())
def test_a_closed_months_sessions_keep_their_hours_and_later_ones_take_what_is_left(
    case: tuple[list[Session], list[int], Decimal], data: st.DataObject
) -> None:
    drawn, order, limit = case
    ledger, plain = CapLedger(), {}  # type: ignore[var-annotated]
    closed: set[str] = set()
    for step, n in enumerate(order):
        if data.draw(st.booleans()):  # months close in order, now and then
            closed.add(f"2023-{1 + len(closed):02d}") if len(closed) < 3 else None
        frozen = {s: r.billed for s, r in ledger.rows.items() if r.month in closed}
        bill(ledger, drawn[n], str(n), limit, closed.__contains__)
        naive_bill(plain, drawn[n], str(n), limit, closed)
        assert {s: r.billed for s, r in ledger.rows.items()} == {s: r[3] for s, r in plain.items()}
        assert all(ledger.rows[s].billed == b for s, b in frozen.items()), step


def test_logged_time_comes_at_the_start_of_its_day_in_stockholm() -> None:
    morning = performed_key(datetime(2023, 3, 6, 0, 0, tzinfo=CET), UUID(int=2))
    assert day_key(date(2023, 3, 6), UUID(int=1)) < morning
    assert day_key(date(2023, 3, 6), UUID(int=1))[0] == "2023-03-05T23:00:00.000000Z"


def test_warnings_are_due_on_the_years_hours_not_on_a_sessions_place() -> None:
    assert thresholds_crossed(Decimal(7), Decimal(9), Decimal(10)) == (80,)
    assert thresholds_crossed(Decimal(10), Decimal(10), Decimal(10)) == ()
    assert thresholds_crossed(Decimal(0), Decimal(10), Decimal(10)) == (80, 95, 100)
