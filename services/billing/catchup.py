"""Catch-up adjustments: a tariff, index or fee revision recorded late reaches its months.

OPI and the municipality's uplift are published after 1 January (000, 002, 003 §1.2), so an
indexation is often recorded after months it applies to were closed. A closed month never
changes; instead, per month and per line, the difference in öre between the month settled
with the tariffs as now recorded and what the month was paid so far (its closed document plus
every adjustment already booked for it) is booked as an ``adjustment`` line with ``cause``
``catch_up`` on the first open month. Lines:

- ``fixed:<contract>``: the month's fixed share at the new amount, shared by ``fixed_lines``
  (``fixed.py``), so that the months of a year still sum to the yearly amount rounded once;
- ``hourly:<programme>``: every session of the month (its own and its late sessions) priced
  with other tariffs than those now in force on its date (:func:`stale`) priced again at the
  rate now in force for **the same billed hours**: the yearly cap is
  in hours, so a new price never moves the cap's cut, only what each billed hour costs;
- its client fees (``fee_ore`` of the same line): visits x the fee now in force.

Because the difference is always taken against everything already paid for the month and
line, recording a second revision adds only what is not yet paid, and running the computation
again adds nothing. Sessions are priced when they are logged: a session of a still open month
logged before a revision is brought to the new price when its month is closed, by a catch-up
line of its own month (the month's fixed lines are settled at the new price directly).
Pure functions: the service, its replay and the offline computation share them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import NAMESPACE_URL, uuid5

from events.billing import AdjustmentRecorded, SessionLogged
from services.billing.fixed import fixed_lines
from services.billing.pricing_time import amount_ore
from services.billing.settlement import month_start
from services.billing.tariff_quotes import PriceNotKnown
from services.billing.tariffs import Catalogue

CATCH_UP_NAMESPACE = uuid5(NAMESPACE_URL, "lots:billing:catch-up-adjustment")
"""Namespace of catch-up adjustments' ids; never change it (ids must re-derive)."""
CATCH_UP: Literal["catch_up"] = "catch_up"
OWN_REFERENCE = "tariffs recorded after the sessions were logged"
"""The reference of an open month's catch-ups for its own sessions (made at its close)."""


class CatchUpError(ValueError):
    """A catch-up adjustment that does not re-derive from its recorded fields."""


@dataclass(frozen=True)
class Billed:
    """A session of a month as billed, and the client visits of its meeting (0 for time)."""

    session: SessionLogged
    visits: int


@dataclass(frozen=True)
class Target:
    """What a line of a month comes to at the tariffs now recorded."""

    programme: str
    amount_ore: int
    fee_ore: int
    tariff_version: str


Paid = dict[str, tuple[int, int]]
"""What a month's lines were paid so far: line -> (amount in öre, client fees in öre)."""


def repriced(billed: Billed, catalogue: Catalogue) -> Target:
    """A session at the rate and fee in force on its date, for the hours it billed."""
    s = billed.session
    rate = catalogue.hourly_rate(s.programme, s.performed_on)
    version = rate.tariff_version
    fee = 0
    if s.meeting_id is not None:
        quote = catalogue.client_fee(s.programme, s.performed_on)
        fee, version = quote.ore * billed.visits, f"{version};{quote.tariff_version}"
    quarters = int(s.client_hours * 4)
    return Target(s.programme, amount_ore(rate.sek_per_hour, quarters), fee, version)


