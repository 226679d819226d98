"""The events billing publishes on ``billing.events`` (contracts.md, v1): priced sessions,
settlements and adjustments, the tariff book, and the fees of polare on night walks.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
)

from events.intake import NotAttested
from events.types import DecimalStr, Message, Month, Programme


class SessionLogged(Message):
    session_id: UUID
    case_id: UUID
    meeting_id: UUID | None
    programme: Programme
    provider: str
    performed_on: date
    minutes: Annotated[int, Field(ge=0)]
    billable_quarters: Annotated[int, Field(ge=0)]
    client_hours: DecimalStr
    rate: DecimalStr
    amount_ore: int
    fee_ore: int
    tariff_version: str
    settlement_month: Month


class SessionRecut(SessionLogged):
    """A session billed against the yearly cap gives way to one performed before it that was
    recorded after it (the cap is consumed in the order sessions were performed, 003 §1.2):
    the session as now billed, re-booked on its month, which is still open."""

    #: The session performed earlier that took the hours.
    given_to: UUID
    reason: str


class SettlementClosed(Message):
    month: Month
    total_ore: int
    fees_ore: int
    net_ore: int
    billable_hours: DecimalStr
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    closed_at: AwareDatetime
    #: Optional: the digest of the month's document limited to each programme (``--programme``).
    programme_digests: dict[str, str] | None = None
    #: Optional: how many tariff recordings (``TariffRecorded``/``CallOffRecorded``) it used.
    tariff_book_version: int | None = None


class AdjustmentRecorded(Message):
    adjustment_id: UUID
    month: Month
    belongs_to_month: Month
    programme: Programme
    amount_ore: int
    reason: str
    #: Optional: the late session this adjustment bills, its client hours and its client fees.
    session_id: UUID | None = None
    client_hours: DecimalStr | None = None
    fee_ore: int | None = None
    #: Optional: ``manual`` for an adjustment a person recorded (``lots settlement adjust``),
    #: with the written ``reference`` it rests on and who recorded it; absent for a late session.
    cause: Literal["manual", "catch_up"] | None = None
    reference: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    recorded_by: str | None = None
    #: Optional, on a ``catch_up`` (a tariff revision recorded after the month was paid): the
    #: line it catches up (``fixed:<contract>``, ``hourly:<programme>``) and the tariff version
    #: the month's line is now priced at.
    line: str | None = None
    tariff_version: str | None = None


class TariffEntry(BaseModel):
    """One catalogue entry: ``kind`` (term, fixed, rate, fee, cap, indexation, extension, posts,
    termination)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    kind: Literal[
        "term", "fixed", "rate", "fee", "cap", "indexation", "extension", "posts", "termination"
    ]
    entry_id: str
    #: ``entry_id#fingerprint`` of the content, as it appears in tariff versions.
    ref: str
    fields: dict[str, Any]


class TariffRecorded(Message):
    """Billing recorded tariff entries (the default catalogue, a new price, an indexation...)."""

    entries: Annotated[list[TariffEntry], Field(min_length=1)]
    #: The tariff book's version after this recording (1 for the default catalogue).
    book_version: Annotated[int, Field(ge=1)]
    reason: str
    reference: str | None = None
    recorded_by: str | None = None
    recorded_at: AwareDatetime


class CallOffRecorded(Message):
    """A written call-off (avrop) of hours beyond the yearly cap (003 §1.2)."""

    reference: str
    programme: Programme
    year: int
    hours: DecimalStr
    effective_from: date
    book_version: Annotated[int, Field(ge=1)]
    recorded_by: str | None = None
    recorded_at: AwareDatetime


class SessionFlagged(Message):
    """A group session the group rule does not clearly cover: a person must decide."""

    session_id: UUID
    meeting_id: UUID
    case_id: UUID
    programme: Programme
    performed_on: date
    #: The month whose settlement lists it as pending (its own, or the first open one).
    settlement_month: Month
    minutes: int
    participants: int
    reason: str
    options: list[str]


