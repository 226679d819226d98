"""The wait queue's order and the wait-time rules: pure functions, no clock, no store.

Order: intake's priority (1 first), which already follows the programme's order of the seeds
(network work: decided assistance before service, 000/002; counselling: acute first, 003 §2.3;
:mod:`services.intake.priority` owns it and says why); within one priority acute cases first;
then the first-contact due date, then the instant the referral was received, then the case id
so that the order is total and replays the same.

Wait time is counted in calendar days from the Stockholm date a referral was received to the
date its first contact was held. The wait-time rule looks at the ``window_days`` full days
before the day it is judged: the waits of the first contacts held in them, and every case still
waiting at the end of that period whose wait so far already exceeds the threshold (its final
wait can only be longer; counting a fresh case's few days so far would understate the waits).
A report is due when the median of that sample is above the threshold.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, NamedTuple
from uuid import UUID


class QueueKey(NamedTuple):
    priority: int
    #: False sorts first: acute before the others of the same priority.
    not_acute: bool
    first_contact_due: date
    received_at: datetime
    case_id: UUID


@dataclass(frozen=True)
class QueuedCase:
    """A case as the queue and the wait-time rule see it."""

    case_id: UUID
    programme: str
    priority: int
    first_contact_due: date
    received_at: datetime
    received_on: date
    acute: bool = False
    #: Local date the first contact was held; None while the case waits.
    held_on: date | None = None
    #: Local date the case was closed; a closed case no longer waits.
    closed_on: date | None = None

    @property
    def key(self) -> QueueKey:
        return QueueKey(
            self.priority, not self.acute, self.first_contact_due, self.received_at, self.case_id
        )

    @property
    def waiting(self) -> bool:
        return self.held_on is None and self.closed_on is None


def ordered(cases: Iterable[QueuedCase]) -> list[QueuedCase]:
    """The waiting cases, first served first."""
    return sorted((c for c in cases if c.waiting), key=lambda c: c.key)


def place_of(case_id: UUID, cases: Iterable[QueuedCase]) -> int | None:
    """The 1-based place of a waiting case in ``cases``' queue, or None if it is not waiting."""
    for place, case in enumerate(ordered(cases), start=1):
        if case.case_id == case_id:
            return place
    return None


def wait_sample(
    cases: Iterable[QueuedCase], on: date, window_days: int, threshold_days: int
) -> list[int]:
    """The waits (days) the rule judges on ``on``: see the module docstring."""
    last = on - timedelta(days=1)
    first = on - timedelta(days=window_days)
    sample: list[int] = []
    for case in cases:
        if case.received_on > last:
            continue
        if case.held_on is not None and first <= case.held_on <= last:
            sample.append((case.held_on - case.received_on).days)
            continue
        still_waiting = (case.held_on is None or case.held_on > last) and (
            case.closed_on is None or case.closed_on > last
        )
        so_far = (last - case.received_on).days
        if still_waiting and so_far > threshold_days:
            sample.append(so_far)
    return sample


def median_days(sample: Sequence[int]) -> float | None:
    return statistics.median(sample) if sample else None


def reported_days(median: float) -> int:
    """The median as the report states it: whole days, rounded up (14.5 is above 14)."""
    return math.ceil(median)


@dataclass(frozen=True)
class MonitorState:
    #: The day the current period of long waits was first reported; None when waits are fine.
    breached_since: date | None = None
    last_reported_on: date | None = None


Verdict = Literal["report", "recovered"] | None


def judge_waits(
    state: MonitorState, on: date, median: float | None, threshold_days: int, report_days: int
) -> Verdict:
    """What the wait-time monitor does on ``on``: report when long waits begin, report again
    every ``report_days`` while they last, note the recovery when they end, else nothing."""
    if state.last_reported_on == on:
        return None  # one verdict a day: a late record must not make the monitor flap
    long_waits = median is not None and median > threshold_days
    if not long_waits:
        return "recovered" if state.breached_since is not None else None
    if state.breached_since is None or state.last_reported_on is None:
        return "report"
    if (on - state.last_reported_on).days >= report_days:
        return "report"
    return None
