"""Intake's commands for the quality registers of 003 §4.2-4.4 (lex Sarah, complaints and
views, incidents, IVO supervision) and the yearly lex Sarah summary; a mixin of
:class:`services.intake.application.Intake` through
:class:`services.intake.registers.RegisterCommands`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from events.types import PROGRAMMES
from infra.calendar import local_date
from infra.contract_names import seed
from infra.words import counted
from services.intake.quality import (
    REGISTERS,
    QualityError,
    QualityRecord,
    QualitySummary,
    summary_due,
)
from services.intake.quality_summary import Entry, Step, year_summary
from services.intake.register_base import NotFound, RegisterBase, subject_of

CATEGORIES = ("complaint", "view")
CHANNELS = ("provider", "administration")


class QualityCommands(RegisterBase):
    """Entries of the quality registers, their handling, and the yearly summary."""

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
                subject = subject_of(case)
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
