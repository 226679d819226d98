"""``lots audit case`` as a person reads it: a case file, one event per block.

Each block opens with the event's time in Stockholm time (the zone named), the service that
recorded it and what happened in words ("Referral received from linkoping.elevhalsa"); its
fields follow as ``key: value`` lines, nested values indented beneath their key. The words are
built only from the fields the report already holds, so a role that may not see a personal
value sees ``(hidden)`` in the sentence too. Every printed line is escaped (:mod:`lots.text`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from infra.calendar import STOCKHOLM
from lots.text import escaped

ZONE = "Europe/Stockholm"

#: What an event means, in words; ``{field}`` is the event's field of that name.
PHRASES: dict[str, str] = {
    "Case.Opened": "Referral received from {source} ({referral_id}): {programme}, priority "
    "{priority}; a case was opened",
    "Case.Acknowledged": "Referral acknowledged by {by}",
    "Case.AcknowledgementOverdue": "Acknowledgement overdue: it was due {ack_due}",
    "Case.MeetingRecorded": "Meeting held ({kind}, {minutes} minutes) noted on the case",
    "Case.TimeLogged": "Time logged on the case: {minutes} minutes",
    "Case.Closed": "Case closed by {by}, outcome {outcome}",
    "RejectedReferral.Recorded": "Referral from {source} ({referral_id}) rejected",
    "RejectedReferral.ExceptionGranted": "Residency exception granted by {granted_by}; the "
    "referral was evaluated again",
    "RateLimitedReferral.Refused": "Referral from {source} ({referral_id}) refused for now: "
    "the source was over its rate limit",
    "RateLimitedReferral.RefusedAgain": "Referral from {source} ({referral_id}) refused again "
    "for now: the source was over its rate limit",
    "RepeatedReferral.AnsweredAgain": "The same referral was sent again and answered as before",
    "ConflictingReferral.Refused": "A different referral under {source} ({referral_id}) was "
    "refused",
    "RetentionHold.Placed": "Kept past the retention period by {by}",
    "FamilyFollowUp.Begun": "Family follow-up begun",
    "FamilyFollowUp.Assessed": "Family assessed ({stage}) by {by}",
    "FamilyFollowUp.GoalSet": "Goal set ({area}) by {by}",
    "FamilyFollowUp.GoalFollowedUp": "Goal followed up by {by}: {status}",
    "FamilyFollowUp.PhaseOutPlanned": "Phase-out planned by {by}, to end {planned_end}",
    "QualityRecord.Recorded": "Entered in the {register} register by {by}",
    "QualityRecord.Handled": "{register} entry handled by {by}: {step}",
    "WaitingCase.Queued": "Case placed in the {programme} queue, first contact due "
    "{first_contact_due}",
    "WaitingCase.WishesRecorded": "The family's needs and wishes recorded",
    "WaitingCase.MeetingBooked": "Meeting booked with {staff} ({provider}) on {starts_on}",
    "WaitingCase.MeetingMoved": "Meeting moved to {starts_on} by {by}",
    "WaitingCase.MeetingCancelled": "Meeting cancelled by {by}",
    "WaitingCase.MeetingMissed": "Meeting missed: nobody came",
    "WaitingCase.MeetingHeld": "Meeting held, started {started_at}",
    "WaitingCase.DeadlineJudged": "First-contact deadline {first_contact_due} judged: {met}",
    "WaitingCase.Closed": "Case closed in scheduling, outcome {outcome}",
    "EarlyClosure.Recorded": "Case closed before it was queued, outcome {outcome}",
    "Meeting.Booked": "Meeting booked with {staff} ({provider}): {kind}, {format}, "
    "{starts_at} to {ends_at}",
    "Meeting.Rescheduled": "Meeting moved to {starts_at} with {staff}, asked by {requested_by}",
    "Meeting.Held": "Meeting held with {staff}: {kind}, {started_at} to {ended_at}, "
    "{participants} taking part",
    "Meeting.Cancelled": "Meeting cancelled by {cancelled_by}: {reason}",
    "Meeting.NoShowRecorded": "Meeting not attended: the family did not come",
    "CaseAccount.Opened": "Billing opened the case's account ({programme})",
    "CaseAccount.MeetingRecorded": "Billing noted a meeting held {started_at} to {ended_at}",
    "Session.Opened": "Billing opened a session for the meeting",
    "Session.Flagged": "Session set aside for a decision: {reason}",
    "Session.PriceAwaited": "Session waits for a price: {reason}",
    "Session.Decided": "Session decided by {decided_by}: {decision}",
    "Session.Dismissed": "Session dismissed by {decided_by}: {reason}",
    "Session.ReportedApart": "Session reported apart from the settlement",
    "Session.Logged": "Session logged for billing",
    "Session.Recut": "Session recut: {reason}",
    "Worklist.ItemAdded": "Put on billing's worklist ({need}): {reason}",
}


class _Fields(dict[str, Any]):
    """Format values: a field the event lacks reads as "(not recorded)"."""

    def __missing__(self, key: str) -> str:
        return "(not recorded)"


def render(report: Mapping[str, Any], as_of: str | None) -> list[str]:
    """The report of :func:`lots.audit.history` as the case file's lines."""
    personal = "shown" if report["personal_data_shown"] else "hidden"
    records = "shown" if report.get("records_shown") else "hidden"
    head = f"Case {report['case_id']}" + (f" as it stood at {local(as_of)}" if as_of else "")
    lines = [
        head,
        f"Personal data {personal}; the referral's references {records}. Times are {ZONE} time.",
    ]
    for row in report["events"]:
        lines += ["", *_block(row)]
    return [escaped(line) for line in lines]


