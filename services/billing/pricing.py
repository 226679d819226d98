"""Pricing of counselling time (003 §1.2): a held meeting, or logged time, into a SessionLogged.

Pure functions of their inputs (no clock, no I/O); the billing service and the offline
settlement both call them, so a meeting is priced the same way everywhere.

The arithmetic of time and money is :mod:`services.billing.pricing_time`'s and the group rule
:mod:`services.billing.pricing_groups`'s; this module prices a session with them.

- ``minutes``: ended_at minus started_at as elapsed time (a meeting across a daylight-saving
  change lasts as long as it really did); a started minute counts as a whole minute.
- ``billable_quarters``: started quarter hours, ``ceil(minutes / 15)``. An hour is 60 minutes
  and time above or below a whole hour earns a quarter of the hourly rate per started quarter,
  which is the same thing: 45 min -> 3, 60 -> 4, 61 -> 5, 80 -> 6.
- client quarters: the billable quarters; for a group session the group rule covers (format
  ``group``, 60..120 minutes, at least 5 participants) four times as many, since every group
  hour, and so every quarter of group time, earns 4 client hours. Any other group session waits
  for a person's decision, and a group of fewer than 5 is never billed as a group
  (:func:`~services.billing.pricing_groups.decision_options`).
- ``client_hours``: client quarters / 4, two decimals.
- ``amount_ore``: rate (SEK per hour, whole öre) x client hours, in öre, rounded half-up to whole
  öre once per session in :func:`~services.billing.pricing_time.amount_ore`, the only place a
  session's amount is rounded.
- ``fee_ore``: the client fee per visit x ``client_visits``; reported apart, it belongs to the
  municipality (003 §2.3), and is collected whatever is decided about billing the time.
- ``performed_on`` / ``settlement_month``: the local date in Europe/Stockholm of the start;
  every price is the one in force on that date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from events.billing import SessionLogged
from events.scheduling import MeetingHeld
from events.types import Programme
from infra.calendar import local_date, month_of
from infra.months import month_of_date
from services.billing.pricing_groups import (
    CLIENT_HOURS_PER_GROUP_HOUR,
    MULTIPLIER,
    Decision,
    NeedsDecision,
    check_decision,
    decision_options,
    group_rule_gap,
)
from services.billing.pricing_time import (
    PricingError,
    amount_ore,
    client_hours,
    minutes_between,
    started_quarters,
)
from services.billing.tariffs import Catalogue

LEANLINK = "leanlink"
"""The provider this back office bills for, as scheduling's roster names it."""
SESSION_NAMESPACE = uuid5(NAMESPACE_URL, "lots:billing:session")
"""Namespace of session ids derived from meeting ids; never change it (ids must re-derive)."""


class NotHourlyBilled(PricingError):
    """The programme is paid by a fixed sum, not by the hour."""


class NotLeanlinks(PricingError):
    """Time another provider performed: it is not Leanlink's to bill (003 §1.2, §2.3)."""


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


def session_id_for(meeting_id: UUID) -> UUID:
    """The session id of a meeting's session, the same wherever and however often it is priced."""
    return uuid5(SESSION_NAMESPACE, str(meeting_id))


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
        multiplier = MULTIPLIER[decision]
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
