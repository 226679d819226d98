"""The quality registers' and follow-ups' domain events as public messages on ``intake.events``.

Only codes, dates, scores, counts and ids cross: descriptions, notes, goals' wording and who
has which occupation stay in intake (see :mod:`services.intake.registers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from events.intake_registers import (
    FamilyAssessed,
    FamilyGoalFollowedUp,
    FamilyGoalSet,
    PhaseOutPlanned,
    QualityEventHandled,
    QualityEventRecorded,
    QualitySummarySubmitted,
)
from infra.outbox import Outgoing, Translator
from infra.topology import INTAKE_EVENTS
from services.intake import event_types as stored
from services.intake.followup import FamilyFollowUp
from services.intake.quality import INITIAL, QualityRecord, QualitySummary


def _out(message: Any, correlation: object | None) -> Outgoing:
    return Outgoing(
        INTAKE_EVENTS, message, correlation_id=str(correlation) if correlation else None
    )


def quality_recorded(event: stored.QualityRecorded) -> Outgoing:
    return _out(
        QualityEventRecorded(
            record_id=event.originator_id,
            kind=event.register,
            state=INITIAL[event.register],  # type: ignore[arg-type]
            category=event.category,
            channel=event.channel,
            concerns_administration=event.concerns_administration,
            programme=event.programme,
            case_id=event.case_id,
            occurred_on=event.occurred_on,
            recorded_at=event.recorded_at,
        ),
        event.case_id,
    )


def quality_handled(event: stored.QualityHandled) -> Outgoing:
    return _out(
        QualityEventHandled(
            record_id=event.originator_id,
            kind=event.register,
            step=event.step,
            state=event.state,
            social_worker_copy=event.social_worker_copy,
            at=event.at,
        ),
        None,
    )


def summary_submitted(event: stored.SummarySubmitted) -> Outgoing:
    return _out(
        QualitySummarySubmitted(
            year=event.year,
            submitted_at=event.submitted_at,
            records=event.records,
            lex_sarah_reports=getattr(event, "lex_sarah_reports", None),
            reports_to_ivo=getattr(event, "reports_to_ivo", None),
            complaints_and_views=getattr(event, "complaints_and_views", None),
            incidents=getattr(event, "incidents", None),
            supervisions=getattr(event, "supervisions", None),
        ),
        None,
    )


def family_assessed(event: stored.FamilyAssessed) -> Outgoing:
    parents = event.parents
    return _out(
        FamilyAssessed(
            case_id=event.case_id,
            stage=event.stage,
            assessed_on=event.on,
            kasam=event.kasam,
            sips=event.sips,
            parents=None if parents is None else len(parents),
            parents_with_occupation=event.parents_with_occupation,
            economy=event.economy,
        ),
        event.case_id,
    )


def goal_set(event: stored.GoalSet) -> Outgoing:
    return _out(
        FamilyGoalSet(
            case_id=event.case_id, goal_id=event.goal_id, area=event.area, set_on=event.on
        ),
        event.case_id,
    )


def goal_followed_up(event: stored.GoalFollowedUp) -> Outgoing:
    return _out(
        FamilyGoalFollowedUp(
            case_id=event.case_id,
            goal_id=event.goal_id,
            status=event.status,
            followed_up_on=event.on,
        ),
        event.case_id,
    )


def phase_out_planned(event: stored.PhaseOutPlanned) -> Outgoing:
    return _out(
        PhaseOutPlanned(case_id=event.case_id, planned_end=event.planned_end, planned_on=event.on),
        event.case_id,
    )


REGISTER_EVENTS: Mapping[type[Any], Translator] = {
    QualityRecord.Recorded: quality_recorded,  # type: ignore[attr-defined]
    QualityRecord.Handled: quality_handled,  # type: ignore[attr-defined]
    QualitySummary.Submitted: summary_submitted,  # type: ignore[attr-defined]
    FamilyFollowUp.Assessed: family_assessed,  # type: ignore[attr-defined]
    FamilyFollowUp.GoalSet: goal_set,  # type: ignore[attr-defined]
    FamilyFollowUp.GoalFollowedUp: goal_followed_up,  # type: ignore[attr-defined]
    FamilyFollowUp.PhaseOutPlanned: phase_out_planned,  # type: ignore[attr-defined]
}
