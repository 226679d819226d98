"""The monthly settlement (contracts.md, ``lots settlement``) as a pure computation.

``settle(month, sessions, catalogue)`` returns the canonical settlement document: a dict of
strings, integers, lists, dicts and None only (money in integer öre, hours and rates as decimal
strings), with these keys:

``month``, ``programme`` (the filter, or null), ``document_version``, ``lines``, ``total_ore``
(sum of the lines), ``billable_hours`` (counselling client hours of the month, "11.25"),
``fees_ore`` (client fees collected; they belong to the municipality), ``net_ore``
(total - fees), ``pending_decisions``, ``notes`` and ``digest``.

Lines, each with ``programme``, ``kind`` and ``amount_ore``:

- ``hourly``: the month's sessions as they stand, one line per (programme, rate, tariff
  version), with sessions, minutes, quarters, client hours and fees collected for the auditor.
- ``fixed``: one per contract whose term (with its recorded extensions) covers the month, at the
  payment in force on the month's first day, its share a running total rounded once
  (:func:`~services.billing.fixed.fixed_lines`): the months a yearly payment covers in a year
  sum to the yearly amount x those months / 12, rounded once, and a term's months to its amount.
  A joint contract's line is named after all its programmes (``coordinated+network``); a
  programme filter keeps it for any of them.
- ``adjustment``: one per ``AdjustmentRecorded`` booked on this month. A manual adjustment
  (:mod:`services.billing.adjustments`) also carries ``cause`` ``manual`` and its ``reference``;
  a catch-up (:mod:`services.billing.catchup`) ``cause`` ``catch_up``, ``reference``, ``line``,
  ``tariff_version`` and, where fees differ, ``fees_collected_ore``.
  An adjustment that bills a
  late session (:func:`late_adjustment`) also names the session and carries its client hours and
  client fees (``client_hours``, ``fees_collected_ore``): they count in this month's
  ``billable_hours`` and ``fees_ore``, since the month the session belongs to is closed.

``pending_decisions`` lists the month's group sessions waiting for a person's decision, and
``awaiting_price`` the sessions waiting for a price that is not known (each with its
``session_id``, ``meeting_id`` and the reason), both given by the caller and neither billed; a
month with a session waiting for a price cannot close, so a closed document lists none.
``other_providers`` reports apart, per provider, programme and month held, the meetings other
providers held (:mod:`services.billing.providers`): never lines, never in ``total_ore``,
``billable_hours`` or ``fees_ore``, which are Leanlink's alone; a ``SessionLogged`` of another
provider is refused. ``notes`` says where a price was carried forward because no indexation
was recorded (from the fixed quotes and the hourly lines' tariff versions), and each wanted
programme with no contract in force on the month's first day ("network: contract ... ended on
2021-08-31, no extension recorded; no contract in force", :mod:`services.billing.terms`).
``reported_separately`` (present only when the month has any) lists the premises shares and
state grants recorded on the month (003 §1.2, :mod:`services.billing.separate`): never lines,
never in ``total_ore``, ``fees_ore`` or ``net_ore``.

``digest`` is the hex SHA-256 of :func:`canonical_json` of the document without ``digest``:
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` as UTF-8. Sessions are
deduplicated on ``session_id`` (adjustments on ``adjustment_id``; the same id with different
content raises) and every list is sorted, so any order and any duplicates of the same inputs
give a byte-identical document.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, uuid5

from pydantic import BaseModel, ValidationError

from events.billing import (
    AdjustmentRecorded,
    SeparateAmountRecorded,
    SessionLogged,
    SessionReportedApart,
)
from events.codec import describe
from events.types import PROGRAMMES
from infra import months
from infra.refusals import Refused
from services.billing.fixed import fixed_lines
from services.billing.pricing import bills_for_leanlink
from services.billing.pricing_groups import NeedsDecision
from services.billing.providers import other_providers
from services.billing.separate import reported_separately
from services.billing.settlement_lines import (
    Awaiting,
    adjustment_line,
    carried_forward,
    decimal_text,
    hourly_lines,
    waiting,
)
from services.billing.tariffs import Catalogue
from services.billing.terms import term_notes

DOCUMENT_VERSION = 3
"""Version 3: a note for each programme with no contract in force (``terms.py``). Version 2:
fixed shares are running totals (``fixed.py``); ``awaiting_price`` and ``other_providers``.
A month closed under an earlier version keeps its closed document;
docs/billing.md says what changed."""
_KIND_ORDER = {"fixed": 0, "hourly": 1, "adjustment": 2}
ADJUSTMENT_NAMESPACE = uuid5(NAMESPACE_URL, "lots:billing:late-session-adjustment")
"""Namespace of the adjustment ids of late sessions; never change it (ids must re-derive)."""

Document = dict[str, Any]
M = TypeVar("M", bound=BaseModel)


class SettlementError(Refused, ValueError):
    """Inputs that cannot be settled: a bad month or programme, or conflicting duplicates."""

    status = 400


def month_start(month: str) -> date:
    """The first day of ``month`` (:mod:`infra.months`); a bad month is a SettlementError."""
    try:
        return months.first_day(month)
    except months.MonthError as exc:
        raise SettlementError(str(exc)) from exc


def check_month(month: str, programme: str | None) -> None:
    """Refuse (SettlementError) a bad month, or a programme that is not one of PROGRAMMES."""
    month_start(month)
    if programme is not None and programme not in PROGRAMMES:
        raise SettlementError(f"unknown programme {programme!r}; expected one of {PROGRAMMES}")


def next_month(month: str) -> str:
    """The month after ``month`` (:mod:`infra.months`); a bad month is a SettlementError."""
    try:
        return months.next_month(month)
    except months.MonthError as exc:
        raise SettlementError(str(exc)) from exc


def first_open_month(month: str, closed: Callable[[str], bool]) -> str:
    """``month`` itself if it is open, else the first later month that is."""
    while closed(month):
        month = next_month(month)
    return month


def late_adjustment(session: SessionLogged, month: str) -> AdjustmentRecorded:
    """The adjustment booked on open ``month`` for a session whose own month is closed.

    Its id and reason derive from the session alone, so the live service and an offline
    computation make the very same adjustment.
    """
    return AdjustmentRecorded(
        adjustment_id=uuid5(ADJUSTMENT_NAMESPACE, str(session.session_id)),
        month=month,
        belongs_to_month=session.settlement_month,
        programme=session.programme,
        amount_ore=session.amount_ore,
        reason=(
            f"session {session.session_id} performed on {session.performed_on.isoformat()} "
            f"was logged after {session.settlement_month} had been closed"
        ),
        session_id=session.session_id,
        client_hours=session.client_hours,
        fee_ore=session.fee_ore,
    )


def canonical_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_of(document: Mapping[str, Any]) -> str:
    """The digest of a document: SHA-256 of its canonical JSON without the ``digest`` key."""
    body = {k: v for k, v in document.items() if k != "digest"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def verify(document: Mapping[str, Any]) -> bool:
    return document.get("digest") == digest_of(document)


def settle(
    month: str,
    sessions: Iterable[SessionLogged | Mapping[str, Any]],
    catalogue: Catalogue,
    *,
    programme: str | None = None,
    adjustments: Iterable[AdjustmentRecorded | Mapping[str, Any]] = (),
    pending: Iterable[NeedsDecision] = (),
    awaiting: Iterable[Awaiting] = (),
    apart: Iterable[SessionReportedApart | Mapping[str, Any]] = (),
    separate: Iterable[SeparateAmountRecorded | Mapping[str, Any]] = (),
) -> Document:
    """The month's settlement document, limited to one programme when ``programme`` is given."""
    start = month_start(month)
    if programme is not None and programme not in PROGRAMMES:
        raise SettlementError(f"unknown programme {programme!r}; expected one of {PROGRAMMES}")

    def wanted(programmes: Iterable[str]) -> bool:
        return programme is None or programme in programmes

    logged = _leanlinks(
        s
        for s in _unique(sessions, SessionLogged, "session_id")
        if s.settlement_month == month and wanted([s.programme])
    )
    booked = [
        a
        for a in _unique(adjustments, AdjustmentRecorded, "adjustment_id")
        if a.month == month and wanted([a.programme])
    ]
    lines, notes = _lines(start, catalogue, wanted, logged, booked)
    total = sum(int(line["amount_ore"]) for line in lines)
    fees = sum(s.fee_ore for s in logged) + sum(a.fee_ore or 0 for a in booked)
    hours = _billable_hours(logged, booked)
    document: Document = {
        "month": month,
        "programme": programme,
        "document_version": DOCUMENT_VERSION,
        "lines": lines,
        "total_ore": total,
        "billable_hours": decimal_text(hours),
        "fees_ore": fees,
        "net_ore": total - fees,
        **waiting(month, wanted, pending, awaiting),
        "other_providers": other_providers(
            _unique(apart, SessionReportedApart, "session_id"), month, wanted
        ),
        "notes": sorted(set(notes)),
    }
    apart_amounts = reported_separately(
        _unique(separate, SeparateAmountRecorded, "item_id"), month, wanted
    )
    if apart_amounts is not None:
        document["reported_separately"] = apart_amounts
    document["digest"] = digest_of(document)
    return document