def _block(row: Mapping[str, Any]) -> list[str]:
    data: dict[str, Any] = row["data"]
    shown = _Fields({k: _word(v, brief=True) for k, v in data.items()})
    return [
        f"{local(row['at'])} · {row['service']} · {row['event']}",
        PHRASES.get(row["event"], _from_name(row["event"])).format_map(shown),
        *(f"  {line}" for line in _fields(data)),
    ]


def local(stamp: str, named: bool = True) -> str:
    """An ISO 8601 time stamp with offset as Stockholm time (CET or CEST), the zone named in
    full unless ``named`` is false (where the page has said it already)."""
    moment = datetime.fromisoformat(stamp).astimezone(STOCKHOLM)
    return f"{moment:%Y-%m-%d %H:%M:%S} {moment.tzname()}" + (f" ({ZONE})" if named else "")


def _from_name(event: str) -> str:
    """Words for an event without a phrase: ``Session.PriceAwaited`` → "Session: price awaited"."""
    aggregate, _, name = event.rpartition(".")
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return f"{aggregate}: {words}" if aggregate else words


def _word(value: Any, brief: bool = False) -> str:
    """A value as a person reads it; ``brief``: a time to the minute, for a sentence."""
    if isinstance(value, list):
        return ", ".join(_word(v, brief) for v in value) or "nobody"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and _stamp(value):
        moment = datetime.fromisoformat(value).astimezone(STOCKHOLM)
        return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()}" if brief else local(value, False)
    return str(value)


def _stamp(value: str) -> bool:
    if "T" not in value or len(value) < 19:
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _fields(value: Mapping[str, Any]) -> Iterator[str]:
    """``key: value`` lines; a nested mapping or list indented beneath its key."""
    for key, item in value.items():
        if item is None or item == [] or item == {}:
            continue
        if isinstance(item, Mapping):
            yield f"{key}:"
            yield from (f"  {line}" for line in _fields(item))
        elif isinstance(item, list) and any(isinstance(v, Mapping | list) for v in item):
            yield f"{key}:"
            for entry in item:
                nested = list(_fields(entry)) if isinstance(entry, Mapping) else [_word(entry)]
                yield from (f"  {'-' if n == 0 else ' '} {line}" for n, line in enumerate(nested))
        else:
            yield f"{key}: {_word(item)}"
