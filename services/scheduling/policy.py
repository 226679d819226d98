"""Scheduling's policy and the fixed rules of each programme's meetings.

Every number the scheduling rules depend on is here, with the seed it comes from or the reason
it was chosen where the seeds are silent (``docs/scheduling.md`` restates them). The named
settings are read from ``LOTS_SCHEDULING_*`` environment variables by
:class:`services.scheduling.settings.SchedulingSettings`; tests build a
:class:`SchedulingPolicy` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Literal

from events.types import PROGRAMMES
from infra.calendar import CalendarPolicy
from services.scheduling.steering_rule import DEFAULT_TERM, Term

Competence = Literal[
    "violence_in_close_relationships",
    "childrens_needs",
    "sexology",
    "lgbtq",
    "disability_adapted",
    "network_work",
    "sip",
]
COMPETENCES: frozenset[str] = frozenset(Competence.__args__)  # type: ignore[attr-defined]
LEANLINK = "leanlink"

#: Competence every staff member in a programme's meetings must have (000, 002): network work
#: is a method of its own, coordinated support is built around SIP. Counselling and field work
#: need no special competence; a counselling case's own needs are added to this (003 §2.6).
BASE_COMPETENCES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "network": frozenset({"network_work"}),
        "coordinated": frozenset({"sip"}),
        "counselling": frozenset(),
        "field": frozenset(),
    }
)


@dataclass(frozen=True)
class KindRule:
    """How a kind of meeting may be booked: its formats (the first is the default) and length."""

    formats: tuple[str, ...]
    min_minutes: int
    max_minutes: int
    default_minutes: int
    #: Night walks are booked in the night window only, never in office hours.
    night: bool = False


_ANY = ("individual", "couple", "group")
#: The meetings each programme books (domain.md, "Work and meetings"). Counselling visits are
#: 1-2 hours (003 §2.3); a network meeting gets up to four hours because the whole private
#: and professional network meets at once.
KINDS: Mapping[str, Mapping[str, KindRule]] = MappingProxyType(
    {
        "network": MappingProxyType(
            {
                "coordination": KindRule(_ANY, 30, 180, 60),
                "pre_meeting": KindRule(("couple", "individual", "group"), 60, 180, 120),
                "network_meeting": KindRule(("group",), 60, 240, 180),
                "follow_up": KindRule(("group", "couple", "individual"), 30, 180, 120),
            }
        ),
        "coordinated": MappingProxyType(
            {
                "coordination": KindRule(_ANY, 30, 180, 60),
                "sip_meeting": KindRule(("group",), 60, 180, 120),
                "follow_up": KindRule(("group", "couple", "individual"), 30, 180, 60),
            }
        ),
        "counselling": MappingProxyType(
            {
                "counselling": KindRule(("couple", "individual"), 60, 120, 90),
                "group_session": KindRule(("group",), 60, 120, 120),
            }
        ),
        "field": MappingProxyType({"night_walk": KindRule(("group",), 60, 360, 240, night=True)}),
    }
)

#: The kind of a programme's first contact: a counselling conversation, otherwise the
#: coordination talk that starts network work or coordinated support.
FIRST_CONTACT_KIND: Mapping[str, str] = MappingProxyType(
    {"network": "coordination", "coordinated": "coordination", "counselling": "counselling"}
)


@dataclass(frozen=True)
class PlanStep:
    kind: str
    minutes: int
    #: Earliest start, in days after the previous step's start (0: right after it ends).
    gap_days: int


#: Network work after its first contact (a 60-minute coordination talk): about 13 hours per
#: family in all, "including general coordination, pre-meeting, network meeting and
#: follow-up" (000, 002 §2). A week between pre-meeting and network meeting leaves time to
#: invite the network; follow-ups come a month apart.
NETWORK_PLAN: tuple[PlanStep, ...] = (
    PlanStep("coordination", 60, 0),
    PlanStep("pre_meeting", 120, 2),
    PlanStep("network_meeting", 180, 7),
    PlanStep("coordination", 120, 1),
    PlanStep("follow_up", 120, 28),
    PlanStep("follow_up", 120, 28),
)


@dataclass(frozen=True)
class WorkingTime:
    """Local working windows, in minutes after Stockholm midnight (end exclusive, at most 1440).

    Office hours are weekdays 08:00-17:00 (000, 002, 003). Evenings and weekends are offered
    only where the staff member offers them and the family asks (003 §2.3: "mottagning under
    kvällstid"): evenings until 20:00, weekends 10:00-16:00. Night walks are on Friday and
    Saturday nights (004: "kvällstid, fredagar och lördagar") from 18:00 and end by midnight,
    so no booking ever spans two dates. No booking falls on a legal holiday or, with the
    calendar's default, on Midsummer Eve, Christmas Eve or New Year's Eve.
    """

    day: tuple[int, int] = (8 * 60, 17 * 60)
    evening: tuple[int, int] = (17 * 60, 20 * 60)
    weekend: tuple[int, int] = (10 * 60, 16 * 60)
    night: tuple[int, int] = (18 * 60, 24 * 60)
    night_weekdays: frozenset[int] = frozenset({4, 5})
    step_minutes: int = 15
    calendar: CalendarPolicy = field(default_factory=CalendarPolicy)

    def __post_init__(self) -> None:
        for start, end in (self.day, self.evening, self.weekend, self.night):
            if not 0 <= start < end <= 24 * 60:
                raise ValueError("a working window must satisfy 0 <= start < end <= 1440")
        if self.step_minutes < 1 or 60 % self.step_minutes:
            raise ValueError("step_minutes must divide an hour")


@dataclass(frozen=True)
class SchedulingPolicy:
    """The settings scheduling decides by; defaults are the seeds' values or documented choices."""

    providers: tuple[str, str] = (LEANLINK, "other_provider")
    #: Booking ahead of a first contact: the family is called and offered the time first.
    notice: timedelta = timedelta(hours=24)
    first_contact_minutes: int = 60
    #: After every case that can be offered a first contact in time is booked, the others are
    #: booked late (earliest free time within this many days after their due date).
    book_late: bool = True
    late_search_days: int = 60
    #: How far ahead a later meeting or a reschedule looks for a free time.
    search_days: int = 90
    #: "Waits over 14 days for a longer period" (003 §2.3): the median wait of the last
    #: ``wait_window_days`` above ``wait_threshold_days``; repeated every ``wait_report_days``
    #: while it lasts.
    wait_threshold_days: int = 14
    wait_window_days: int = 28
    wait_report_days: int = 28
    wait_programmes: tuple[str, ...] = ("network", "coordinated", "counselling")
    working_time: WorkingTime = field(default_factory=WorkingTime)
    network_plan: tuple[PlanStep, ...] = NETWORK_PLAN
    #: The contract term the steering group is judged within (002;
    #: services/scheduling/steering_rule.py).
    steering_term: Term = DEFAULT_TERM

    def __post_init__(self) -> None:
        if self.providers[0] != LEANLINK or self.providers[1] in ("", LEANLINK):
            raise ValueError("providers are leanlink and one other counselling provider")
        if min(self.wait_threshold_days, self.wait_window_days, self.wait_report_days) < 1:
            raise ValueError("the wait-time settings must be positive")
        if not set(self.wait_programmes) <= set(PROGRAMMES):
            raise ValueError("wait_programmes must name programmes")

    @property
    def other_provider(self) -> str:
        return self.providers[1]