def targets(
    month: str,
    sessions: Iterable[SessionLogged],
    visits: Callable[[SessionLogged], int],
    catalogue: Catalogue,
    *,
    fixed: bool = True,
) -> dict[str, Target]:
    """Each line of the month at the tariffs of ``catalogue``: its fixed lines (if ``fixed``)
    and, per programme, its sessions, each :func:`stale` one priced again (``visits`` is asked
    only of those), the others as they were logged (the same tariffs give the same price)."""
    out: dict[str, Target] = {}
    if fixed:
        lines, _ = fixed_lines(month_start(month), catalogue, lambda _: True)
        for line in lines:
            out[f"fixed:{line['contract']}"] = Target(
                line["programmes"][0], int(line["amount_ore"]), 0, line["tariff_version"]
            )
    hourly: dict[str, list[Target]] = {}
    for s in sessions:
        if stale(s, catalogue):
            priced = repriced(Billed(s, visits(s)), catalogue)
        else:
            priced = Target(s.programme, s.amount_ore, s.fee_ore, "")
        hourly.setdefault(s.programme, []).append(priced)
    for programme, priced_all in sorted(hourly.items()):
        # Each price's lineage once (``;`` between prices, as in a session's tariff version).
        prices = {c for p in priced_all if p.tariff_version for c in p.tariff_version.split(";")}
        versions = ";".join(sorted(prices))
        out[f"hourly:{programme}"] = Target(
            programme,
            sum(p.amount_ore for p in priced_all),
            sum(p.fee_ore for p in priced_all),
            versions,
        )
    return out


def paid_in(document: Mapping[str, Any]) -> Paid:
    """What a month's own document paid for its lines: fixed lines by contract, hourly lines
    and their fees by programme, and the catch-ups of the month booked on it."""
    month = document["month"]
    paid: Paid = {}
    for line in document["lines"]:
        if line["kind"] == "fixed":
            _add(paid, f"fixed:{line['contract']}", int(line["amount_ore"]), 0)
        elif line["kind"] == "hourly":
            fees = int(line["fees_collected_ore"])
            _add(paid, f"hourly:{line['programme']}", int(line["amount_ore"]), fees)
        elif line.get("cause") == CATCH_UP and line["belongs_to_month"] == month:
            _add(
                paid, line["line"], int(line["amount_ore"]), int(line.get("fees_collected_ore", 0))
            )
    return paid


def paid_later(month: str, adjustments: Iterable[AdjustmentRecorded]) -> Paid:
    """What adjustments booked on later months paid for ``month``: its late sessions (by
    programme) and its catch-ups (by line). Manual corrections are a person's and stay apart."""
    paid: Paid = {}
    for a in adjustments:
        if a.belongs_to_month != month or a.month == month:
            continue
        if a.session_id is not None:
            _add(paid, f"hourly:{a.programme}", a.amount_ore, a.fee_ore or 0)
        elif a.cause == CATCH_UP and a.line is not None:
            _add(paid, a.line, a.amount_ore, a.fee_ore or 0)
    return paid


def catch_ups(
    *,
    month: str,
    booked_on: str,
    due: Mapping[str, Target],
    paid: Mapping[str, tuple[int, int]],
    reference: str,
) -> list[AdjustmentRecorded]:
    """The catch-up adjustments of ``month`` booked on ``booked_on``: per line, what ``due``
    says less what was ``paid``; none where nothing differs."""
    out = []
    for line, target in sorted(due.items()):
        amount, fees = paid.get(line, (0, 0))
        if line.startswith("fixed:") and line not in paid and target.amount_ore == 0:
            continue
        diff, fee_diff = target.amount_ore - amount, target.fee_ore - fees
        if diff == 0 and fee_diff == 0:
            continue
        out.append(
            catch_up(
                month=booked_on, belongs_to_month=month, programme=target.programme, line=line,
                amount_ore=diff, fee_ore=fee_diff, tariff_version=target.tariff_version,
                reference=reference,
            )
        )  # fmt: skip
    return out