class SessionDecided(Message):
    """A person's decision on a flagged group session; the priced SessionLogged follows."""

    session_id: UUID
    meeting_id: UUID
    case_id: UUID
    decision: Literal["bill_as_ordinary_time", "bill_as_group", "not_billable"]
    decided_by: str
    note: str | None = None
    decided_at: AwareDatetime


class SessionReportedApart(Message):
    """A meeting another provider held (003 §2.3: Leanlink distributes the cases "mellan sig och
    annan utförare"): recorded and reported to the administration apart, never priced into
    Leanlink's settlement, its yearly cap or the fees Leanlink collects (003 §1.2)."""

    session_id: UUID
    meeting_id: UUID
    case_id: UUID
    programme: Programme
    provider: str
    performed_on: date
    #: The month whose settlement reports it (its own, or the first open one after it).
    settlement_month: Month
    minutes: Annotated[int, Field(ge=0)]
    billable_quarters: Annotated[int, Field(ge=0)]
    participants: Annotated[int, Field(ge=0)]
    client_visits: Annotated[int, Field(ge=0)]
    reason: str


class SeparateAmountRecorded(Message):
    """A premises share or a state grant (003 §1.2) recorded on a month's statement, reported
    apart from Leanlink's lines: never in its ``total_ore``, ``fees_ore`` or ``net_ore``.

    ``premises_share``: "Lokalkostnadens ... andel av totalkostnaden ska vid efterfrågan kunna
    redovisas separat", a part of what Leanlink's price already covers. ``state_grant``:
    "Eventuella statsbidrag ... tillfaller social- och omsorgsnämnden"."""

    item_id: UUID
    kind: Literal["premises_share", "state_grant"]
    programme: Programme
    amount_ore: Annotated[int, Field(ge=0, le=10**13)]
    #: The period the amount concerns (first and last day), as the written reference states it.
    period_from: date
    period_to: date
    #: The month whose statement shows it.
    settlement_month: Month
    reference: Annotated[str, Field(min_length=1, max_length=200)]
    note: str | None = None
    recorded_by: str | None = None


class SessionDismissed(Message):
    """A person ruled out billing a session whose price is not known; it is never billed."""

    session_id: UUID
    meeting_id: UUID | None
    case_id: UUID
    reason: str
    decided_by: str
    decided_at: AwareDatetime


class YearlyCapWarning(Message):
    """Billed hours of a programme crossed 80, 95 or 100 % of the year's ordered hours."""

    programme: Programme
    year: int
    percent: int
    billed_hours: DecimalStr
    limit_hours: DecimalStr
    session_id: UUID
    performed_on: date


class PolareRate(BaseModel):
    """One row of the polare fee table: the fee per night walk for ages ``age_from``..``age_to``
    (whole years, inclusive) from ``years_from`` years in the activity on."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    age_from: Annotated[int, Field(ge=0, le=120)]
    age_to: Annotated[int, Field(ge=0, le=120)]
    years_from: Annotated[int, Field(ge=1, le=50)]
    ore_per_walk: Annotated[int, Field(ge=0)]


class PolareRatesRecorded(Message):
    """billing.events: the polare fee table in force from ``effective_from`` (a dated setting;
    the seed gives no figures). It replaces the earlier table from that date on."""

    table_id: str
    effective_from: date
    rates: Annotated[list[PolareRate], Field(min_length=1)]
    reference: str
    recorded_by: str | None = None
    recorded_at: AwareDatetime


class PolareFee(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    polar_ref: UUID
    age: int
    years_in_activity: int
    ore: int


class PolareFeesLogged(Message):
    """billing.events: the fees of one night walk's polare: the provider's cost, paid within
    the field-work budget and never billed to the municipality."""

    walk_id: UUID
    walked_on: date
    month: Month
    fees: list[PolareFee]
    total_ore: int
    table_id: str
    #: Polare intake did not attest (unknown, not enrolled, erased): no fee.
    not_paid: list[NotAttested]
