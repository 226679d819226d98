"""Pricing of counselling time (003 §1.2): a held meeting, or logged time, into a SessionLogged.

Pure functions of their inputs (no clock, no I/O); the billing service and the offline
settlement both call them, so a meeting is priced the same way everywhere.

- ``minutes``: ended_at minus started_at as elapsed time (a meeting across a daylight-saving
  change lasts as long as it really did); a started minute counts as a whole minute.
- ``billable_quarters``: started quarter hours, ``ceil(minutes / 15)``. An hour is 60 minutes
  and time above or below a whole hour earns a quarter of the hourly rate per started quarter,
  which is the same thing: 45 min -> 3, 60 -> 4, 61 -> 5, 80 -> 6.
- client quarters: the billable quarters; for a group session the group rule covers (format
  ``group``, 60..120 minutes, at least 5 participants) four times as many, since every group
  hour, and so every quarter of group time, earns 4 client hours. Any other group session waits
  for a person's decision, and a group of fewer than 5 is never billed as a group
  (:func:`decision_options`).
- ``client_hours``: client quarters / 4, two decimals.
- ``amount_ore``: rate (SEK per hour, whole öre) x client hours, in öre, rounded half-up to whole
  öre once per session in :func:`amount_ore`, the only place a session's amount is rounded.
- ``fee_ore``: the client fee per visit x ``client_visits``; reported apart, it belongs to the
  municipality (003 §2.3), and is collected whatever is decided about billing the time.
- ``performed_on`` / ``settlement_month``: the local date in Europe/Stockholm of the start;
  every price is the one in force on that date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from events.billing import SessionLogged
from events.scheduling import MeetingHeld
from events.types import Programme
from infra.calendar import local_date, month_of
from infra.months import month_of_date
from infra.refusals import Refused
from services.billing.tariffs import Catalogue, ore_half_up

LEANLINK = "leanlink"
"""The provider this back office bills for, as scheduling's roster names it."""
SESSION_NAMESPACE = uuid5(NAMESPACE_URL, "lots:billing:session")
"""Namespace of session ids derived from meeting ids; never change it (ids must re-derive)."""

GROUP_MIN_PARTICIPANTS = 5
GROUP_MIN_MINUTES = 60
GROUP_MAX_MINUTES = 120
CLIENT_HOURS_PER_GROUP_HOUR = 4

Decision = Literal["bill_as_ordinary_time", "bill_as_group", "not_billable"]
DECISIONS: tuple[Decision, ...] = ("bill_as_ordinary_time", "bill_as_group", "not_billable")
_MULTIPLIER: dict[Decision, int] = {
    "bill_as_ordinary_time": 1,
    "bill_as_group": CLIENT_HOURS_PER_GROUP_HOUR,
    "not_billable": 0,
}


class PricingError(Refused, ValueError):
    """Time that cannot be priced as given (negative duration, naive time stamp, ...)."""

    status = 400


class NotHourlyBilled(PricingError):
    """The programme is paid by a fixed sum, not by the hour."""


class NotLeanlinks(PricingError):
    """Time another provider performed: it is not Leanlink's to bill (003 §1.2, §2.3)."""


class DecisionRefused(PricingError):
    """A decision the group rule does not allow (a group of fewer than 5 billed as a group)."""


@dataclass(frozen=True)
class NeedsDecision:
    """A group session the group rule does not clearly cover: a person decides how to bill it."""

    meeting_id: UUID
    case_id: UUID
    programme: str
    settlement_month: str
    minutes: int
    participants: int
    reason: str
    options: tuple[Decision, ...] = DECISIONS


def bills_for_leanlink(provider: str) -> bool:
    """Whether time a provider performed is Leanlink's to bill: only Leanlink's own is
    (:mod:`services.billing.providers`)."""
    return provider == LEANLINK


def _check_leanlinks(provider: str, what: str) -> None:
    if not bills_for_leanlink(provider):
        raise NotLeanlinks(
            f"{what} was performed by {provider}: only Leanlink's own time is Leanlink's to bill "
            "(003 §1.2, §2.3)"
        )


