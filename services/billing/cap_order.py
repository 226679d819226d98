"""The order in which sessions take the yearly cap: the order they were performed (003 §1.2).

"Maximal beställningsvolym är 2 590 timmar per år": the hours beyond the cap are the last ones
performed, not the last ones recorded. Staff record meetings held after the fact, in any order,
so billing keeps a ledger per programme and year (:class:`CapLedger`) of every session billed
against the cap, by its place in time (:func:`performed_key`: the meeting's start, logged time
at the start of its day; then the session id), and the month it is booked on:

- a session is held against the cap after every session performed before it, and after every
  session of a closed month whatever its date (:meth:`CapLedger.billed_before`);
- the sessions of open months performed after it then give way (:func:`give_way`): each keeps
  at most what is left under the limit in force on its date once everything before it in that
  order is counted, re-booked with fewer hours (:func:`cut_to`); none is ever given more;
- a closed month never changes: its sessions keep what they were billed, and a session recorded
  after it closed takes only what is left.

So while the months concerned are open, the hours billed are those of billing every session in
the order performed, whatever order they were recorded in, and the offline computation from the
meetings alone gives the service's document. Pure functions of their inputs, shared by the
service, its replay and the offline computation.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from events.billing import SessionLogged
from infra.calendar import STOCKHOLM
from services.billing.cap import THRESHOLDS, CallOff
from services.billing.pricing_time import amount_ore, client_hours
from services.billing.tariffs import Catalogue

Key = tuple[str, str]
"""A session's place in the order performed: its UTC instant (fixed width) and session id."""
_ZERO = Decimal(0)


def performed_key(moment: datetime, session_id: UUID) -> Key:
    """The place in time of a session that started at ``moment``."""
    return (moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), session_id.hex)


def day_key(day: date, session_id: UUID) -> Key:
    """The place of logged time: the start of its day in Stockholm (the seed is silent on
    preparation and follow-up time; counted before the day's meetings)."""
    return performed_key(datetime.combine(day, time(0), STOCKHOLM), session_id)


@dataclass
class LedgerRow:
    key: Key
    month: str
    day: date
    #: Billed client hours in quarters (hours are whole quarters: integers are exact and fast).
    quarters: int

    @property
    def billed(self) -> Decimal:
        return Decimal(self.quarters) / 4


_BLOCK = 128
"""Sessions per block of a month's run: sums by block keep every step near O(sqrt n)."""


def _quarters(hours: Decimal) -> int:
    quarters = hours * 4
    if quarters % 1:
        raise ValueError(f"{hours} hours are not whole quarter hours")
    return int(quarters)


@dataclass
class _Block:
    keys: list[Key]
    sessions: list[str]
    total: int


@dataclass
class _Run:
    """One month's sessions in the order performed, in blocks that know their quarters."""

    blocks: list[_Block] = field(default_factory=list)
    firsts: list[Key] = field(default_factory=list)
    total: int = 0

    def _index(self, key: Key) -> int:
        return max(bisect_right(self.firsts, key) - 1, 0)

    def insert(self, key: Key, session: str, quarters: int, rows: dict[str, LedgerRow]) -> None:
        self.total += quarters
        if not self.blocks:
            self.blocks.append(_Block([key], [session], quarters))
            self.firsts.append(key)
            return
        i = self._index(key)
        block = self.blocks[i]
        j = bisect_left(block.keys, key)
        block.keys.insert(j, key)
        block.sessions.insert(j, session)
        block.total += quarters
        self.firsts[i] = block.keys[0]
        if len(block.keys) > 2 * _BLOCK:
            rest = _Block(block.keys[_BLOCK:], block.sessions[_BLOCK:], 0)
            del block.keys[_BLOCK:], block.sessions[_BLOCK:]
            rest.total = sum(rows[s].quarters for s in rest.sessions)
            block.total -= rest.total
            self.blocks.insert(i + 1, rest)
            self.firsts.insert(i + 1, rest.keys[0])

    def adjust(self, key: Key, given: int) -> None:
        self.blocks[self._index(key)].total -= given
        self.total -= given

    def before(self, key: Key, rows: dict[str, LedgerRow]) -> int:
        """The quarters of the sessions performed before ``key``."""
        if not self.blocks:
            return 0
        i = self._index(key)
        block = self.blocks[i]
        head = _head(block, bisect_left(block.keys, key), rows)
        if i <= len(self.blocks) // 2:  # counted from the nearer end
            return sum(b.total for b in self.blocks[:i]) + head
        return self.total - sum(b.total for b in self.blocks[i + 1 :]) - block.total + head

    def after(self, key: Key | None) -> Iterator[tuple[_Block, int]]:
        """Each block holding sessions performed after ``key`` (all, if None), with the index
        of its first such session."""
        start = 0 if key is None else self._index(key)
        for block in self.blocks[start:]:
            first = 0 if key is None else bisect_right(block.keys, key)
            if first < len(block.keys):
                yield block, first


