"""Follow-up of a coordinated-support family (seed 002): goals and their follow-ups, a planned
phase-out, and the family's indicators at the start, at follow-ups and at the end.

The indicators are the seed's: self-rated ability to manage everyday life (a KASAM score: the
SOC-13 sum, 13-91), the number of SIPs, the parents' occupation and the family's economic
situation. A parent's occupation is about that person: it is sealed with the parent's own key;
what leaves intake is how many parents have an occupation, never who.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.refusals import Refused

FOLLOW_UP_NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/coordinated-follow-up")
STAGES = ("start", "follow_up", "end")
KASAM_RANGE = (13, 91)
#: Occupation codes; the first three count as having an occupation (sysselsättning, seed 002).
OCCUPATIONS = (
    "employment",
    "studies",
    "labour_market_programme",
    "sick_leave",
    "parental_leave",
    "none",
)
OCCUPIED = frozenset(OCCUPATIONS[:3])
#: The family's economic situation, worst first: a move right is an improvement.
ECONOMY = ("income_support", "partly_self_supporting", "self_supporting")
GOAL_AREAS = ("school_eligibility", "everyday_structure", "occupation", "economy", "other")
GOAL_STATUSES = ("not_started", "in_progress", "achieved", "not_achieved")


class FollowUpError(Refused):
    """A follow-up command the rules refuse; the text says why."""

    status = 422


class FollowUpOrderError(FollowUpError):
    """The command comes in the wrong order (answered 409)."""

    status = 409


def follow_up_id(case_id: UUID) -> UUID:
    return uuid5(FOLLOW_UP_NAMESPACE, str(case_id))


class FamilyFollowUp(Aggregate):
    """The follow-up of one coordinated-support case."""

    @staticmethod
    def create_id(case_id: UUID, **_: object) -> UUID:
        return follow_up_id(case_id)

    @event("Begun")
    def __init__(self, case_id: UUID) -> None:
        self.case_id = case_id
        self.stages: list[str] = []
        self.last_assessed: date | None = None
        self.goals: dict[str, dict[str, Any]] = {}
        self.planned_end: date | None = None

    # --- assessments ---------------------------------------------------------------------------

    def assess(
        self,
        stage: str,
        on: date,
        kasam: int,
        sips: int,
        parents: list[dict[str, Any]] | None,
        parents_with_occupation: int | None,
        economy: str | None,
        by: str,
    ) -> None:
        """``parents``: each ``{person_ref, occupation}`` with the occupation already sealed;
        ``parents_with_occupation`` counted by the caller before sealing."""
        if stage not in STAGES:
            raise FollowUpError(f"unknown stage {stage!r}; known: {', '.join(STAGES)}")
        if not KASAM_RANGE[0] <= kasam <= KASAM_RANGE[1]:
            raise FollowUpError(f"kasam {kasam} is outside the SOC-13 range 13-91")
        if sips < 0:
            raise FollowUpError("sips cannot be negative")
        if stage == "start" and "start" in self.stages:
            raise FollowUpOrderError("the start was assessed already")
        if stage != "start" and "start" not in self.stages:
            raise FollowUpOrderError(f"a {stage.replace('_', ' ')} needs the start assessed first")
        if "end" in self.stages:
            raise FollowUpOrderError("the end was assessed: the follow-up is over")
        if self.last_assessed is not None and on < self.last_assessed:
            raise FollowUpOrderError(
                f"assessed on {on}, before the previous assessment ({self.last_assessed})"
            )
        if stage in ("start", "end") and (parents is None or economy is None):
            raise FollowUpError(
                "the start and the end record the parents' occupation and the family's economic "
                "situation (seed 002)"
            )
        if economy is not None and economy not in ECONOMY:
            raise FollowUpError(f"unknown economy {economy!r}; known: {', '.join(ECONOMY)}")
        self._assessed(
            case_id=self.case_id,
            stage=stage,
            on=on,
            kasam=kasam,
            sips=sips,
            parents=parents,
            parents_with_occupation=parents_with_occupation,
            economy=economy,
            by=by,
        )

    @event("Assessed")
    def _assessed(
        self,
        case_id: UUID,
        stage: str,
        on: date,
        kasam: int,
        sips: int,
        parents: list[dict[str, Any]] | None,
        parents_with_occupation: int | None,
        economy: str | None,
        by: str,
    ) -> None:
        self.stages.append(stage)
        self.last_assessed = on

    # --- goals and the phase-out ---------------------------------------------------------------

    def set_goal(self, area: str, on: date, text: str | None, by: str) -> UUID:
        if area not in GOAL_AREAS:
            raise FollowUpError(f"unknown goal area {area!r}; known: {', '.join(GOAL_AREAS)}")
        self._check_open()
        goal_id = uuid5(self.id, f"goal/{len(self.goals) + 1}")
        self._goal_set(case_id=self.case_id, goal_id=goal_id, area=area, on=on, text=text, by=by)
        return goal_id

    @event("GoalSet")
    def _goal_set(
        self, case_id: UUID, goal_id: UUID, area: str, on: date, text: str | None, by: str
    ) -> None:
        self.goals[str(goal_id)] = {"area": area, "set_on": on, "status": "not_started"}

    def follow_up_goal(
        self, goal_id: UUID, status: str, on: date, note: str | None, by: str
    ) -> None:
        goal = self.goals.get(str(goal_id))
        if goal is None:
            raise FollowUpError(f"no goal {goal_id} in this follow-up")
        if status not in GOAL_STATUSES:
            raise FollowUpError(f"unknown status {status!r}; known: {', '.join(GOAL_STATUSES)}")
        self._check_open()
        if on < goal["set_on"]:
            raise FollowUpOrderError(f"followed up on {on}, before the goal was set")
        self._goal_followed_up(
            case_id=self.case_id, goal_id=goal_id, status=status, on=on, note=note, by=by
        )

    @event("GoalFollowedUp")
    def _goal_followed_up(
        self, case_id: UUID, goal_id: UUID, status: str, on: date, note: str | None, by: str
    ) -> None:
        self.goals[str(goal_id)]["status"] = status

    def plan_phase_out(self, planned_end: date, on: date, by: str) -> None:
        self._check_open()
        if planned_end <= on:
            raise FollowUpError(f"the phase-out must end after it is planned ({on})")
        self._phase_out_planned(case_id=self.case_id, planned_end=planned_end, on=on, by=by)

    @event("PhaseOutPlanned")
    def _phase_out_planned(self, case_id: UUID, planned_end: date, on: date, by: str) -> None:
        self.planned_end = planned_end

    def _check_open(self) -> None:
        if "end" in self.stages:
            raise FollowUpOrderError("the end was assessed: the follow-up is over")


def occupied(codes: list[str]) -> int:
    """How many of these occupation codes count as having an occupation."""
    unknown = [c for c in codes if c not in OCCUPATIONS]
    if unknown:
        raise FollowUpError(f"unknown occupation {unknown[0]!r}; known: {', '.join(OCCUPATIONS)}")
    return sum(1 for c in codes if c in OCCUPIED)
