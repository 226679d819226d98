"""The statement's words: a line named as a finance officer reads it, its tariff lineage as a
reference, near-identical notes grouped, and instants in Stockholm time with the zone named.

Pure functions of the settlement document's fields; every amount is written with
:func:`infra.money.kronor` from integer öre.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from infra.calendar import STOCKHOLM
from infra.money import kronor

TITLES = {
    "counselling": "Family counselling (familjerådgivning)",
    "coordinated+network": "Coordinated support and network work (samordnat stöd, nätverksarbete)",
    "coordinated": "Coordinated support (samordnat stöd)",
    "network": "Network work (nätverksarbete)",
    "field": "Field work (fältverksamhet)",
}
NAMES = {
    "counselling": "Family counselling",
    "coordinated+network": "Coordinated support and network work",
    "coordinated": "Coordinated support",
    "network": "Network work",
    "field": "Field work",
}
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_YEAR = re.compile(r"recorded for (\d{4})")
_SEK = re.compile(r"(-?\d+)\.(\d{2}) SEK")
#: What each part of a tariff version is, from the ids billing gives its entries.
_PARTS = (
    (re.compile(r"^unindexed-(.+)-(\d{4})$"), "no {0} index for {1}, level carried forward"),
    (re.compile(r"-payment(-[\d-]+)?#"), "fixed payment"),
    (re.compile(r"-posts(-[\d-]+)?#"), "agreed full-time posts"),
    (re.compile(r"-extension-(\d+)#"), "extension {0} of the term"),
    (re.compile(r"-termination#"), "notice of termination"),
    (re.compile(r"-term#"), "contract term"),
    (re.compile(r"-rate(-[\d-]+)?#"), "hourly rate"),
    (re.compile(r"-fee(-[\d-]+)?#"), "client fee"),
    (re.compile(r"-cap(-[\d-]+)?#"), "yearly cap"),
    (re.compile(r"^(.+)-(\d{4})#"), "{0} indexation for {1}"),
)


def name(programme: str) -> str:
    return NAMES.get(programme, programme)


def month_in_words(month: str) -> str:
    """``2024-11`` as ``November 2024``."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {int(year)}"


def stockholm(instant: str | datetime | None) -> str:
    """An instant as people read it: ``1 June 2022, 10:15 Stockholm time (CEST)``."""
    if instant is None:
        return "an unrecorded time"
    moment = instant if isinstance(instant, datetime) else datetime.fromisoformat(instant)
    local = moment.astimezone(STOCKHOLM)
    return (
        f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M} Stockholm time "
        f"({local.tzname()})"
    )


def rate_ore(rate: str) -> int:
    """A rate written as a decimal string of kronor ("605.00") in öre, exactly."""
    return int(Decimal(rate) * 100)


def in_kronor(text: str) -> str:
    """A stored text's amounts written "605.00 SEK" shown as every other amount: 605,00 kr."""

    def shown(found: re.Match[str]) -> str:
        whole, cents = int(found[1]), int(found[2])
        return kronor(whole * 100 - cents if found[1].startswith("-") else whole * 100 + cents)

    return _SEK.sub(shown, text)


def line_name(
    line: Mapping[str, Any], month: str, term_ends: Mapping[str, str] | None = None
) -> str:
    """A line named in words: what was done, when, at what price and under which terms."""
    if line["kind"] == "hourly":
        return (
            f"{name(line['programme'])}, {line['client_hours']} client hours at "
            f"{kronor(rate_ore(line['rate']))}/h"
        )
    if line["kind"] == "fixed":
        return _fixed_name(line, month, term_ends or {})
    belongs = month_in_words(line["belongs_to_month"])
    if "session_id" in line:
        hours = f", {line['client_hours']} client hours" if line.get("client_hours") else ""
        return f"{name(line['programme'])}, a session of {belongs} logged after it closed{hours}"
    said = CAUSES.get(line.get("cause", ""), "adjustment")
    cause = f"; {said}, reference {line['reference']}" if "reference" in line else ""
    return f"{name(line['programme'])}, adjustment for {belongs}: {line['reason']}{cause}"


CAUSES = {  # an adjustment's recorded cause, in words
    "manual": "manual correction",
    "catch_up": "catch-up for a tariff recorded after the month closed",
}


def _fixed_name(line: Mapping[str, Any], month: str, term_ends: Mapping[str, str]) -> str:
    indexed = any(" indexation for " in _kind(p) for p in parts(line["tariff_version"]))
    level = f"{'indexed from' if indexed else 'at'} the {line['price_level_year']} price level"
    amount = kronor(line["period_amount_ore"])
    per = "a year" if line["per"] == "year" else f"for a term of {line['period_months']} months"
    ftes = line.get("ftes")
    posts = f", {ftes} full-time posts" if ftes not in (None, line.get("payment_ftes")) else ""
    extended = ""
    if "-extension-" in line["tariff_version"]:
        end = term_ends.get(line["contract"])
        extended = f", extended to {end}" if end else ", extended"
    return (
        f"{name(line['programme'])}, {month_in_words(month)}, {amount} {per} {level}{posts}"
        f"{extended}"
    )


def parts(tariff_version: str) -> list[str]:
    """The entries a tariff version is made of (``+`` within a price, ``;`` between prices)."""
    return [p for p in re.split(r"[+;]", tariff_version) if p]


def _kind(part: str) -> str:
    for pattern, words in _PARTS:
        found = pattern.search(part)
        if found:
            return words.format(*found.groups())
    return "tariff entry"


