"""Where billing books catch-ups (``catchup.py``): on a tariff revision, for every closed month
it reaches, on the first open month; at a month's close, for its own sessions logged before.

Reads the unit of work's aggregates and books on open months' settlements only; the amounts
come from the pure functions of :mod:`services.billing.catchup`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from functools import partial

from events.billing import AdjustmentRecorded, SessionLogged
from infra.months import month_of_date
from services.billing.booking import Booker
from services.billing.catchup import (
    catch_ups,
    merged,
    own_catch_ups,
    paid_in,
    paid_later,
    stale_version,
    targets,
)
from services.billing.domain_session import Session
from services.billing.domain_settlement import Settlement
from services.billing.settlement import next_month
from services.billing.tariff_entries import Entry, Extension, Indexation, Termination
from services.billing.tariffs import Catalogue


def effective_from(entry: Entry, catalogue: Catalogue) -> date:
    """The first day a newly recorded entry can change a price (an extension or a notice can
    change any month of its contract's term)."""
    if isinstance(entry, Indexation):
        return entry.applies_from
    if isinstance(entry, Extension | Termination):
        return min(t.valid_from for t in catalogue.terms if t.contract == entry.contract)
    start = getattr(entry, "valid_from", None)
    assert isinstance(start, date), f"{entry.entry_id} has no effective date"
    return start


def visits_of(booker: Booker, logged: SessionLogged) -> int:
    """The client visits of a session's meeting (logged time has none)."""
    if logged.meeting_id is None:
        return 0
    session = booker.uow.get(logged.session_id, Session)
    if session is None or session.meeting is None:
        return 0
    return int(session.meeting["client_visits"])


def adjustments_of(settlement: Settlement) -> list[AdjustmentRecorded]:
    return [AdjustmentRecorded.model_validate(a) for a in settlement.adjustments.values()]


def own_of(booker: Booker, settlement: Settlement) -> list[AdjustmentRecorded]:
    """The catch-ups the open month's own sessions are due at the tariffs now recorded."""
    catalogue = booker.catalogue
    # Only the sessions priced with other tariffs can differ: read just those in full.
    sessions = [
        SessionLogged.model_validate(p)
        for p in settlement.sessions.values()
        if stale_version(
            str(p["programme"]),
            date.fromisoformat(str(p["performed_on"])),
            p.get("meeting_id") is not None,
            str(p["tariff_version"]),
            catalogue,
        )
    ]
    return own_catch_ups(
        settlement.month,
        sessions,
        partial(visits_of, booker),
        catalogue,
        adjustments_of(settlement),
    )


def book_catch_ups(
    booker: Booker, entries: Iterable[Entry], today: date, reference: str
) -> list[AdjustmentRecorded]:
    """Book, on the first open month, every closed month's catch-ups from the first month the
    recorded ``entries`` take effect up to ``today``'s month."""
    catalogue = booker.catalogue
    starts = [effective_from(e, catalogue) for e in entries]
    if not starts:
        return []
    settlements: dict[str, Settlement] = {}
    month, last = month_of_date(min(starts)), month_of_date(today)
    while month <= last:
        found = booker.uow.get(Settlement.create_id(month), Settlement)
        if found is not None:
            settlements[month] = found
        month = next_month(month)
    booked = [a for s in settlements.values() for a in adjustments_of(s)]
    made: list[AdjustmentRecorded] = []
    for month, settlement in sorted(settlements.items()):
        if settlement.closed is None:
            continue
        document = json.loads(settlement.closed["documents"][""])
        sessions = [SessionLogged.model_validate(p) for p in settlement.sessions.values()]
        for late in booked:
            if late.belongs_to_month == month != late.month and late.session_id is not None:
                session = booker.uow.get(late.session_id, Session)
                assert session is not None and session.logged is not None
                sessions.append(SessionLogged.model_validate(session.logged))
        paid = merged(paid_in(document), paid_later(month, [*booked, *made]))
        due = targets(month, sessions, partial(visits_of, booker), catalogue)
        target = booker.open_month(month)
        for adjustment in catch_ups(
            month=month, booked_on=target, due=due, paid=paid, reference=reference
        ):
            booker.settlement(target).book_adjustment(adjustment.model_dump(mode="json"))
            made.append(adjustment)
    return made
