"""How ``lots dead-letters`` and ``lots status`` put a dead letter into lines for people:
times on Stockholm's wall clock, references and field sizes, never a value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from infra.calendar import STOCKHOLM
from infra.dead_letters import DeadLetter


def stockholm_time(value: datetime | str | None) -> str:
    """A time for people: Stockholm's wall clock, with its zone."""
    if value is None:
        return "-"
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S %Z")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def as_row(letter: DeadLetter, state: str) -> dict[str, Any]:
    return {
        "id": letter.id,
        "dead_stream": letter.dead_stream,
        "stream": letter.stream,
        "entry_id": letter.entry_id,
        "group": letter.group,
        "error": letter.error,
        "attempts": letter.attempts,
        "failed_at": stockholm_time(letter.failed_at),
        "failed_at_utc": letter.failed_at.isoformat() if letter.failed_at else None,
        "reference": letter.reference,
        "state": state,
    }


def summary(row: dict[str, Any]) -> list[str]:
    attempts = "?" if row["attempts"] is None else plural(row["attempts"], "attempt")
    ref = row["reference"]
    names = [ref.get("type") or "(no type)"]
    if "message_id" in ref:
        names.append(f"message {ref['message_id']}")
    if "dead_letter_ref" in ref:
        names.append(f"kept by intake as {ref['dead_letter_ref']}")
    return [
        f"  {row['id']}  {row['state']:<8} {row['failed_at']}  from {row['stream']} "
        f"{row['entry_id']}, group {row['group']}, {attempts}",
        f"      {', '.join(names)}",
        f"      error: {row['error']}",
    ]


def detail(row: dict[str, Any]) -> list[str]:
    attempts = "?" if row["attempts"] is None else plural(row["attempts"], "attempt")
    ref = row["reference"]
    lines = [
        f"dead letter {row['id']} on {row['dead_stream']}: {row['state']}",
        f"  from:     {row['stream']}, entry {row['entry_id']}, group {row['group']}",
        f"  failed:   {row['failed_at']}, after {attempts}",
        f"  error:    {row['error']}",
        f"  type:     {ref.get('type', '-')}",
        f"  message:  {ref.get('message_id', '-')}",
    ]
    if "dead_letter_ref" in ref:
        lines.append(f"  kept:     by intake as {ref['dead_letter_ref']} (encrypted, not on Redis)")
    sizes = ", ".join(f"{k} ({plural(v, 'character')})" for k, v in row["fields"].items())
    lines.append(f"  fields:   {sizes}")
    for n, action in enumerate(row["history"]):
        sent = f", sent back as {action['sent_as']}" if action.get("sent_as") else ""
        lines.append(
            f"  {'history:' if n == 0 else '':<9} {stockholm_time(action['at'])} "
            f"{action['action']} by {action['by']}: {action['reason']}{sent}"
        )
    if not row["history"]:
        lines.append("  history:  no action yet")
    return lines
