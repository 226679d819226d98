"""The queue as a read model: every case's place and waits, kept from the store's log.

The view follows scheduling's own notification log (the store is the truth), so it stays
right when several instances of the service share one store: each query first reads what was
recorded since the last one. It is stored in scheduling's store with its position from time to
time (:mod:`infra.projections`), so a start reads only what was recorded since. It only
answers "which cases, in which order"; commands load the cases themselves and the aggregates
guard every change.

It holds only what its queries can still read, so that its cost stays flat over years of
history (issue 18): the queue reads the waiting cases, the deadline check the unjudged ones,
the service levels the waiting and overdue ones, and the wait-time rule the cases waiting or
first held in its window (``wait_window_days`` before today). A case that is settled (first
held, or closed without being held), no longer waits for a deadline verdict, and was settled
:data:`KEPT_DAYS` or more before the latest date the view has read (its horizon, never later
than today) can take part in none of them again, so it is dropped (:meth:`CaseView._drop_settled`).
Events of a dropped case are skipped: a later close does not change when it was first held,
and it is not judged again. The drop is decided after every event, from the log alone, so a
view resumed from any stored position equals a fold from the beginning.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from infra.application import ServiceApplication
from infra.calendar import local_date
from infra.projections import keep, resume
from services.scheduling.domain import WaitingCase, is_acute
from services.scheduling.queue import QueuedCase, ordered

_QUEUED = get_topic(WaitingCase.Queued)  # type: ignore[attr-defined]
_HELD = get_topic(WaitingCase.MeetingHeld)  # type: ignore[attr-defined]
_CLOSED = get_topic(WaitingCase.Closed)  # type: ignore[attr-defined]
_JUDGED = get_topic(WaitingCase.DeadlineJudged)  # type: ignore[attr-defined]

#: A settled case is kept this many days after it was settled, counted back from the view's
#: horizon: longer than any wait window the policy may set (refused above it), with room for
#: a meeting recorded held late.
KEPT_DAYS = 92


class CaseView:
    """Scheduling's cases in queue order, and which deadlines are still to be judged."""

    #: /2: settled cases are dropped after :data:`KEPT_DAYS` (/1 kept every case).
    name = "scheduling.case-view/2"

    def __init__(
        self, app: Application[UUID], batch: int = 1000, kept_days: int | None = KEPT_DAYS
    ) -> None:
        """``kept_days=None`` keeps every case (a check that dropping changes no answer)."""
        window = getattr(getattr(app, "policy", None), "wait_window_days", 0)
        if kept_days is not None and window > kept_days:
            raise ValueError(f"the wait window ({window} days) is longer than the case view "
                             f"keeps settled cases ({kept_days} days)")  # fmt: skip
        self._app = app
        self._batch = batch
        self._kept = None if kept_days is None else timedelta(days=kept_days)
        self.position = 0
        self.cases: dict[UUID, QueuedCase] = {}
        self.unjudged: set[UUID] = set()
        self.overdue: set[UUID] = set()
        #: The latest local date the view has read (received, first held or closed).
        self.horizon: date | None = None

    def catch_up(self) -> None:
        """Read what was recorded since the last call; the caller holds the app's lock."""
        resume(cast(ServiceApplication, self._app), self)
        topics = [_QUEUED, _HELD, _CLOSED, _JUDGED]
        while True:
            notifications = self._app.recorder.select_notifications(
                start=self.position + 1, limit=self._batch, topics=topics
            )
            for notification in notifications:
                self._apply(notification.topic, self._app.mapper.to_domain_event(notification))
                self.position = notification.id
            if len(notifications) < self._batch:
                return

    def keep(self) -> None:
        """Store the view with its position if it moved far enough
        (:func:`infra.projections.keep`); the caller holds the app's lock."""
        keep(cast(ServiceApplication, self._app), self)

    def dump(self) -> dict[str, Any]:
        return {
            "cases": [_plain(asdict(case)) for case in self.cases.values()],
            "unjudged": sorted(c.hex for c in self.unjudged),
            "overdue": sorted(c.hex for c in self.overdue),
            "horizon": self.horizon.isoformat() if self.horizon else None,
        }

    def load(self, state: dict[str, Any]) -> None:
        self.cases = {}
        for row in state["cases"]:
            case = QueuedCase(
                **{
                    **row,
                    "case_id": UUID(row["case_id"]),
                    "received_at": datetime.fromisoformat(row["received_at"]),
                    **{k: date.fromisoformat(row[k]) for k in _DATES if row[k] is not None},
                }
            )
            self.cases[case.case_id] = case
        self.unjudged = {UUID(c) for c in state["unjudged"]}
        self.overdue = {UUID(c) for c in state["overdue"]}
        self.horizon = date.fromisoformat(state["horizon"]) if state["horizon"] else None

    def _apply(self, topic: str, event: DomainEventProtocol[UUID]) -> None:
        """Apply one of a case's events, then drop what no query can read any more."""
        case = self._fold(topic, event)
        if case is None or self._kept is None:
            return
        if self._advance(case):
            self._drop_settled()
        elif self._dropped(case):
            self._forget(case.case_id)

    def _advance(self, case: QueuedCase) -> bool:
        """Move the horizon to the case's latest date; True if it moved."""
        latest = max(d for d in (case.received_on, case.held_on, case.closed_on) if d)
        if self.horizon is not None and latest <= self.horizon:
            return False
        self.horizon = latest
        return True

    def _dropped(self, case: QueuedCase) -> bool:
        """Settled (first held, else closed) ``KEPT_DAYS`` before the horizon, not unjudged."""
        settled = case.held_on or case.closed_on
        assert self._kept is not None and self.horizon is not None
        return (
            settled is not None
            and settled < self.horizon - self._kept
            and case.case_id not in self.unjudged
        )

    def _drop_settled(self) -> None:
        for case in [c for c in self.cases.values() if self._dropped(c)]:
            self._forget(case.case_id)

    def _forget(self, case_id: UUID) -> None:
        del self.cases[case_id]
        self.overdue.discard(case_id)

    def _fold(self, topic: str, event: DomainEventProtocol[UUID]) -> QueuedCase | None:
        """Apply one of a case's events, named by its topic (read as :class:`_CaseQueued` ...);
        the case as it is now, or None for a case no longer in the view."""
        case_id = event.originator_id
        if topic == _QUEUED:
            queued = cast(_CaseQueued, event)
            self.cases[case_id] = QueuedCase(
                case_id=case_id,
                programme=queued.programme,
                priority=queued.priority,
                acute=is_acute(getattr(queued, "urgency", None), queued.priority),
                first_contact_due=queued.first_contact_due,
                received_at=queued.received_at,
                received_on=local_date(queued.received_at),
            )
            self.unjudged.add(case_id)
            return self.cases[case_id]
        found = self.cases.get(case_id)
        if found is None:
            return None  # dropped as settled: see the module docstring
        case = found
        if topic == _HELD and case.held_on is None:
            held = cast(_FirstHeld, event)
            self.cases[case_id] = replace(case, held_on=local_date(held.started_at))
        elif topic == _CLOSED:
            closed_on = local_date(cast(_CaseClosed, event).closed_at)
            self.cases[case_id] = replace(case, closed_on=closed_on)
            if closed_on <= case.first_contact_due:  # closed in time: nothing left to judge
                self.unjudged.discard(case_id)
        elif topic == _JUDGED:
            self.unjudged.discard(case_id)
            if not cast(_DeadlineJudged, event).met:
                self.overdue.add(case_id)
        return self.cases[case_id]

    def queue(self, programme: str | None = None) -> list[QueuedCase]:
        return ordered(c for c in self.cases.values() if programme in (None, c.programme))

    def of_programme(self, programme: str) -> list[QueuedCase]:
        return [c for c in self.cases.values() if c.programme == programme]


# ``WaitingCase``'s events as the view reads them (what its ``@event`` methods record; a type
# checker cannot see their generated classes).


class _CaseQueued(Protocol):
    programme: str
    priority: int
    first_contact_due: date
    received_at: datetime
    #: Absent from cases queued before scheduling kept the urgency.
    urgency: str | None


class _FirstHeld(Protocol):
    started_at: datetime


class _CaseClosed(Protocol):
    closed_at: datetime


class _DeadlineJudged(Protocol):
    met: bool


_DATES = ("first_contact_due", "received_on", "held_on", "closed_on")


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.hex if isinstance(v, UUID) else v.isoformat() if isinstance(v, date) else v
        for k, v in row.items()
    }