def catch_up(
    *,
    month: str,
    belongs_to_month: str,
    programme: str,
    line: str,
    amount_ore: int,
    fee_ore: int,
    tariff_version: str,
    reference: str,
) -> AdjustmentRecorded:
    """One catch-up adjustment; its id derives from all it says, so it re-derives offline."""
    what = "fixed payment " + line[6:] if line.startswith("fixed:") else f"{programme} sessions"
    reason = f"catch-up for {belongs_to_month}: {what} at the tariffs recorded later"
    key = f"{month}/{belongs_to_month}/{line}/{amount_ore}/{fee_ore}/{tariff_version}/{reference}"
    return AdjustmentRecorded(
        adjustment_id=uuid5(CATCH_UP_NAMESPACE, key), month=month,
        belongs_to_month=belongs_to_month, programme=programme,  # type: ignore[arg-type]
        amount_ore=amount_ore, reason=reason, cause=CATCH_UP, reference=reference[:200],
        line=line, fee_ore=fee_ore or None, tariff_version=tariff_version,
    )  # fmt: skip


def is_catch_up(adjustment: AdjustmentRecorded) -> bool:
    return adjustment.cause == CATCH_UP


def rederived(recorded: AdjustmentRecorded) -> AdjustmentRecorded:
    """The catch-up made again from its recorded fields; refused if it does not re-derive."""
    assert recorded.line is not None and recorded.tariff_version is not None
    again = catch_up(
        month=recorded.month,
        belongs_to_month=recorded.belongs_to_month,
        programme=recorded.programme,
        line=recorded.line,
        amount_ore=recorded.amount_ore,
        fee_ore=recorded.fee_ore or 0,
        tariff_version=recorded.tariff_version,
        reference=recorded.reference or "",
    )
    if again != recorded:
        raise CatchUpError(
            f"catch-up {recorded.adjustment_id} does not re-derive from its recorded fields"
        )
    return again


def stale(session: SessionLogged, catalogue: Catalogue) -> bool:
    """Whether a logged session was priced with other tariffs than those now in force on its
    date (its tariff version names other entries); False where no price is known now."""
    return stale_version(
        session.programme,
        session.performed_on,
        session.meeting_id is not None,
        session.tariff_version,
        catalogue,
    )


def stale_version(
    programme: str, performed_on: date, meeting: bool, version: str, catalogue: Catalogue
) -> bool:
    """:func:`stale` from a session's fields (so that a month's sessions need not be read in
    full to find the few priced before a revision)."""
    try:
        expected = catalogue.hourly_rate(programme, performed_on).tariff_version
        if meeting:
            fee = catalogue.client_fee(programme, performed_on)
            expected = f"{expected};{fee.tariff_version}"
    except PriceNotKnown:
        return False
    return not (version == expected or version.startswith(f"{expected};"))


def own_catch_ups(
    month: str,
    sessions: Iterable[SessionLogged],
    visits: Callable[[SessionLogged], int],
    catalogue: Catalogue,
    booked: Iterable[AdjustmentRecorded],
    reference: str = OWN_REFERENCE,
) -> list[AdjustmentRecorded]:
    """The catch-ups an open month gets for its own sessions logged before a revision (those
    :func:`stale`): priced again at the same hours, less what they were logged at and what
    its own catch-ups already booked. Fixed lines are settled at the new price directly."""
    mine = [s for s in sessions if s.settlement_month == month]
    paid: Paid = {}
    for s in mine:
        _add(paid, f"hourly:{s.programme}", s.amount_ore, s.fee_ore)
    for a in booked:
        if a.month == month and a.belongs_to_month == month and is_catch_up(a) and a.line:
            _add(paid, a.line, a.amount_ore, a.fee_ore or 0)
    due = targets(month, mine, visits, catalogue, fixed=False)
    return catch_ups(month=month, booked_on=month, due=due, paid=paid, reference=reference)


def _add(paid: Paid, line: str, amount: int, fees: int) -> None:
    was = paid.get(line, (0, 0))
    paid[line] = (was[0] + amount, was[1] + fees)


def merged(*parts: Paid) -> Paid:
    """The sums of several :data:`Paid`, line by line."""
    out: Paid = {}
    for part in parts:
        for line, (amount, fees) in part.items():
            _add(out, line, amount, fees)
    return out
