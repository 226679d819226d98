"""Intake's commands for the quality registers and the follow-up of coordinated support.

A mixin of :class:`services.intake.application.Intake`, kept apart so that the case's own
commands and these do not crowd one module. Free text about people (narratives, notes, goals)
is sealed with the key of the person the case is about (its child, else its first member), so
erasing that person erases it; a parent's occupation is sealed with that parent's own key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from events.types import PROGRAMMES
from infra.application import ServiceApplication
from infra.calendar import local_date
from infra.commands import Busy
from infra.contract_names import seed
from infra.pii import StagedKeys, seal, unseal
from infra.refusals import Refused
from infra.unit_of_work import UnitOfWork
from infra.words import counted
from services.intake.domain import Case, CaseError
from services.intake.followup import FamilyFollowUp, FollowUpError, follow_up_id, occupied
from services.intake.quality import (
    REGISTERS,
    QualityError,
    QualityRecord,
    QualitySummary,
    summary_due,
)
from services.intake.quality_summary import Entry, Step, year_summary

A = TypeVar("A", bound=Aggregate)
CATEGORIES = ("complaint", "view")
CHANNELS = ("provider", "administration")


class NotFound(Refused, LookupError):
    """No such register entry, case or follow-up (answered 404)."""

    status = 404


class RegisterCommands(ServiceApplication):
    """Quality registers and coordinated-support follow-ups; mixed into Intake."""

    clock: Callable[[], datetime]
    staged_keys: StagedKeys
    case: Callable[[UUID], Case]

    # --- quality registers -------------------------------------------------------------------

    def record_quality_event(
        self,
        register: str,
        occurred_on: date,
        by: str,
        description: str | None = None,
        case_id: UUID | None = None,
        programme: str | None = None,
        category: str | None = None,
        channel: str | None = None,
        concerns_administration: bool = False,
    ) -> QualityRecord:
        if register not in REGISTERS:
            raise QualityError(f"unknown register {register!r}; known: {', '.join(REGISTERS)}")
        if register == "complaint":
            if category not in CATEGORIES or channel not in CHANNELS:
                raise QualityError(
                    "a complaint needs category ('complaint' or 'view') and channel "
                    "('provider' or 'administration': where it was received, 003 §4.3)"
                )
        elif category is not None or channel is not None or concerns_administration:
            raise QualityError(
                "category, channel and concerns_administration belong to complaints only"
            )
        if programme is not None and programme not in PROGRAMMES:
            raise QualityError(f"unknown programme {programme!r}; known: {', '.join(PROGRAMMES)}")
        now = self.clock()
        if occurred_on > local_date(now):
            raise QualityError(f"occurred_on {occurred_on} is in the future")
        with self.lock:
            self.staged_keys.clear()
            subject = None
            if case_id is not None:
                case = self._case_or_404(case_id)
                if programme is not None and programme != case.programme:
                    raise QualityError(f"case {case_id} is in {case.programme}, not {programme}")
                programme = case.programme
                subject = _subject_of(case)
            record = QualityRecord(
                register=register,
                category=category,
                channel=channel,
                concerns_administration=concerns_administration,
                programme=programme,
                case_id=case_id,
                occurred_on=occurred_on,
                recorded_at=now,
                by=by,
                subject=subject,
                description=self._sealed(subject, description),
            )
            self.save(record)
            return record

    def handle_quality_event(
        self,
        record_id: UUID,
        step: str,
        by: str,
        note: str | None = None,
        social_worker_copy: str | None = None,
    ) -> QualityRecord:
        def change(record: QualityRecord) -> None:
            decided = False
            if record.case_id is not None:
                decided = self._case_or_404(record.case_id).basis == "decision"
            record.handle(
                step,
                self.clock(),
                by,
                self._sealed(record.subject, note),
                social_worker_copy=social_worker_copy,
                has_social_worker=decided,
            )

        return self._changed(record_id, QualityRecord, change)

    def quality_record(self, record_id: UUID) -> QualityRecord:
        return self._get(record_id, QualityRecord)

    def submit_quality_summary(self, year: int, by: str) -> tuple[QualitySummary, dict[str, Any]]:
        """Record that the Lex Sarah summary of ``year`` went to the administration, with its
        figures (:func:`services.intake.quality_summary.year_summary`, as on 31 December).
        Submitting twice keeps the first. Returns the summary and its figures."""
        now = self.clock()
        if local_date(now) <= date(year, 12, 31):
            raise QualityError(f"the summary of {year} can be submitted once the year is over")
        with self.lock:
            records = self._records()
            figures = year_summary(map(_entry, records), year)
            try:
                return self._get(QualitySummary.create_id(year), QualitySummary), figures
            except NotFound:
                pass
            count = sum(1 for r in records if local_date(r.recorded_at).year == year)
            summary = QualitySummary(
                year=year,
                submitted_at=now,
                by=by,
                records=count,
                lex_sarah_reports=figures["lex_sarah"]["reports"],
                reports_to_ivo=figures["lex_sarah"]["reports_to_ivo"],
                complaints_and_views=figures["complaints_and_views"]["received"],
                incidents=figures["incidents"]["received"],
                supervisions=figures["ivo_supervision"]["received"],
            )
            self.save(summary)
            return summary, figures

    def quality_year_summary(self, year: int) -> dict[str, Any]:
        """The Lex Sarah summary of ``year`` as it stands (the year may still be running)."""
        with self.lock:
            return year_summary(map(_entry, self._records()), year)

    def quality_summary_submitted(self, year: int) -> datetime | None:
        """When the summary of ``year`` was handed in, or None."""
        try:
            return self._get(QualitySummary.create_id(year), QualitySummary).submitted_at
        except NotFound:
            return None

    def quality_notices(self) -> list[dict[str, str]]:
        """What operators must see: the summary due or overdue, supervision not yet reported."""
        today = local_date(self.clock())
        year = today.year - 1
        notices = []
        with self.lock:
            try:
                self._get(QualitySummary.create_id(year), QualitySummary)
                submitted = True
            except NotFound:
                submitted = False
            unreported = [
                r for r in self._records() if r.register == "supervision" and r.state == "opened"
            ]
        due = summary_due(year)
        if not submitted:
            late = today > due
            notices.append(
                {
                    "level": "warning" if late else "due",
                    "code": "quality_summary_overdue" if late else "quality_summary_due",
                    "message": (
                        f"the lex Sarah summary of {year} (the year's lex Sarah reports and "
                        "reports to IVO), which the administration asks for in "
                        f"{seed('003', '4.2')}, "
                        + (f"is overdue since {due}" if late else f"is due by {due}")
                        + ": hand it to the administration, then record it with "
                        f"`lots quality submit-summary {year} --by NAME`"
                    ),
                }
            )
        if unreported:
            notices.append(
                {
                    "level": "warning",
                    "code": "supervision_not_reported",
                    "message": f"{counted(len(unreported), 'IVO supervision')} not yet "
                    "reported to the "
                    f"administration, as {seed('003', '4.4')} requires: inform the "
                    "administration, then record the step inform_administration on each "
                    "(POST /quality/records/{record_id}/steps on intake)",
                }
            )
        return notices

    def _records(self) -> list[QualityRecord]:
        topics = [get_topic(QualityRecord.Recorded)]  # type: ignore[attr-defined]
        ids = {
            n.originator_id
            for n in self.recorder.select_notifications(start=1, limit=1_000_000, topics=topics)
        }
        return [self._get(UUID(str(i)), QualityRecord) for i in sorted(ids, key=str)]

    # --- follow-up of coordinated support ------------------------------------------------------

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
            made.append(follow.set_goal(area, on, self._sealed(_subject_of(case), text), by))

        return self._follow_up(case_id, on, change), made[-1]

    def follow_up_family_goal(
        self, case_id: UUID, goal_id: UUID, status: str, on: date, by: str, note: str | None
    ) -> FamilyFollowUp:
        def change(case: Case, follow: FamilyFollowUp) -> None:
            follow.follow_up_goal(goal_id, status, on, self._sealed(_subject_of(case), note), by)

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

    def reveal_texts(self, data: dict[str, Any], case_id: UUID) -> dict[str, Any]:
        """An event's sealed free text and occupations readable (or erased), for the roles
        that may see personal data in a case's history."""
        out = dict(data)
        texts = [k for k in ("description", "note", "text") if isinstance(out.get(k), str)]
        if texts:
            subject = _subject_of(self._case_or_404(case_id))
            for key in texts:
                out[key] = unseal(self.store, subject, out[key])
        if isinstance(out.get("parents"), list):
            out["parents"] = [
                {**p, "occupation": unseal(self.store, p["person_ref"], p["occupation"])}
                for p in out["parents"]
            ]
        return out

    # --- shared ----------------------------------------------------------------------------------

    def _changed(self, aggregate_id: UUID, kind: type[A], change: Callable[[A], None]) -> A:
        def on_aggregate(uow: UnitOfWork) -> A:
            self.staged_keys.clear()
            found = self._get(aggregate_id, kind)
            uow.add(found)
            change(found)
            return found

        return self.transact(
            on_aggregate,
            busy=lambda: Busy(f"{aggregate_id} kept changing under this command; try again"),
        )

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A:
        try:
            found: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError as exc:
            raise NotFound(f"no {kind.__name__} {aggregate_id}") from exc
        if not isinstance(found, kind):
            raise NotFound(f"{aggregate_id} is not a {kind.__name__}")
        return found

    def _case_or_404(self, case_id: UUID) -> Case:
        try:
            return self.case(case_id)
        except (AggregateNotFoundError, CaseError) as exc:
            raise NotFound(f"no case {case_id}") from exc

    def _sealed(self, subject: str | None, text: str | None) -> str | None:
        if subject is None or text is None:
            return text
        try:
            return seal(self.staged_keys, subject, text)
        except ValueError as exc:  # the person was erased: nothing new is kept about them
            raise QualityError(str(exc)) from exc


def _entry(record: QualityRecord) -> Entry:
    """A register entry as the summary reads it: codes and Stockholm dates only."""
    return Entry(
        record_id=str(record.id),
        register=record.register,
        received_on=local_date(record.recorded_at),
        occurred_on=record.occurred_on,
        programme=record.programme,
        category=record.category,
        channel=record.channel,
        concerns_administration=record.concerns_administration,
        steps=tuple(
            Step(
                step=s["step"],
                state=s["state"],
                on=local_date(datetime.fromisoformat(s["at"])),
                social_worker_copy=s["social_worker_copy"],
            )
            for s in record.steps
        ),
    )


def _subject_of(case: Case) -> str:
    """The person a case is about: its child, else its first member."""
    members = case.household
    child = next((m for m in members if m["role"] == "child"), members[0])
    return str(child["person_ref"])
