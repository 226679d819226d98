"""The hostile part of the soak: poison entries amid the load, names on the referrals, and the
checks that none of it stalled the services or reached their log.

A poison entry is one no reader can take: a number past Python's 4,300-digit limit, ``NaN``,
nesting deeper than the parser goes, bytes that are not UTF-8. Each carries a valid personal
number, as a careless or hostile writer's entry would, so that the log scan would see it leak.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.utils import get_topic

from infra.settings import Settings

#: The kinds of poison, in the order they are sent; ``{pn}`` is a personal number.
POISON: dict[str, str] = {
    "huge integer": '{"referral_id": "POISON", "persons": [{"personal_number": "{pn}"}], "x": '
    + "7" * 5_000
    + "}",
    "NaN": '{"referral_id": "POISON", "persons": [{"personal_number": "{pn}"}], "age": NaN}',
    "deep nesting": '{"persons": [{"personal_number": "{pn}"}], "x": '
    + "[" * 20_000
    + "]" * 20_000
    + "}",
    "not UTF-8": '{"persons": [{"personal_number": "{pn}"}], "name": "\udcff"}',
}

FIRST = ("Alva", "Noah", "Elsa", "Hugo", "Maja", "Liam", "Ebba", "Otto", "Saga", "Nils")
LAST = ("Lindqvist", "Bergström", "Åkesson", "Nyström", "Hedlund", "Sjöberg", "Forsgren")
_DIGITS = re.compile(r"\d{10,12}")


def name(n: int) -> str:
    """A name for a person of the soak's referrals: real-looking, and unique per ``n``."""
    return f"{FIRST[n % len(FIRST)]} {LAST[n // len(FIRST) % len(LAST)]}-{_letters(n)}"


def _letters(n: int) -> str:
    out = ""
    while True:
        out = chr(ord("a") + n % 26) + out
        n //= 26
        if not n:
            return out.capitalize()


@dataclass(frozen=True)
class Poison:
    kind: str
    fields: dict[str, str | bytes]
    personal_number: str
    sent_at: float

    @property
    def message_id(self) -> str:
        return str(self.fields["id"])


def poison(n: int, personal_number: str, sent_at: float) -> Poison:
    """The ``n``-th poison entry, carrying ``personal_number``."""
    kind = list(POISON)[n % len(POISON)]
    text = POISON[kind].replace("{pn}", personal_number)
    data: str | bytes = text.encode("utf-8", "surrogateescape") if kind == "not UTF-8" else text
    fields: dict[str, str | bytes] = {
        "type": "SubmitReferral",
        "version": "1",
        "id": str(uuid.uuid4()),
        "data": data,
    }
    return Poison(kind, fields, personal_number, sent_at)


def private_words(referrals: Iterable[dict[str, str]], poisons: Iterable[Poison]) -> set[str]:
    """Every personal number (both forms) and name the soak sent."""
    words: set[str] = set()
    for fields in referrals:
        for person in json.loads(fields["data"]).get("persons", []):
            number = person["personal_number"]
            words.update({number, number[2:]})
            if person.get("name"):
                words.add(person["name"])
    for p in poisons:
        words.update({p.personal_number, p.personal_number[2:]})
    return words


def leaks(log: Path, words: set[str]) -> tuple[int, list[str]]:
    """(lines scanned, the private words found in them)."""
    found: set[str] = set()
    numbers = {w for w in words if w.isdigit()}
    names = [w for w in words if not w.isdigit()]
    lines = 0
    with log.open(encoding="utf-8", errors="replace") as text:
        for line in text:
            lines += 1
            found.update(m for m in _DIGITS.findall(line) if m in numbers)
            found.update(n for n in names if n in line)
    return lines, sorted(found)


def dead_letters_kept(settings: Settings) -> set[str]:
    """The message ids of the entries intake kept as dead letters (its encrypted store)."""
    from services.intake.app import make_app
    from services.intake.domain import DeadReferral

    app = make_app(settings)
    try:
        topic = get_topic(DeadReferral.Kept)  # type: ignore[attr-defined]
        kept: set[str] = set()
        start = 1
        while True:
            batch = app.recorder.select_notifications(start=start, limit=1_000, topics=[topic])
            if not batch:
                return kept
            for notification in batch:
                event = app.mapper.to_domain_event(notification)
                kept.add(str(event.fields.get("id", "")))  # type: ignore[attr-defined]
            start = batch[-1].id + 1
    finally:
        app.close()