def minutes_between(started_at: datetime, ended_at: datetime) -> int:
    delta = ended_at - started_at
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if micros < 0:
        raise PricingError(f"ends ({ended_at.isoformat()}) before it starts")
    return -(-micros // 60_000_000)


def started_quarters(minutes: int) -> int:
    if minutes < 0:
        raise PricingError(f"negative duration: {minutes} minutes")
    return -(-minutes // 15)


def client_hours(client_quarters: int) -> Decimal:
    return (Decimal(client_quarters) / 4).quantize(Decimal("0.01"))


def amount_ore(rate: Decimal, client_quarters: int) -> int:
    """Rate (SEK/h) x client quarters / 4, in öre, half-up to whole öre: the one rounding."""
    return ore_half_up(rate * 100 * client_quarters / 4)


def session_id_for(meeting_id: UUID) -> UUID:
    """The session id of a meeting's session, the same wherever and however often it is priced."""
    return uuid5(SESSION_NAMESPACE, str(meeting_id))


def decision_options(participants: int) -> tuple[Decision, ...]:
    """What a person may decide for a group session the group rule does not clearly cover.

    003 §1.2 earns 4 client hours per group hour only "med minst 5 deltagare": a group of fewer
    is never billed as a group, only as ordinary time or not at all. Only a group of at least 5
    whose duration is outside 1-2 hours (where the seed's principle does not say) leaves
    ``bill_as_group`` to a person.
    """
    if participants < GROUP_MIN_PARTICIPANTS:
        return tuple(d for d in DECISIONS if d != "bill_as_group")
    return DECISIONS


def check_decision(decision: Decision, participants: int) -> None:
    """Raise :class:`DecisionRefused` unless the group rule allows ``decision``."""
    if decision not in decision_options(participants):
        raise DecisionRefused(
            f"a group of {participants} participants cannot be billed as a group: the group "
            f"rule earns 4 client hours per group hour only with at least "
            f"{GROUP_MIN_PARTICIPANTS} participants (003 §1.2); decide "
            f"{' or '.join(decision_options(participants))}"
        )


def group_rule_gap(meeting: MeetingHeld, minutes: int) -> str | None:
    """Why the group rule does not clearly cover this group session, or None if it does."""
    problems = []
    if meeting.participants < GROUP_MIN_PARTICIPANTS:
        problems.append(
            f"{meeting.participants} participants; the group rule needs at least "
            f"{GROUP_MIN_PARTICIPANTS}"
        )
    if not GROUP_MIN_MINUTES <= minutes <= GROUP_MAX_MINUTES:
        problems.append(
            f"{minutes} minutes; the group rule covers sessions of "
            f"{GROUP_MIN_MINUTES} to {GROUP_MAX_MINUTES} minutes"
        )
    return "; ".join(problems) or None


@dataclass(frozen=True, slots=True)
class Billable:
    """What a session bills before any price is looked up: its programme, its local date, its
    minutes, its started quarters and its client quarters (the quarters times the group rule's
    or the decision's multiplier)."""

    programme: Programme
    performed_on: date
    minutes: int
    quarters: int
    client_quarters: int

    @property
    def client_hours(self) -> Decimal:
        return client_hours(self.client_quarters)


def meeting_billable(
    meeting: MeetingHeld, decision: Decision | None, catalogue: Catalogue
) -> Billable | NeedsDecision:
    """What a held meeting bills, as a person decided or by the group rule, or why a person must
    decide (an unclear group session without a decision)."""
    _check_leanlinks(meeting.provider, f"meeting {meeting.meeting_id}")
    _check_hourly(meeting.programme, catalogue)
    minutes = minutes_between(meeting.started_at, meeting.ended_at)
    if decision is not None:
        check_decision(decision, meeting.participants)
        multiplier = _MULTIPLIER[decision]
    elif meeting.format != "group":
        multiplier = 1
    else:
        gap = group_rule_gap(meeting, minutes)
        if gap is not None:
            return NeedsDecision(
                meeting_id=meeting.meeting_id,
                case_id=meeting.case_id,
                programme=meeting.programme,
                settlement_month=month_of(meeting.started_at),
                minutes=minutes,
                participants=meeting.participants,
                reason=f"group session not clearly covered by the group rule: {gap}",
                options=decision_options(meeting.participants),
            )
        multiplier = CLIENT_HOURS_PER_GROUP_HOUR
    quarters = started_quarters(minutes)
    day = local_date(meeting.started_at)
    return Billable(meeting.programme, day, minutes, quarters, quarters * multiplier)


def time_billable(
    programme: Programme, performed_on: date, minutes: int, catalogue: Catalogue
) -> Billable:
    """What logged preparation or follow-up time bills: its started quarters, once."""
    _check_hourly(programme, catalogue)
    quarters = started_quarters(minutes)
    return Billable(programme, performed_on, minutes, quarters, quarters)


def price_meeting(meeting: MeetingHeld, catalogue: Catalogue) -> SessionLogged | NeedsDecision:
    """Price a held meeting, or say why a person must decide (an unclear group session)."""
    billable = meeting_billable(meeting, None, catalogue)
    if isinstance(billable, NeedsDecision):
        return billable
    return _meeting_session(meeting, billable, catalogue)


def price_decided(meeting: MeetingHeld, decision: Decision, catalogue: Catalogue) -> SessionLogged:
    """Price a meeting as a person decided: as ordinary time, as a group, or not billable;
    raise :class:`DecisionRefused` for a decision the group rule does not allow."""
    billable = meeting_billable(meeting, decision, catalogue)
    assert isinstance(billable, Billable)  # a decision is never sent back to a person
    return _meeting_session(meeting, billable, catalogue)


def price_logged_time(
    *,
    session_id: UUID,
    case_id: UUID,
    programme: Programme,
    provider: str,
    performed_on: date,
    minutes: int,
    catalogue: Catalogue,
) -> SessionLogged:
    """Price logged preparation or follow-up time: started quarters, no visit and no fee."""
    _check_leanlinks(provider, f"time entry {session_id}")
    billable = time_billable(programme, performed_on, minutes, catalogue)
    rate = catalogue.hourly_rate(programme, performed_on)
    return SessionLogged(
        session_id=session_id,
        case_id=case_id,
        meeting_id=None,
        programme=programme,
        provider=provider,
        performed_on=performed_on,
        minutes=minutes,
        billable_quarters=billable.quarters,
        client_hours=billable.client_hours,
        rate=rate.sek_per_hour,
        amount_ore=amount_ore(rate.sek_per_hour, billable.client_quarters),
        fee_ore=0,
        tariff_version=rate.tariff_version,
        settlement_month=month_of_date(performed_on),
    )


def _check_hourly(programme: str, catalogue: Catalogue) -> None:
    if programme not in catalogue.hourly_programmes():
        raise NotHourlyBilled(f"programme {programme} is not billed by the hour")


def _meeting_session(
    meeting: MeetingHeld, billable: Billable, catalogue: Catalogue
) -> SessionLogged:
    day = billable.performed_on
    rate = catalogue.hourly_rate(meeting.programme, day)
    fee = catalogue.client_fee(meeting.programme, day)
    return SessionLogged(
        session_id=session_id_for(meeting.meeting_id),
        case_id=meeting.case_id,
        meeting_id=meeting.meeting_id,
        programme=meeting.programme,
        provider=meeting.provider,
        performed_on=day,
        minutes=billable.minutes,
        billable_quarters=billable.quarters,
        client_hours=billable.client_hours,
        rate=rate.sek_per_hour,
        amount_ore=amount_ore(rate.sek_per_hour, billable.client_quarters),
        fee_ore=fee.ore * meeting.client_visits,
        tariff_version=f"{rate.tariff_version};{fee.tariff_version}",
        settlement_month=month_of_date(day),
    )