def _head(block: _Block, j: int, rows: dict[str, LedgerRow]) -> int:
    """The quarters of a block's first ``j`` sessions, counted from the nearer end."""
    if j <= len(block.sessions) // 2:
        return sum(rows[s].quarters for s in block.sessions[:j])
    return block.total - sum(rows[s].quarters for s in block.sessions[j:])


@dataclass
class CapLedger:
    """The hours billed against one programme's cap in one year, session by session, by the
    month each is booked on and in the order performed within it."""

    rows: dict[str, LedgerRow] = field(default_factory=dict)
    runs: dict[str, _Run] = field(default_factory=dict)
    month_quarters: dict[str, int] = field(default_factory=dict)

    def record(self, session: str, key: Key, month: str, day: date, billed: Decimal) -> None:
        if session in self.rows:
            raise ValueError(f"session {session} is already held against the cap")
        quarters = _quarters(billed)
        self.rows[session] = LedgerRow(key, month, day, quarters)
        self.runs.setdefault(month, _Run()).insert(key, session, quarters, self.rows)
        self.month_quarters[month] = self.month_quarters.get(month, 0) + quarters

    def give_way(self, session: str, billed: Decimal) -> Decimal:
        """Set a session's billed hours to ``billed``; return what it gave up."""
        row = self.rows[session]
        given = row.quarters - _quarters(billed)
        row.quarters -= given
        self.runs[row.month].adjust(row.key, given)
        self.month_quarters[row.month] -= given
        return Decimal(given) / 4

    def billed_before(self, key: Key, month: str, closed: Callable[[str], bool]) -> Decimal:
        """The hours a session at ``key``, of ``month``, comes after: every closed month's, and
        the open months' sessions performed before it (months follow each other in time)."""
        total = 0
        for other, quarters in self.month_quarters.items():
            if other < month or closed(other):
                total += quarters
            elif other == month:
                total += self.runs[other].before(key, self.rows)
        return Decimal(total) / 4


def give_way(
    ledger: CapLedger,
    key: Key,
    month: str,
    hours: tuple[Decimal, Decimal],
    limit_on: Callable[[date], Decimal],
    closed: Callable[[str], bool],
) -> list[tuple[str, Decimal]]:
    """The sessions of open months performed after ``key`` (of ``month``) that give way to a
    session held there after ``hours[0]`` and billed ``hours[1]``, each with the hours it
    keeps, in the order performed.

    A session keeps at most the limit in force on its date less everything before it; a block
    of sessions that all fit is passed over whole, as is one that bills nothing.
    """
    running = _quarters(hours[0]) + _quarters(hours[1])
    limits: dict[date, int] = {}

    def limit(day: date) -> int:
        if day not in limits:
            limits[day] = _quarters(limit_on(day))
        return limits[day]

    out = []
    rows = ledger.rows
    later = (m for m in ledger.runs if m >= month and ledger.month_quarters[m] and not closed(m))
    for other in sorted(later):
        for block, first in ledger.runs[other].after(key if other == month else None):
            held = block.total - (_head(block, first, rows) if first else 0)
            if held == 0:
                continue
            low, high = rows[block.sessions[first]].day, rows[block.sessions[-1]].day
            days = (low + timedelta(days=n) for n in range((high - low).days + 1))
            if running + held <= min(limit(d) for d in days):
                running += held  # every one of them fits: none gives way
                continue
            for session in block.sessions[first:]:
                row = rows[session]
                if row.quarters == 0:
                    continue
                keeps = min(row.quarters, max(0, limit(row.day) - running))
                if keeps < row.quarters:
                    out.append((session, Decimal(keeps) / 4))
                running += keeps
    return out


def limit_on(
    catalogue: Catalogue, programme: str, call_offs: Callable[[date], Iterable[CallOff]]
) -> Callable[[date], Decimal]:
    """The hours ``programme`` may bill in a day's year as ordered on that day: the cap in
    force plus the call-offs in force."""

    def limit(day: date) -> Decimal:
        cap = Decimal(catalogue.yearly_cap(programme, day).hours)
        return cap + sum((c.hours for c in call_offs(day) if c.year == day.year), _ZERO)

    return limit


def cut_to(session: SessionLogged, hours: Decimal, cap_version: str) -> SessionLogged:
    """A billed session re-booked with ``hours`` (whole quarters), its amount rounded again on
    the billed quarters (never pro rata), and the cap entry joined to its tariff version."""
    quarters = int(hours * 4)
    version = session.tariff_version
    if not version.endswith(f";{cap_version}"):
        version = f"{version};{cap_version}"
    return session.model_copy(
        update={
            "client_hours": client_hours(quarters),
            "amount_ore": amount_ore(session.rate, quarters),
            "tariff_version": version,
        }
    )


def thresholds_crossed(before: Decimal, after: Decimal, limit: Decimal) -> tuple[int, ...]:
    """The warnings due when the year's hours billed go from ``before`` to ``after``."""
    return tuple(t for t in THRESHOLDS if before < limit * t / 100 <= after)