def lineage(line: Mapping[str, Any]) -> str:
    """The line's tariff lineage for its reference note, each entry named (a late session's
    adjustment: the session and why it is billed here)."""
    if "tariff_version" not in line:
        return str(line["reason"])
    named = "; ".join(
        _kind(p) if p.startswith("unindexed-") else f"{_kind(p)} ({p})"
        for p in parts(line["tariff_version"])
    )
    share = ""
    if line["kind"] == "fixed":
        share = f"; month {line['month_of_period']} of {line['period_months']}"
        if "covered_from" in line:
            share += (
                f", paying {line['covered_months']}/12 of the yearly amount from "
                f"{month_in_words(line['covered_from'])}, rounded once, less the months before"
            )
    return f"{named}{share}"


HOLE = "\x00"
"""Where a grouped note's varying parts go (a character no stored text holds)."""


def grouped(items: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """(text with a ``HOLE``, what fills it) pairs as one entry per text, its fillings in
    order: one note for sixteen near-identical ones."""
    groups: dict[str, list[str]] = {}
    for what, which in items:
        groups.setdefault(what, []).append(which)
    return sorted(groups.items())


def filled(what: str, which: Iterable[str]) -> str:
    """A grouped text with its fillings listed where they vary (each once, in order)."""
    listed = ", ".join(dict.fromkeys(w for w in which if w))
    return what.replace(HOLE, listed) if HOLE in what else what


def note_parts(note: str) -> tuple[str, str]:
    """A note as (its text with a hole, what varies): a programme's prefix or a year."""
    head, _, rest = note.partition(": ")
    if rest and head in NAMES:
        return f"{HOLE}: {in_kronor(rest)}", name(head)
    year = _YEAR.search(note)
    if year:
        return in_kronor(note[: year.start(1)] + HOLE + note[year.end(1) :]), year[1]
    return in_kronor(note), ""


def awaiting_parts(reason: str) -> tuple[str, str]:
    """A session waiting for a price as (why, with a hole, the day it was held)."""
    day = _DATE.search(reason)
    if day is None:
        return in_kronor(reason), ""
    return in_kronor(reason[: day.start()] + HOLE + reason[day.end() :]), day[0]


def notes_in_words(notes: Iterable[str]) -> list[str]:
    """The document's notes, those differing only in a programme or a year made one."""
    return [filled(what, which) for what, which in grouped(note_parts(n) for n in notes)]


def awaiting_in_words(view: Mapping[str, Any]) -> list[str]:
    """The sessions waiting for a price, one entry per missing price with the days held."""
    found: Iterable[Any] = (
        view["document"].get("awaiting_price") or view.get("awaiting_price") or []
    )
    reasons = [a["reason"] if isinstance(a, Mapping) else str(a) for a in found]
    return [
        f"{count(len(days), 'session')}: {filled(what, sorted(days))}"
        for what, days in grouped(awaiting_parts(r) for r in reasons)
    ]


def apart(row: Mapping[str, Any]) -> str:
    """A row of ``other_providers`` for people: reported apart, never owed to Leanlink."""
    return (
        f"held by {row['provider']} in {month_in_words(row['month_held'])}: "
        f"{count(row['meetings'], 'meeting')}, {row['minutes']} min, "
        f"{count(row['client_visits'], 'client visit')}; reported apart, not in what is owed to "
        "Leanlink"
    )


def count(n: int, noun: str) -> str:
    """``1 meeting``, ``2 meetings``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


SEPARATE_TITLES = {"premises_share": "premises share", "state_grant": "state grant"}


def separate_items(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The premises shares and state grants recorded on the month (003 §1.2), if any."""
    found: list[Mapping[str, Any]] = (document.get("reported_separately") or {}).get("items", [])
    return found


def separately(item: Mapping[str, Any]) -> str:
    """A premises share or state grant for people: reported apart, never in the month's total."""
    why = (
        "part of the costs the price already covers"
        if item["kind"] == "premises_share"
        else "belongs to social- och omsorgsnämnden"
    )
    note = f"; {item['note']}" if item.get("note") else ""
    return (
        f"{SEPARATE_TITLES[item['kind']]} {kronor(item['amount_ore'])} for "
        f"{item['period_from']} to {item['period_to']} ({item['reference']}): {why} (003 §1.2); "
        f"reported apart, not in what is owed{note}"
    )


def preview_status(view: Mapping[str, Any]) -> str:
    """How a preview (``Billing.preview``) says what it is: not closed, not final."""
    grace = (view.get("grace") or {}).get("grace_ends")
    phase = {
        "current": "the month is not over",
        "in_grace": f"in its grace window until {stockholm(grace)}",
        "over": "the month is over and may be closed",
    }.get(str(view.get("status")), str(view.get("status")))
    closable = (
        "a close now would record this document"
        if view.get("closable")
        else f"a close now is refused: {view.get('close_refusal')}"
    )
    return (
        f"PREVIEW computed {stockholm(view.get('computed_at'))}, not closed and nothing "
        f"recorded; {phase}; {closable}. Its digest is of this preview only (not final)"
    )


def status(view: Mapping[str, Any]) -> str:
    """Open, closed (when, in Stockholm time, and by whom), computed offline, or a preview."""
    if view.get("preview"):
        return preview_status(view)
    if view.get("status") == "closed":
        by = f" by {view['closed_by']}" if view.get("closed_by") else ""
        return f"closed {stockholm(view.get('closed_at'))}{by}; a closed month never changes"
    if view.get("status") == "computed":
        return "computed offline from an event-log export"
    grace = view.get("grace") or {}
    if grace.get("in_grace"):
        return (
            f"open, in its grace window until {stockholm(grace['grace_ends'])}: it may still change"
        )
    return "open: as it stands, it may still change"