def _lines(
    start: date,
    catalogue: Catalogue,
    wanted: Callable[[Iterable[str]], bool],
    logged: list[SessionLogged],
    booked: list[AdjustmentRecorded],
) -> tuple[list[Document], list[str]]:
    """The month's lines in the document's order (fixed, hourly, adjustments per programme),
    and its notes: prices carried forward, programmes with no contract in force."""
    fixed, notes = fixed_lines(start, catalogue, wanted)
    hourly = hourly_lines(logged)
    notes += carried_forward(hourly)
    notes += term_notes(start, catalogue, PROGRAMMES, wanted)
    lines = sorted(
        [*hourly, *fixed, *(adjustment_line(a) for a in booked)],
        key=lambda line: (line["programme"], _KIND_ORDER[line["kind"]], canonical_json(line)),
    )
    return lines, notes


def _billable_hours(logged: list[SessionLogged], booked: list[AdjustmentRecorded]) -> Decimal:
    """Counselling's client hours of the month: its sessions' and its late sessions'."""
    hours = sum((s.client_hours for s in logged if s.programme == "counselling"), Decimal(0))
    hours += sum(
        (a.client_hours or Decimal(0) for a in booked if a.programme == "counselling"), Decimal(0)
    )
    return hours


def _leanlinks(sessions: Iterable[SessionLogged]) -> list[SessionLogged]:
    """The sessions, each Leanlink's own; another provider's is refused (providers.py)."""
    out = []
    for s in sessions:
        if not bills_for_leanlink(s.provider):
            raise SettlementError(
                f"session {s.session_id} was logged for {s.provider}: only Leanlink's own time "
                "is Leanlink's to bill (003 §1.2, §2.3); it is reported apart, never settled"
            )
        out.append(s)
    return out


def _unique(items: Iterable[M | Mapping[str, Any]], model: type[M], key: str) -> list[M]:
    seen: dict[str, tuple[M, str]] = {}
    for item in items:
        try:
            message = item if isinstance(item, model) else model.model_validate(item)
        except ValidationError as exc:
            raise SettlementError(f"invalid {model.__name__}: {describe(exc)}") from exc
        ident = str(getattr(message, key))
        content = canonical_json(message.model_dump(mode="json"))
        if ident in seen and seen[ident][1] != content:
            raise SettlementError(f"{model.__name__} {key} {ident} appears with different content")
        seen[ident] = (message, content)
    return [seen[ident][0] for ident in sorted(seen)]
