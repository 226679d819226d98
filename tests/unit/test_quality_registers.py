"""The quality registers' handling (seed 003 §4.2-4.4) and the follow-up of coordinated support
(seed 002) as state machines: every step from every state, allowed or refused with a reason."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.intake.followup import FamilyFollowUp, FollowUpError, FollowUpOrderError, occupied
from services.intake.quality import (
    INITIAL,
    REGISTERS,
    STEPS,
    TRANSITIONS,
    QualityError,
    QualityRecord,
    StepRefused,
    summary_due,
)

T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)


def record(register: str, concerns_administration: bool = False) -> QualityRecord:
    return QualityRecord(
        register=register,
        category="complaint" if register == "complaint" else None,
        channel="provider" if register == "complaint" else None,
        concerns_administration=concerns_administration,
        programme=None,
        case_id=None,
        occurred_on=date(2026, 2, 1),
        recorded_at=T0,
        by="anna",
        subject=None,
        description=None,
    )


def take(entry: QualityRecord, step: str) -> None:
    copy = "sent" if step == "report_to_ivo" else None
    entry.handle(step, T0 + timedelta(hours=len(entry.steps) + 1), "anna", None, copy)


def paths(register: str) -> dict[str, list[str]]:
    """A shortest path of steps from the initial state to each reachable state."""
    found: dict[str, list[str]] = {INITIAL[register]: []}
    frontier = [INITIAL[register]]
    while frontier:
        state = frontier.pop(0)
        for step, target in TRANSITIONS[register].get(state, {}).items():
            if target not in found:
                found[target] = [*found[state], step]
                frontier.append(target)
    return found


@pytest.mark.parametrize("register", REGISTERS)
def test_every_step_from_every_state_is_allowed_exactly_as_the_table_says(register: str) -> None:
    for state, path in paths(register).items():
        for step in STEPS:
            entry = record(register)
            for done in path:
                take(entry, done)
            assert entry.state == state
            allowed = TRANSITIONS[register].get(state, {})
            if step in allowed and not (
                step == "inform_administration" and entry.administration_informed
            ):
                take(entry, step)
                assert entry.state == allowed[step]
            else:
                with pytest.raises(StepRefused) as refused:
                    take(entry, step)
                assert state.replace("_", " ") in str(refused.value)
                assert step.replace("_", " ") in str(refused.value)
                assert entry.state == state  # nothing recorded


def test_the_registers_follow_the_seeds_words() -> None:
    assert paths("lex_sarah")["reported_to_ivo"] == ["investigate", "report_to_ivo"]
    assert paths("lex_sarah")["closed"] == ["investigate", "close"]
    assert paths("complaint")["answered"] == ["investigate", "answer"]
    assert paths("incident")["closed"] == ["investigate", "close"]
    assert paths("supervision")["concluded"] == ["inform_administration", "conclude"]


def test_a_closed_entry_can_do_nothing_more() -> None:
    entry = record("incident")
    take(entry, "investigate")
    take(entry, "close")
    assert entry.allowed() == []
    with pytest.raises(StepRefused, match="it can: nothing"):
        take(entry, "investigate")


def test_reporting_to_ivo_needs_the_copy_to_the_social_worker_said() -> None:
    entry = record("lex_sarah")
    take(entry, "investigate")
    with pytest.raises(QualityError, match="social_worker_copy"):
        entry.handle("report_to_ivo", T0 + timedelta(hours=2), "anna", None, None)
    with pytest.raises(QualityError, match="must be sent"):
        entry.handle(
            "report_to_ivo",
            T0 + timedelta(hours=2),
            "anna",
            None,
            "no_responsible_social_worker",
            has_social_worker=True,
        )
    entry.handle("report_to_ivo", T0 + timedelta(hours=2), "anna", None, "sent", True)
    assert entry.state == "reported_to_ivo"


def test_a_copy_belongs_to_reporting_to_ivo_only() -> None:
    entry = record("lex_sarah")
    with pytest.raises(QualityError, match="report_to_ivo only"):
        entry.handle("investigate", T0 + timedelta(hours=1), "anna", None, "sent")


def test_a_complaint_concerning_the_administration_closes_only_once_it_was_informed() -> None:
    entry = record("complaint", concerns_administration=True)
    take(entry, "investigate")
    with pytest.raises(StepRefused, match="inform it before closing"):
        take(entry, "close")
    take(entry, "inform_administration")
    assert entry.state == "investigating" and entry.administration_informed
    with pytest.raises(StepRefused):
        take(entry, "inform_administration")  # once is enough
    take(entry, "close")
    assert entry.state == "closed"


def test_a_step_cannot_come_before_the_entry_was_recorded() -> None:
    with pytest.raises(QualityError, match="before the entry"):
        record("incident").handle("investigate", T0 - timedelta(seconds=1), "anna", None)


def test_an_unknown_step_is_named() -> None:
    with pytest.raises(QualityError, match="unknown step 'escalate'"):
        record("incident").handle("escalate", T0, "anna", None)


def test_the_summary_is_due_on_31_march_of_the_next_year() -> None:
    assert summary_due(2026) == date(2027, 3, 31)


# --- the follow-up of coordinated support ------------------------------------------------------

CASE = uuid.uuid4()


def assess(follow: FamilyFollowUp, stage: str, on: date, kasam: int = 50) -> None:
    parents = [{"person_ref": "p", "occupation": "sealed"}]
    follow.assess(stage, on, kasam, 1, parents, 0, "income_support", "anna")


def test_assessments_start_once_then_follow_up_then_end() -> None:
    follow = FamilyFollowUp(case_id=CASE)
    with pytest.raises(FollowUpOrderError, match="start assessed first"):
        assess(follow, "follow_up", date(2026, 3, 1))
    assess(follow, "start", date(2026, 3, 1))
    with pytest.raises(FollowUpOrderError, match="already"):
        assess(follow, "start", date(2026, 3, 2))
    assess(follow, "follow_up", date(2026, 6, 1))
    with pytest.raises(FollowUpOrderError, match="before the previous"):
        assess(follow, "follow_up", date(2026, 5, 1))
    assess(follow, "end", date(2026, 11, 1))
    with pytest.raises(FollowUpOrderError, match="over"):
        assess(follow, "follow_up", date(2026, 12, 1))
    with pytest.raises(FollowUpOrderError, match="over"):
        follow.set_goal("other", date(2026, 12, 1), None, "anna")
    assert follow.stages == ["start", "follow_up", "end"]


@pytest.mark.parametrize("kasam", [12, 92, -1])
def test_kasam_outside_the_soc13_range_is_refused(kasam: int) -> None:
    with pytest.raises(FollowUpError, match="13-91"):
        assess(FamilyFollowUp(case_id=CASE), "start", date(2026, 3, 1), kasam)


def test_start_and_end_need_the_occupation_and_the_economy() -> None:
    follow = FamilyFollowUp(case_id=CASE)
    with pytest.raises(FollowUpError, match="occupation"):
        follow.assess("start", date(2026, 3, 1), 50, 0, None, None, None, "anna")
    with pytest.raises(FollowUpError, match="unknown economy"):
        follow.assess("start", date(2026, 3, 1), 50, 0, [], 0, "rich", "anna")


def test_goals_are_followed_up_after_they_are_set() -> None:
    follow = FamilyFollowUp(case_id=CASE)
    goal = follow.set_goal("school_eligibility", date(2026, 3, 1), "sealed", "anna")
    with pytest.raises(FollowUpOrderError, match="before the goal was set"):
        follow.follow_up_goal(goal, "in_progress", date(2026, 2, 1), None, "anna")
    with pytest.raises(FollowUpError, match="unknown status"):
        follow.follow_up_goal(goal, "done", date(2026, 4, 1), None, "anna")
    with pytest.raises(FollowUpError, match="no goal"):
        follow.follow_up_goal(uuid.uuid4(), "achieved", date(2026, 4, 1), None, "anna")
    follow.follow_up_goal(goal, "achieved", date(2026, 4, 1), None, "anna")
    assert follow.goals[str(goal)]["status"] == "achieved"
    with pytest.raises(FollowUpError, match="unknown goal area"):
        follow.set_goal("happiness", date(2026, 3, 1), None, "anna")


def test_a_phase_out_ends_after_it_is_planned() -> None:
    follow = FamilyFollowUp(case_id=CASE)
    with pytest.raises(FollowUpError, match="after it is planned"):
        follow.plan_phase_out(date(2026, 3, 1), date(2026, 3, 1), "anna")
    follow.plan_phase_out(date(2026, 9, 1), date(2026, 3, 1), "anna")
    assert follow.planned_end == date(2026, 9, 1)


def test_occupation_counts_work_studies_and_programmes() -> None:
    assert occupied(["employment", "studies", "labour_market_programme"]) == 3
    assert occupied(["sick_leave", "parental_leave", "none"]) == 0
    with pytest.raises(FollowUpError, match="unknown occupation"):
        occupied(["astronaut"])
