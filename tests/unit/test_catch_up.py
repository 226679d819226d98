"""Catch-ups (catchup.py): for any sequence of sessions logged, months closed and revisions
recorded late, each month's closed lines plus the catch-ups booked for it equal, to the öre,
what the month would have been with the tariffs known from the start (issue 14 item 2)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.billing import AdjustmentRecorded, SessionLogged
from events.scheduling import MeetingHeld
from services.billing.catchup import (
    Billed,
    CatchUpError,
    catch_ups,
    merged,
    own_catch_ups,
    paid_in,
    paid_later,
    rederived,
    targets,
)
from services.billing.pricing import price_meeting
from services.billing.settlement import Document, first_open_month, late_adjustment, settle
from services.billing.tariff_entries import (
    FEE_REVISION,
    UPLIFT,
    Entry,
    FixedPayment,
    HourlyRate,
    Indexation,
)
from services.billing.tariff_seeds import default_catalogue
from services.billing.tariffs import Catalogue

CET = datetime(2023, 1, 1).astimezone().tzinfo
MONTHS = [f"2023-{n:02d}" for n in range(1, 7)]


def meeting(n: int, month: int, minutes: int, visits: int) -> MeetingHeld:
    start = datetime.fromisoformat(f"2023-{month:02d}-{1 + n % 27:02d}T10:00:00+01:00")
    return MeetingHeld(
        meeting_id=uuid.UUID(int=n), case_id=uuid.UUID(int=7), programme="counselling",
        kind="counselling", format="couple", provider="leanlink", staff=["s"], started_at=start,
        ended_at=start + timedelta(minutes=minutes), participants=2, client_visits=visits,
    )  # fmt: skip


def priced(held: MeetingHeld, catalogue: Catalogue) -> Billed:
    session = price_meeting(held, catalogue)
    assert isinstance(session, SessionLogged)
    return Billed(session, held.client_visits)


@dataclass
class Billing:
    """The service's rules over pure data: log, close, record a revision (catchup_book.py)."""

    catalogue: Catalogue = field(default_factory=default_catalogue)
    sessions: dict[str, list[Billed]] = field(default_factory=dict)
    booked: dict[str, list[AdjustmentRecorded]] = field(default_factory=dict)
    closed: dict[str, Document] = field(default_factory=dict)
    #: Sessions of a month logged after it closed: adjustments of the first open month.
    late: dict[str, list[Billed]] = field(default_factory=dict)

    def visits(self, session: SessionLogged) -> int:
        every = [*self.sessions.values(), *self.late.values()]
        return next(b.visits for bs in every for b in bs if b.session == session)

    def log_late(self, month: str, held: MeetingHeld) -> None:
        billed = priced(held, self.catalogue)
        self.late.setdefault(month, []).append(billed)
        target = first_open_month(month, self.closed.__contains__)
        self.booked.setdefault(target, []).append(late_adjustment(billed.session, target))

    def log(self, month: str, meetings: list[MeetingHeld]) -> None:
        self.sessions[month] = [priced(m, self.catalogue) for m in meetings]

    def close(self, month: str) -> None:
        mine = self.booked.setdefault(month, [])
        sessions = [b.session for b in self.sessions.get(month, [])]
        mine += own_catch_ups(month, sessions, self.visits, self.catalogue, mine)
        sessions = [b.session for b in self.sessions.get(month, [])]
        self.closed[month] = settle(month, sessions, self.catalogue, adjustments=mine)

    def revise(self, entry: Entry) -> None:
        self.catalogue = self.catalogue.with_entries(entry)
        for month in sorted(self.closed):
            every = [a for booked in self.booked.values() for a in booked]
            paid = merged(paid_in(self.closed[month]), paid_later(month, every))
            own = [*self.sessions.get(month, []), *self.late.get(month, [])]
            sessions = [b.session for b in own]
            due = targets(month, sessions, self.visits, self.catalogue)
            target = first_open_month(month, self.closed.__contains__)
            made = catch_ups(month=month, booked_on=target, due=due, paid=paid, reference="R")
            if made:
                self.booked.setdefault(target, []).extend(made)

    def owed(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for month, document in self.closed.items():
            for line in document["lines"]:
                owner = line.get("belongs_to_month", month)
                out[owner] += line["amount_ore"]
                out[f"fees {owner}"] += line.get("fees_collected_ore", 0)
        for month, booked in self.booked.items():
            if month not in self.closed:  # booked on a month not closed yet
                for a in booked:
                    out[a.belongs_to_month] += a.amount_ore
                    out[f"fees {a.belongs_to_month}"] += a.fee_ore or 0
        return +out


def revisions() -> st.SearchStrategy[list[Entry]]:
    percent = st.decimals(min_value=Decimal("-5"), max_value=Decimal("12"), places=2)
    month = st.integers(min_value=1, max_value=6)
    uplift = st.builds(
        lambda p, m: Indexation(entry_id="uplift-2023", series=UPLIFT, year=2023, percent=p,
                                applies_from=date(2023, m, 1)), percent, month)  # fmt: skip
    fee = st.builds(
        lambda p, m: Indexation(entry_id="fee-2023", series=FEE_REVISION, year=2023, percent=p,
                                applies_from=date(2023, m, 1)), percent, month)  # fmt: skip
    rate = st.builds(
        lambda s, m: HourlyRate(entry_id="rate-2023", programme="counselling", sek_per_hour=s,
                                price_level_year=2023, valid_from=date(2023, m, 1)),
        st.decimals(min_value=Decimal("500"), max_value=Decimal("800"), places=2), month,
    )  # fmt: skip
    fixed = st.builds(
        lambda a, m: FixedPayment(entry_id="field-2023", contract="field-2021", amount_ore=a,
                                  per="year", price_level_year=2023, valid_from=date(2023, m, 1)),
        st.integers(min_value=400_000_000, max_value=600_000_001), month,
    )  # fmt: skip
    return st.lists(st.one_of(uplift, fee, rate, fixed), max_size=4, unique_by=lambda e: e.entry_id)


@st.composite
def histories(draw: Any) -> tuple[list[list[MeetingHeld]], list[Entry], list[tuple[str, Any]]]:
    """Meetings per month, revisions, and the order things happen in: each month is logged
    before it is closed, months close in order, revisions fall anywhere (late or not)."""
    sizes = st.tuples(st.integers(1, 180), st.integers(0, 3))
    per_month = draw(st.lists(st.lists(sizes, max_size=3), min_size=6, max_size=6))
    meetings = [
        [meeting(10 * m + i, m + 1, minutes, visits) for i, (minutes, visits) in enumerate(month)]
        for m, month in enumerate(per_month)
    ]
    entries = draw(revisions())
    ops: list[tuple[str, Any]] = []
    for m in range(6):
        ops += [("log", m), ("close", m)]
    for m in draw(st.lists(st.integers(0, 5), max_size=3, unique=True)):
        after = ops.index(("close", m)) + 1
        ops.insert(draw(st.integers(after, len(ops))), ("late", m))
    for entry in entries:
        ops.insert(draw(st.integers(0, len(ops))), ("revise", entry))
    return meetings, entries, ops


@settings(max_examples=150, deadline=None)
@given(histories())
def test_closed_amounts_plus_catch_ups_are_what_the_tariffs_known_from_the_start_give(
    history: tuple[list[list[MeetingHeld]], list[Entry], list[tuple[str, Any]]],
) -> None:
    meetings, entries, ops = history
    late = Billing()
    known = Billing(catalogue=default_catalogue().with_entries(*entries))
    for op, arg in ops:
        for app in (late, known):
            if op == "log":
                app.log(MONTHS[arg], meetings[arg])
            elif op == "close":
                app.close(MONTHS[arg])
            elif op == "late":
                app.log_late(MONTHS[arg], meeting(100 + arg, arg + 1, 35, 1))
        if op == "revise":
            late.revise(arg)
    assert late.owed() == known.owed()
    assert all(not [x for x in d["lines"] if x.get("cause") == "catch_up"]
               for d in known.closed.values())  # fmt: skip
    # Recording again what is recorded adds nothing: only the difference not yet paid.
    again = Billing(late.catalogue, late.sessions, {k: [*v] for k, v in late.booked.items()},
                    late.closed, late.late)  # fmt: skip
    again.revise(HourlyRate(entry_id="noop", programme="counselling", sek_per_hour=Decimal(1),
                            price_level_year=2000, valid_from=date(2000, 1, 1)))  # fmt: skip
    assert again.booked == late.booked


def test_a_catch_up_altered_after_it_was_recorded_does_not_re_derive() -> None:
    late = Billing()
    late.log("2023-01", [meeting(1, 1, 60, 1)])
    late.close("2023-01")
    late.revise(Indexation(entry_id="u", series=UPLIFT, year=2023, percent=Decimal(3),
                           applies_from=date(2023, 1, 1)))  # fmt: skip
    [made] = late.booked["2023-02"]
    assert (made.line, made.amount_ore, made.belongs_to_month) == (
        "hourly:counselling",
        1_815,
        "2023-01",
    )
    assert rederived(made) == made
    with pytest.raises(CatchUpError):
        rederived(made.model_copy(update={"amount_ore": 1_816}))
