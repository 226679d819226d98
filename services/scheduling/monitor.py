"""Wait-time monitoring: every first-contact deadline judged once, and each programme's waits.

The runtime calls :func:`check_deadlines` every ``check_interval_seconds``; everything it
decides is a function of the application's clock, so a test moves time by moving the clock.

* A case's deadline is judged on the first check after its due date has ended (Stockholm
  time): ``FirstContactOverdue`` if it was not offered a first contact by then (see
  :mod:`~services.scheduling.domain`). The case's own aggregate records the verdict, so it is
  given once, also when several instances check at the same moment.
* A programme's waits are judged once a day on the days before it
  (:func:`~services.scheduling.queue.wait_sample`): ``WaitTimeReportDue`` when the median rises
  above the threshold, again every ``wait_report_days`` while it stays there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.calendar import local_date
from services.scheduling.desk import Desk
from services.scheduling.domain import NAMESPACE, WaitingCase
from services.scheduling.ports import Schedule
from services.scheduling.queue import (
    MonitorState,
    judge_waits,
    median_days,
    reported_days,
    wait_sample,
)


class WaitMonitor(Aggregate):
    """Whether a programme is in a period of long waits, and when it was last reported."""

    @staticmethod
    def create_id(programme: str, **_: object) -> UUID:
        return uuid5(NAMESPACE, f"wait-monitor/{programme}")

    @event("Started")
    def __init__(self, programme: str) -> None:
        self.programme = programme
        self.breached_since: date | None = None
        self.last_reported_on: date | None = None

    @event("ReportDue")
    def report(
        self, programme: str, on: date, median_wait_days: int, sample_size: int,
        window_days: int, detected_at: datetime,
    ) -> None:  # fmt: skip
        if self.breached_since is None:
            self.breached_since = on
        self.last_reported_on = on

    @event("Recovered")
    def recover(self, on: date, median_wait_days: int | None) -> None:
        self.breached_since = None


@dataclass(frozen=True)
class DeadlineCheck:
    overdue: list[UUID] = field(default_factory=list)
    met: list[UUID] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)


def wait_times(app: Schedule, on: date) -> dict[str, tuple[float | None, int]]:
    """Per monitored programme: the median wait the rule judges on ``on``, and its sample."""
    policy = app.policy
    with app.lock:
        app.view.catch_up()
        out: dict[str, tuple[float | None, int]] = {}
        for programme in policy.wait_programmes:
            cases = app.view.of_programme(programme)
            sample = wait_sample(cases, on, policy.wait_window_days, policy.wait_threshold_days)
            out[programme] = (median_days(sample), len(sample))
    return out


def check_deadlines(app: Schedule) -> DeadlineCheck:
    now = app.clock()
    today = local_date(now)
    check = DeadlineCheck()
    with app.lock:
        app.view.catch_up()
        app.view.keep()
        cases = app.view.cases
        due = sorted(c for c in app.view.unjudged if cases[c].first_contact_due < today)

    def judge(desk: Desk) -> list[WaitingCase]:
        judged = []
        for case_id in due:
            case = desk.uow.get(case_id, WaitingCase)
            if case is not None and case.judge_deadline(today, now):
                judged.append(case)
        return judged

    for case in app.transact(judge) if due else []:
        (check.overdue if case.overdue else check.met).append(case.id)
    for programme, (median, size) in wait_times(app, today).items():
        if app.transact(partial(_judge, programme=programme, now=now, median=median, size=size)):
            check.reports.append(programme)
    return check


def _judge(desk: Desk, *, programme: str, now: datetime, median: float | None, size: int) -> bool:
    """Apply the day's verdict on a programme's waits; True if a report became due."""
    policy, today = desk.policy, local_date(now)
    monitor = desk.uow.get(WaitMonitor.create_id(programme), WaitMonitor)
    state = MonitorState(
        monitor.breached_since if monitor else None, monitor.last_reported_on if monitor else None
    )
    verdict = judge_waits(state, today, median, policy.wait_threshold_days, policy.wait_report_days)
    if verdict is None:
        return False
    if monitor is None:
        monitor = WaitMonitor(programme=programme)
        desk.uow.add(monitor)
    if verdict == "recovered":
        monitor.recover(today, None if median is None else reported_days(median))
        return False
    assert median is not None, "a report is due only for a median above the threshold"
    window = policy.wait_window_days
    monitor.report(programme, today, reported_days(median), size, window, now)
    return True
