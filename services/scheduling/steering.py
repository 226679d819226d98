"""The steering group of coordinated support and network work (seed 002): the provider convenes
it at least three times a year. Its meetings: planned, then held (with the organisations that
took part) or cancelled.

Whether the year's meetings reach what 002 asks for is the rule of
:mod:`services.scheduling.steering_rule` (:func:`~services.scheduling.steering_rule.outlook`),
which counts these meetings as :meth:`SteeringMeeting.as_planned` gives them.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.calendar import local_date
from infra.refusals import Refused
from services.scheduling.steering_rule import Planned, Status

STEERING_NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/steering-group")
ORGANISATIONS = ("social_services", "education", "provider", "labour_market", "region", "other")


class SteeringError(Refused):
    """A steering-group command the rules refuse; the text says why."""

    status = 422


class SteeringStateError(SteeringError):
    """The meeting's state does not allow it (answered 409)."""

    status = 409


class SteeringMeeting(Aggregate):
    """One meeting of the steering group: planned, then held or cancelled."""

    @staticmethod
    def create_id(starts_at: datetime, **_: object) -> UUID:
        # One meeting per start time: convening the same meeting twice changes nothing.
        return uuid5(STEERING_NAMESPACE, starts_at.isoformat())

    @event("Planned")
    def __init__(
        self, starts_at: datetime, ends_at: datetime, planned_at: datetime, by: str
    ) -> None:
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.status = "planned"
        self.organisations: list[str] = []

    @property
    def day(self) -> date:
        return local_date(self.starts_at)

    def hold(
        self,
        started_at: datetime,
        ended_at: datetime,
        organisations: list[str],
        at: datetime,
        by: str,
    ) -> None:
        if self.status != "planned":
            raise SteeringStateError(f"the meeting was {self.status}; it cannot be held")
        if ended_at <= started_at:
            raise SteeringError("a meeting ends after it starts")
        if started_at > at:
            raise SteeringError("a meeting is recorded held once it took place")
        unknown = sorted(set(organisations) - set(ORGANISATIONS))
        if unknown:
            raise SteeringError(
                f"unknown organisation {unknown[0]!r}; known: {', '.join(ORGANISATIONS)}"
            )
        if "provider" not in organisations:
            raise SteeringError("the provider convenes the steering group and takes part in it")
        self._held(
            started_at=started_at,
            ended_at=ended_at,
            organisations=sorted(set(organisations)),
            at=at,
            by=by,
        )

    @event("Held")
    def _held(
        self,
        started_at: datetime,
        ended_at: datetime,
        organisations: list[str],
        at: datetime,
        by: str,
    ) -> None:
        self.status = "held"
        self.starts_at, self.ends_at = started_at, ended_at
        self.organisations = list(organisations)

    def cancel(self, at: datetime, by: str) -> None:
        if self.status != "planned":
            raise SteeringStateError(f"the meeting was {self.status}; it cannot be cancelled")
        self._cancelled(starts_at=self.starts_at, at=at, by=by)

    @event("Cancelled")
    def _cancelled(self, starts_at: datetime, at: datetime, by: str) -> None:
        self.status = "cancelled"

    def as_planned(self) -> Planned:
        status: Status = self.status  # type: ignore[assignment]
        return Planned(self.day, status, frozenset(self.organisations))
