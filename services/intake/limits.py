"""The per-source rate limit on referrals: a generic cell rate algorithm over the given clock.

Each source may send ``per_minute`` referrals a minute on average and up to ``burst`` at once.
The state per source is one integer, the *theoretical arrival time* (microseconds since the
epoch): a referral at ``now`` is admitted when that time is at most ``(burst - 1)`` intervals
ahead of ``now``, and then moves it one interval on. So in any stretch of time ``elapsed`` a
source is admitted at most ``burst + per_minute * elapsed / 60 s`` referrals; the interval is
rounded *up* to whole microseconds, so rounding never admits more than the configured rate.
A refused referral changes nothing, and its ``retry_after`` is exactly when the next one fits.

The limiter never reads a clock: intake passes the instant a referral was received (its clock,
``infra.clock``, simulated or real). Decisions are staged and kept only when the unit of work
that made them is saved (:meth:`begin`, :meth:`commit`, :meth:`rollback`), so a batch applied
again after a conflict or a failure is not counted twice.

The state is kept in memory, per intake instance (see README, "Intake's rules", for why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

MICROS_PER_MINUTE = 60_000_000
#: Sources whose allowance is full again are forgotten once more than this many are kept.
KEEP_SOURCES = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Rate:
    """``per_minute`` referrals a minute on average, ``burst`` at once."""

    per_minute: int
    burst: int

    def __post_init__(self) -> None:
        if self.per_minute < 1 or self.burst < 1:
            raise ValueError("a rate needs per_minute >= 1 and burst >= 1")

    @property
    def interval_us(self) -> int:
        """Microseconds between two referrals at the average pace, rounded up."""
        return -(-MICROS_PER_MINUTE // self.per_minute)


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass
class SourceLimiter:
    """Admits or refuses each source's referrals; ``None`` as a rate means no limit."""

    default: Rate | None = None
    overrides: Mapping[str, Rate | None] = field(default_factory=dict)
    _tat: dict[str, int] = field(default_factory=dict, repr=False)
    _staged: dict[str, int] = field(default_factory=dict, repr=False)

    def rate_of(self, source: str) -> Rate | None:
        return self.overrides.get(source, self.default)

    def admit(self, source: str, at: datetime) -> timedelta | None:
        """None when a referral from ``source`` received ``at`` is admitted (and counted);
        otherwise how long until the next one would be."""
        rate = self.rate_of(source)
        if rate is None:
            return None
        now = _micros(at)
        interval = rate.interval_us
        tat = max(self._staged.get(source, self._tat.get(source, now)), now)
        ahead = tat - now - (rate.burst - 1) * interval
        if ahead > 0:
            return timedelta(microseconds=ahead)
        self._staged[source] = tat + interval
        return None

    def begin(self) -> None:
        """Start a unit of work: nothing staged before it counts."""
        self._staged.clear()

    def commit(self, at: datetime) -> None:
        """Keep what the saved unit of work admitted."""
        self._tat.update(self._staged)
        self._staged.clear()
        if len(self._tat) > KEEP_SOURCES:
            now = _micros(at)
            for source in [s for s, tat in self._tat.items() if tat <= now]:
                del self._tat[source]  # a full allowance is the same as none recorded

    def rollback(self) -> None:
        self._staged.clear()
