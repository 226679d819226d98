"""Contract terms made visible: when a programme has no contract, notices of termination and
the deadline for one (002, 003 §1.1, 004).

- **A programme with no contract in force** in a month gets a note on the month's settlement
  (:func:`term_notes`) and a warning in ``lots status`` (:func:`term_notices`): "network:
  contract coordinated-network-2018 ended on 2021-08-31, no extension recorded" (or "... by the
  notice given on ..."). A programme that never had a contract before the month (counselling
  before 2022) gets none: nothing ended.
- **A notice of termination** (uppsägning) is recorded with the day it was given
  (:func:`notice_end`). 003 §1.1 and 004: "Uppsägningstiden är 12 månader ... om parterna inte
  kommer överens om annat": a contract until further notice ends 12 months after the notice,
  and, since contracts are paid by whole months, on the last day of the month in which those 12
  months run out (a notice given 2023-03-15 ends the term 2024-03-31; the seeds are silent on
  part months, and this never shortens the 12 months). 002 (a fixed term, extendable by three
  years): "Uppsägning kan ske av båda parter senast 12 månader innan uppdragstiden går ut": a
  notice ends the term at its current end (no further extension), and one given later than 12
  months before that end is refused. A different end agreed by the parties ("om parterna inte
  kommer överens om annat") is recorded as ``ends_on`` (a month's last day). A contract is
  terminated once; an extension after a notice is refused.
- **The notice deadline of a fixed term** (:func:`term_notices`): from ``NOTICE_WARNING_DAYS``
  days before the last day a notice can be given (the day 12 months before the term's end)
  until that day, ``lots status`` warns, unless a notice is recorded.

Pure functions of the catalogue and a date; the service, its replay and the offline
computation call them with the catalogue they settle with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from infra import contract_names as names
from infra.contract_terms import no_contract
from infra.months import end_of_month, months_before
from services.billing.tariff_entries import ContractTerm, TariffError
from services.billing.tariffs import Catalogue

NOTICE_MONTHS = 12
"""The notice period of 002, 003 §1.1 and 004."""
NOTICE_WARNING_DAYS = 90
"""How long before a fixed term's notice deadline ``lots status`` starts to warn (a choice)."""


def notice_deadline(end: date) -> date:
    """The last day a notice can be given for a fixed term ending on ``end`` (002)."""
    return months_before(end, NOTICE_MONTHS)


def notice_end(catalogue: Catalogue, contract: str, given_on: date) -> date:
    """The term's last day after a notice given on ``given_on`` (the rules above)."""
    end = catalogue.term_end_unterminated(contract)
    if end is None:
        run_out = months_before(given_on, -NOTICE_MONTHS)
        return end_of_month(run_out)
    deadline = notice_deadline(end)
    if given_on > deadline:
        raise TariffError(
            f"a notice of {contract} had to be given by {deadline.isoformat()}, 12 months before "
            f"its term ends on {end.isoformat()} (002); record the end agreed as ends_on"
        )
    return end


def _ended(catalogue: Catalogue, programme: str, on: date) -> tuple[ContractTerm, date] | None:
    """The contract of ``programme`` that ended last before ``on``, if none is in force: the
    shared rule (:func:`infra.contract_terms.no_contract`) intake flags referrals by."""
    found = no_contract(catalogue.contract_terms(), programme, on)
    if found is None or found.contract is None or found.ended_on is None:
        return None
    term = next(t for t in catalogue.terms if t.contract == found.contract)
    return term, found.ended_on


def ended_message(catalogue: Catalogue, programme: str, on: date) -> str | None:
    found = _ended(catalogue, programme, on)
    if found is None:
        return None
    term, end = found
    notice = catalogue.termination(term.contract)
    why = (
        f"by the notice given on {notice.given_on.isoformat()}"
        if notice is not None and notice.ends_on == end
        else "no extension recorded"
    )
    return (
        f"{programme}: contract {term.contract} ended on {end.isoformat()}, {why}; "
        "no contract in force"
    )


def term_notes(
    start: date,
    catalogue: Catalogue,
    programmes: Iterable[str],
    wanted: Callable[[Iterable[str]], bool],
) -> list[str]:
    """The month's notes on programmes with no contract in force on its first day."""
    found = (ended_message(catalogue, p, start) for p in programmes if wanted([p]))
    return [note for note in found if note is not None]


def _no_contract_warning(catalogue: Catalogue, programme: str, today: date) -> str | None:
    """The ``no_contract_in_force`` warning in words, with what to do."""
    found = _ended(catalogue, programme, today)
    if found is None:
        return None
    term, end = found
    notice = catalogue.termination(term.contract)
    why = (
        f"by the notice given on {notice.given_on.isoformat()}"
        if notice is not None and notice.ends_on == end
        else "and no extension is recorded"
    )
    return (
        f"{names.programme(programme).capitalize()} has no contract in force: "
        f"{names.contract(term.contract)} ended on {end.isoformat()} {why}. If the work goes on "
        "under an extension or a new contract, record it (POST /tariffs/extensions or "
        "/tariffs/terms on billing); until then its months are settled without a contract."
    )


def term_notices(
    catalogue: Catalogue, programmes: Iterable[str], today: date
) -> list[dict[str, str]]:
    """``lots status`` warnings in words: programmes with no contract, fixed terms near their
    notice deadline with no notice recorded, and terms ending by a notice. Each keeps its
    machine-readable ``code``."""
    out = [
        {"level": "warning", "code": "no_contract_in_force", "message": message}
        for message in (_no_contract_warning(catalogue, p, today) for p in programmes)
        if message is not None
    ]
    for term in catalogue.terms_in_force(today):
        end = catalogue.term_end(term.contract)
        notice = catalogue.termination(term.contract)
        if end is None:
            continue
        named = names.contract(term.contract)
        if notice is not None:
            out.append({"level": "warning", "code": "contract_terminated", "message": (
                f"{named.capitalize()} ends on {end.isoformat()}, by the notice of termination "
                f"given on {notice.given_on.isoformat()}. Plan the end of the work, or record "
                "the new contract once one is agreed."
            )})  # fmt: skip
            continue
        deadline = notice_deadline(end)
        if deadline - timedelta(days=NOTICE_WARNING_DAYS) <= today <= deadline:
            out.append({"level": "warning", "code": "notice_deadline", "message": (
                f"{named.capitalize()} runs to {end.isoformat()}. Notice of termination must be "
                f"given by {deadline.isoformat()}, 12 months before its end: if either party "
                f"means to end it, record the notice with `lots settlement terminate "
                f"{term.contract}` by then. Otherwise it runs to its end, and an extension is "
                "the municipality's to decide and record."
            )})  # fmt: skip
    return out
