"""Scheduling's own settings: the ``LOTS_SCHEDULING_*`` environment variables.

What every service shares (Redis, stores, ports, tokens, the calendar's days off) stays in
:class:`infra.settings.Settings`; :mod:`services.scheduling.app` reads both and builds the
:class:`~services.scheduling.policy.SchedulingPolicy` of them.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.calendar import CalendarPolicy
from services.scheduling.policy import LEANLINK, SchedulingPolicy, WorkingTime
from services.scheduling.steering_rule import DEFAULT_TERM, Term


class SchedulingSettings(BaseSettings):
    """The ``LOTS_SCHEDULING_*`` environment variables (documented in ``docs/scheduling.md``)."""

    model_config = SettingsConfigDict(env_prefix="LOTS_SCHEDULING_", extra="ignore", frozen=True)

    other_provider: str = Field(default="other_provider", pattern=r"^[a-z][a-z0-9_]{1,40}$")
    notice_hours: int = Field(default=24, ge=0, le=24 * 14)
    book_late: bool = True
    wait_threshold_days: int = Field(default=14, ge=1)
    wait_window_days: int = Field(default=28, ge=1)
    wait_report_days: int = Field(default=28, ge=1)
    check_interval_seconds: float = Field(default=60.0, gt=0)
    #: The steering group's contract term (002): from 2018-09-01, until further notice; set
    #: the last day when the contract ends (a notice given, an extension not made).
    steering_term_from: date = DEFAULT_TERM.first_day
    steering_term_to: date | None = DEFAULT_TERM.last_day

    @model_validator(mode="after")
    def _term_ends_after_it_starts(self) -> SchedulingSettings:
        self.steering_term()
        return self

    def steering_term(self) -> Term:
        return Term(self.steering_term_from, self.steering_term_to)

    def policy(self, calendar: CalendarPolicy | None = None) -> SchedulingPolicy:
        """The policy of these settings, on the deployment's calendar (``de_facto_days_off``)."""
        return SchedulingPolicy(
            providers=(LEANLINK, self.other_provider),
            notice=timedelta(hours=self.notice_hours),
            book_late=self.book_late,
            wait_threshold_days=self.wait_threshold_days,
            wait_window_days=self.wait_window_days,
            wait_report_days=self.wait_report_days,
            working_time=WorkingTime(calendar=calendar or CalendarPolicy()),
            steering_term=self.steering_term(),
        )
