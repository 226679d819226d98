"""Every topic an aggregate or its events are stored under keeps resolving, and keeps being written.

eventsourcing stores each event under its class's topic (``module:qualname``, or the class's
explicit ``TOPIC``), and the outbox, the watches, replay and retention select stored events by
those topics. So a class moved to another module keeps its old topic with an explicit ``TOPIC``
(and the old module keeps importing it, so a fresh process resolves the old path). The literals
below were listed once from the code as it stood; they are the stored data's names, not the code's.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from eventsourcing.domain import BaseAggregate, CanMutateAggregate
from eventsourcing.utils import get_topic, resolve_topic

ROOT = Path(__file__).resolve().parents[2]

#: Packages whose modules define the stored aggregates.
PACKAGES = ("services.intake", "services.scheduling", "services.billing", "infra")

STORED_TOPICS = [
    "infra.access:CaseAccess",
    "infra.access:CaseAccess.Created",
    "infra.access:CaseAccess.Event",
    "infra.access:CaseAccess.Viewed",
    "infra.dead_letter_log:DeadLetterRecord",
    "infra.dead_letter_log:DeadLetterRecord.Created",
    "infra.dead_letter_log:DeadLetterRecord.Event",
    "infra.dead_letter_log:DeadLetterRecord.Handled",
    "infra.dead_letter_log:DeadLetterRecord.Noted",
    "infra.dead_letter_log:DeadLetterRecord.Retried",
    "services.billing.domain:CapAccount",
    "services.billing.domain:CapAccount.Created",
    "services.billing.domain:CapAccount.Event",
    "services.billing.domain:CapAccount.HoursBilled",
    "services.billing.domain:CapAccount.HoursGivenWay",
    "services.billing.domain:CapAccount.Opened",
    "services.billing.domain:CapAccount.ThresholdCrossed",
    "services.billing.domain:CaseAccount",
    "services.billing.domain:CaseAccount.Created",
    "services.billing.domain:CaseAccount.Event",
    "services.billing.domain:CaseAccount.MeetingRecorded",
    "services.billing.domain:CaseAccount.Opened",
    "services.billing.domain:Session",
    "services.billing.domain:Session.Created",
    "services.billing.domain:Session.Decided",
    "services.billing.domain:Session.Dismissed",
    "services.billing.domain:Session.Event",
    "services.billing.domain:Session.Flagged",
    "services.billing.domain:Session.Logged",
    "services.billing.domain:Session.Opened",
    "services.billing.domain:Session.PriceAwaited",
    "services.billing.domain:Session.Recut",
    "services.billing.domain:Session.ReportedApart",
    "services.billing.domain:Settlement",
    "services.billing.domain:Settlement.AdjustmentBooked",
    "services.billing.domain:Settlement.AmountRecordedSeparately",
    "services.billing.domain:Settlement.Closed",
    "services.billing.domain:Settlement.Created",
    "services.billing.domain:Settlement.DecisionAwaited",
    "services.billing.domain:Settlement.DecisionResolved",
    "services.billing.domain:Settlement.Event",
    "services.billing.domain:Settlement.Opened",
    "services.billing.domain:Settlement.PriceAwaited",
    "services.billing.domain:Settlement.PriceResolved",
    "services.billing.domain:Settlement.SessionBooked",
    "services.billing.domain:Settlement.TimeReportedApart",
    "services.billing.domain:Worklist",
    "services.billing.domain:Worklist.Created",
    "services.billing.domain:Worklist.Event",
    "services.billing.domain:Worklist.ItemAdded",
    "services.billing.domain:Worklist.ItemCleared",
    "services.billing.domain:Worklist.Opened",
    "services.billing.polare:PolareMonth",
    "services.billing.polare:PolareMonth.Created",
    "services.billing.polare:PolareMonth.Event",
    "services.billing.polare:PolareMonth.Opened",
    "services.billing.polare:PolareMonth.WalkPriced",
    "services.billing.polare:PolareRateBook",
    "services.billing.polare:PolareRateBook.Created",
    "services.billing.polare:PolareRateBook.Event",
    "services.billing.polare:PolareRateBook.Opened",
    "services.billing.polare:PolareRateBook.Recorded",
    "services.billing.polare:PolareRateBook.WalkPriced",
    "services.billing.polare:PolareRateBook.WalkWaiting",
    "services.billing.polare:PolareWalkFees",
    "services.billing.polare:PolareWalkFees.Attested",
    "services.billing.polare:PolareWalkFees.Created",
    "services.billing.polare:PolareWalkFees.Event",
    "services.billing.polare:PolareWalkFees.Priced",
    "services.billing.polare:PolareWalkFees.Waiting",
    "services.billing.tariff_book:TariffBook",
    "services.billing.tariff_book:TariffBook.CallOffRecorded",
    "services.billing.tariff_book:TariffBook.Created",
    "services.billing.tariff_book:TariffBook.EntriesRecorded",
    "services.billing.tariff_book:TariffBook.Event",
    "services.billing.tariff_book:TariffBook.Opened",
    "services.intake.domain:Case",
    "services.intake.domain:Case.Acknowledged",
    "services.intake.domain:Case.AcknowledgementOverdue",
    "services.intake.domain:Case.Closed",
    "services.intake.domain:Case.Created",
    "services.intake.domain:Case.Event",
    "services.intake.domain:Case.MeetingRecorded",
    "services.intake.domain:Case.Opened",
    "services.intake.domain:Case.TimeLogged",
    "services.intake.domain:DeadReferral",
    "services.intake.domain:DeadReferral.Created",
    "services.intake.domain:DeadReferral.Event",
    "services.intake.domain:DeadReferral.Kept",
    "services.intake.domain:PersonErased",
    "services.intake.domain:PersonErased.Created",
    "services.intake.domain:PersonErased.Erased",
    "services.intake.domain:PersonErased.Event",
    "services.intake.domain:RateLimitedReferral",
    "services.intake.domain:RateLimitedReferral.Created",
    "services.intake.domain:RateLimitedReferral.Event",
    "services.intake.domain:RateLimitedReferral.Refused",
    "services.intake.domain:RateLimitedReferral.RefusedAgain",
    "services.intake.domain:RejectedReferral",
    "services.intake.domain:RejectedReferral.Created",
    "services.intake.domain:RejectedReferral.Event",
    "services.intake.domain:RejectedReferral.ExceptionGranted",
    "services.intake.domain:RejectedReferral.Recorded",
    "services.intake.domain:ResidencyException",
    "services.intake.domain:ResidencyException.Created",
    "services.intake.domain:ResidencyException.Event",
    "services.intake.domain:ResidencyException.Granted",
    "services.intake.domain:RetentionHold",
    "services.intake.domain:RetentionHold.Created",
    "services.intake.domain:RetentionHold.Event",
    "services.intake.domain:RetentionHold.Placed",
    "services.intake.eligibility:IndicatorRule",
    "services.intake.eligibility:IndicatorRule.Created",
    "services.intake.eligibility:IndicatorRule.Decided",
    "services.intake.eligibility:IndicatorRule.DecidedAgain",
    "services.intake.eligibility:IndicatorRule.Event",
    "services.intake.followup:FamilyFollowUp",
    "services.intake.followup:FamilyFollowUp.Assessed",
    "services.intake.followup:FamilyFollowUp.Begun",
    "services.intake.followup:FamilyFollowUp.Created",
    "services.intake.followup:FamilyFollowUp.Event",
    "services.intake.followup:FamilyFollowUp.GoalFollowedUp",
    "services.intake.followup:FamilyFollowUp.GoalSet",
    "services.intake.followup:FamilyFollowUp.PhaseOutPlanned",
    "services.intake.polare:Polar",
    "services.intake.polare:Polar.Created",
    "services.intake.polare:Polar.Enrolled",
    "services.intake.polare:Polar.Event",
    "services.intake.polare:Polar.Left",
    "services.intake.polare:Polar.Recruited",
    "services.intake.polare:Polar.Trained",
    "services.intake.polare:PolarErased",
    "services.intake.polare:PolarErased.Created",
    "services.intake.polare:PolarErased.Erased",
    "services.intake.polare:PolarErased.Event",
    "services.intake.polare:PolareYear",
    "services.intake.polare:PolareYear.Created",
    "services.intake.polare:PolareYear.Enrolled",
    "services.intake.polare:PolareYear.Event",
    "services.intake.polare:PolareYear.Opened",
    "services.intake.polare:WalkAttestation",
    "services.intake.polare:WalkAttestation.Attested",
    "services.intake.polare:WalkAttestation.Created",
    "services.intake.polare:WalkAttestation.Event",
    "services.intake.quality:QualityRecord",
    "services.intake.quality:QualityRecord.Created",
    "services.intake.quality:QualityRecord.Event",
    "services.intake.quality:QualityRecord.Handled",
    "services.intake.quality:QualityRecord.Recorded",
    "services.intake.quality:QualitySummary",
    "services.intake.quality:QualitySummary.Created",
    "services.intake.quality:QualitySummary.Event",
    "services.intake.quality:QualitySummary.Submitted",
    "services.intake.resubmission:ConflictingReferral",
    "services.intake.resubmission:ConflictingReferral.Created",
    "services.intake.resubmission:ConflictingReferral.Event",
    "services.intake.resubmission:ConflictingReferral.Refused",
    "services.intake.resubmission:RepeatedReferral",
    "services.intake.resubmission:RepeatedReferral.AnsweredAgain",
    "services.intake.resubmission:RepeatedReferral.Created",
    "services.intake.resubmission:RepeatedReferral.Event",
    "services.intake.terms:FollowedTerms",
    "services.intake.terms:FollowedTerms.Created",
    "services.intake.terms:FollowedTerms.Event",
    "services.intake.terms:FollowedTerms.Followed",
    "services.intake.terms:FollowedTerms.FollowedAgain",
    "services.scheduling.domain:EarlyClosure",
    "services.scheduling.domain:EarlyClosure.Created",
    "services.scheduling.domain:EarlyClosure.Event",
    "services.scheduling.domain:EarlyClosure.Recorded",
    "services.scheduling.domain:FieldActivity",
    "services.scheduling.domain:FieldActivity.Created",
    "services.scheduling.domain:FieldActivity.Event",
    "services.scheduling.domain:FieldActivity.Extended",
    "services.scheduling.domain:FieldActivity.MeetingBooked",
    "services.scheduling.domain:FieldActivity.Opened",
    "services.scheduling.domain:Meeting",
    "services.scheduling.domain:Meeting.Booked",
    "services.scheduling.domain:Meeting.Cancelled",
    "services.scheduling.domain:Meeting.Created",
    "services.scheduling.domain:Meeting.Event",
    "services.scheduling.domain:Meeting.Held",
    "services.scheduling.domain:Meeting.NoShowRecorded",
    "services.scheduling.domain:Meeting.Rescheduled",
    "services.scheduling.domain:WaitingCase",
    "services.scheduling.domain:WaitingCase.Closed",
    "services.scheduling.domain:WaitingCase.Created",
    "services.scheduling.domain:WaitingCase.DeadlineJudged",
    "services.scheduling.domain:WaitingCase.Event",
    "services.scheduling.domain:WaitingCase.MeetingBooked",
    "services.scheduling.domain:WaitingCase.MeetingCancelled",
    "services.scheduling.domain:WaitingCase.MeetingHeld",
    "services.scheduling.domain:WaitingCase.MeetingMissed",
    "services.scheduling.domain:WaitingCase.MeetingMoved",
    "services.scheduling.domain:WaitingCase.Queued",
    "services.scheduling.domain:WaitingCase.WishesRecorded",
    "services.scheduling.fieldwork:AreaDeployment",
    "services.scheduling.fieldwork:AreaDeployment.Created",
    "services.scheduling.fieldwork:AreaDeployment.Event",
    "services.scheduling.fieldwork:AreaDeployment.Extended",
    "services.scheduling.fieldwork:AreaDeployment.Started",
    "services.scheduling.fieldwork:NightWalk",
    "services.scheduling.fieldwork:NightWalk.Created",
    "services.scheduling.fieldwork:NightWalk.Event",
    "services.scheduling.fieldwork:NightWalk.Reported",
    "services.scheduling.monitor:WaitMonitor",
    "services.scheduling.monitor:WaitMonitor.Created",
    "services.scheduling.monitor:WaitMonitor.Event",
    "services.scheduling.monitor:WaitMonitor.Recovered",
    "services.scheduling.monitor:WaitMonitor.ReportDue",
    "services.scheduling.monitor:WaitMonitor.Started",
    "services.scheduling.roster:Roster",
    "services.scheduling.roster:Roster.Created",
    "services.scheduling.roster:Roster.Event",
    "services.scheduling.roster:Roster.StaffChanged",
    "services.scheduling.roster:Roster.StaffRegistered",
    "services.scheduling.roster:Roster.Started",
    "services.scheduling.roster:StaffWeek",
    "services.scheduling.roster:StaffWeek.Created",
    "services.scheduling.roster:StaffWeek.Event",
    "services.scheduling.roster:StaffWeek.HeldNoted",
    "services.scheduling.roster:StaffWeek.Opened",
    "services.scheduling.roster:StaffWeek.Released",
    "services.scheduling.roster:StaffWeek.Reserved",
    "services.scheduling.steering:SteeringMeeting",
    "services.scheduling.steering:SteeringMeeting.Cancelled",
    "services.scheduling.steering:SteeringMeeting.Created",
    "services.scheduling.steering:SteeringMeeting.Event",
    "services.scheduling.steering:SteeringMeeting.Held",
    "services.scheduling.steering:SteeringMeeting.Planned",
]

#: Older topics that name a class now stored under another topic (its first module re-exports it).
OLDER_TOPICS = {
    "services.intake.domain:CaseAccess": "infra.access:CaseAccess",
    "services.intake.domain:CaseAccess.Viewed": "infra.access:CaseAccess.Viewed",
}


@pytest.mark.parametrize("topic", STORED_TOPICS)
def test_a_stored_topic_resolves_to_the_class_that_writes_it(topic: str) -> None:
    cls = resolve_topic(topic)
    assert isinstance(cls, type)
    assert get_topic(cls) == topic


@pytest.mark.parametrize(("older", "current"), sorted(OLDER_TOPICS.items()))
def test_an_older_topic_resolves_to_the_class_now_stored_under_another(
    older: str, current: str
) -> None:
    assert get_topic(resolve_topic(older)) == current


def test_a_fresh_process_resolves_every_stored_topic_by_its_module_path() -> None:
    """Nothing imported beforehand: each topic's own module must lead to its class."""
    topics = [*STORED_TOPICS, *OLDER_TOPICS]
    script = (
        "import sys\n"
        "from eventsourcing.utils import resolve_topic\n"
        "for topic in sys.argv[1:]:\n"
        "    assert isinstance(resolve_topic(topic), type), topic\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *topics],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _aggregate_topics() -> set[str]:
    """The topic of every aggregate class (and its event classes) the packages define today."""
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    topics: set[str] = set()
    for module in list(sys.modules.values()):
        for obj in list(vars(module).values()):
            if not (isinstance(obj, type) and issubclass(obj, BaseAggregate)):
                continue
            if not obj.__module__.startswith(("services.", "infra.")):
                continue
            topics.add(get_topic(obj))
            topics.update(
                get_topic(value)
                for value in vars(obj).values()
                if isinstance(value, type) and issubclass(value, CanMutateAggregate)
            )
    return topics


def test_every_aggregate_and_event_class_is_listed_by_its_stored_topic() -> None:
    unlisted = sorted(_aggregate_topics() - set(STORED_TOPICS))
    assert not unlisted, (
        "new aggregate or event topics (a new class, or a moved one without an explicit TOPIC "
        "equal to its old topic): if the class is new, add its topic to STORED_TOPICS in "
        f"tests/unit/test_stored_topics.py: {unlisted}"
    )
