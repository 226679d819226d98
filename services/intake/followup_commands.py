"""Intake's commands for the follow-up of coordinated support (002 §1): the family's
assessments, the goals set with it and their follow-up, the planned phase-out; a mixin of
:class:`services.intake.application.Intake` through
:class:`services.intake.registers.RegisterCommands`. A goal's wording and a note are sealed
with the key of the person the case is about, a parent's occupation with that parent's own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

from infra.calendar import local_date
from infra.commands import Busy
from infra.unit_of_work import UnitOfWork
from services.intake.domain_case import Case
from services.intake.followup import FamilyFollowUp, FollowUpError, follow_up_id, occupied
from services.intake.register_base import NotFound, RegisterBase, subject_of


class FollowUpCommands(RegisterBase):
    """The follow-up of a coordinated-support family."""

    def assess_family(
        self,
        case_id: UUID,
        stage: str,
        on: date,
        kasam: int,
        sips: int,
        by: str,
        parents: dict[str, str] | None = None,
        economy: str | None = None,
    ) -> FamilyFollowUp:
        """``parents``: occupation code per guardian ``person_ref`` of the case."""

        def change(case: Case, follow: FamilyFollowUp) -> None:
            sealed = None
            count = None
            if parents is not None:
                guardians = {m["person_ref"] for m in case.household if m["role"] == "guardian"}
                strangers = sorted(set(parents) - guardians)
                if strangers:
                    raise FollowUpError(f"{strangers[0]} is not a guardian in case {case_id}")
                count = occupied(list(parents.values()))
                sealed = [
                    {"person_ref": ref, "occupation": self._sealed(ref, code)}
                    for ref, code in sorted(parents.items())
                ]
            follow.assess(stage, on, kasam, sips, sealed, count, economy, by)

        return self._follow_up(case_id, on, change)

    def set_family_goal(
        self, case_id: UUID, area: str, on: date, by: str, text: str | None = None
    ) -> tuple[FamilyFollowUp, UUID]:
        made: list[UUID] = []

        def change(case: Case, follow: FamilyFollowUp) -> None:
            made.append(follow.set_goal(area, on, self._sealed(subject_of(case), text), by))

        return self._follow_up(case_id, on, change), made[-1]

    def follow_up_family_goal(
        self, case_id: UUID, goal_id: UUID, status: str, on: date, by: str, note: str | None
    ) -> FamilyFollowUp:
        def change(case: Case, follow: FamilyFollowUp) -> None:
            follow.follow_up_goal(goal_id, status, on, self._sealed(subject_of(case), note), by)

        return self._follow_up(case_id, on, change)

    def plan_phase_out(self, case_id: UUID, planned_end: date, on: date, by: str) -> FamilyFollowUp:
        return self._follow_up(
            case_id, on, lambda _, follow: follow.plan_phase_out(planned_end, on, by)
        )

    def family_follow_up(self, case_id: UUID) -> FamilyFollowUp:
        return self._get(follow_up_id(case_id), FamilyFollowUp)

    def _follow_up(
        self, case_id: UUID, on: date, change: Callable[[Case, FamilyFollowUp], None]
    ) -> FamilyFollowUp:
        today = local_date(self.clock())
        if on > today:
            raise FollowUpError(f"{on} is in the future")

        def on_follow_up(uow: UnitOfWork) -> FamilyFollowUp:
            self.staged_keys.clear()
            case = self._case_or_404(case_id)
            if case.programme != "coordinated":
                raise FollowUpError(
                    f"case {case_id} is {case.programme}: follow-ups of coordinated support "
                    "are for coordinated cases"
                )
            if on < local_date(case.received_at):
                raise FollowUpError(f"{on} is before the case was received")
            try:
                follow = self._get(follow_up_id(case_id), FamilyFollowUp)
            except NotFound:
                follow = FamilyFollowUp(case_id=case_id)
            uow.add(follow)  # saved alone: the case is only read
            change(case, follow)
            return follow

        return self.transact(
            on_follow_up,
            busy=lambda: Busy(f"the follow-up of {case_id} kept changing; try again"),
        )
