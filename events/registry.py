"""Every public message by its contract name: the ``type`` an entry carries on a stream.

:mod:`events.codec` decodes an entry by this name, never by a Python path, so a message may
move between modules of :mod:`events` without changing what travels.
"""

from __future__ import annotations

from events.billing import (
    AdjustmentRecorded,
    CallOffRecorded,
    PolareFeesLogged,
    PolareRatesRecorded,
    SeparateAmountRecorded,
    SessionDecided,
    SessionDismissed,
    SessionFlagged,
    SessionLogged,
    SessionRecut,
    SessionReportedApart,
    SettlementClosed,
    TariffRecorded,
    YearlyCapWarning,
)
from events.intake import (
    AcknowledgementOverdue,
    CaseAcknowledged,
    CaseClosed,
    PolarEnrolled,
    PolareWalkAttested,
    PolarLeft,
    ReferralReceived,
    ReferralRejected,
)
from events.intake_registers import (
    FamilyAssessed,
    FamilyGoalFollowedUp,
    FamilyGoalSet,
    PhaseOutPlanned,
    QualityEventHandled,
    QualityEventRecorded,
    QualitySummarySubmitted,
)
from events.referrals import (
    SubmitReferral,
)
from events.scheduling import (
    AreaDeploymentExtended,
    AreaDeploymentStarted,
    FirstContactOverdue,
    MeetingCancelled,
    MeetingHeld,
    MeetingNoShow,
    MeetingRescheduled,
    MeetingScheduled,
    NightWalkReported,
    SteeringMeetingCancelled,
    SteeringMeetingHeld,
    SteeringMeetingPlanned,
    WaitTimeReportDue,
)
from events.types import Message

MESSAGES: dict[str, type[Message]] = {
    cls.type_name: cls
    for cls in (
        SubmitReferral,
        ReferralReceived,
        ReferralRejected,
        CaseClosed,
        CaseAcknowledged,
        AcknowledgementOverdue,
        MeetingScheduled,
        MeetingHeld,
        MeetingCancelled,
        MeetingRescheduled,
        MeetingNoShow,
        FirstContactOverdue,
        WaitTimeReportDue,
        SessionLogged,
        SettlementClosed,
        AdjustmentRecorded,
        TariffRecorded,
        CallOffRecorded,
        SessionFlagged,
        SessionDecided,
        SessionDismissed,
        SessionReportedApart,
        SeparateAmountRecorded,
        SessionRecut,
        YearlyCapWarning,
        PolarEnrolled,
        PolarLeft,
        PolareWalkAttested,
        NightWalkReported,
        AreaDeploymentStarted,
        AreaDeploymentExtended,
        PolareRatesRecorded,
        PolareFeesLogged,
        QualityEventRecorded,
        QualityEventHandled,
        QualitySummarySubmitted,
        FamilyAssessed,
        FamilyGoalSet,
        FamilyGoalFollowedUp,
        PhaseOutPlanned,
        SteeringMeetingPlanned,
        SteeringMeetingHeld,
        SteeringMeetingCancelled,
    )
}
"""Every public message by its contract name."""
