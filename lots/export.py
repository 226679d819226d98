"""The event-log export for auditors (contracts.md, "Event-log export").

JSON Lines, one public event per line, in log order per stream, read from each service's own
store (its outbox), not from Redis: an export is complete even when Redis was wiped or trimmed.
Each line carries the same id the event had on its stream, so an export taken twice is the same
file, and replaying it offline gives the same settlements and digests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from infra.application import ServiceApplication
from infra.settings import SERVICES, Settings
from lots.stores import open_store


def export_lines(app: ServiceApplication, page: int = 1000) -> Iterator[str]:
    position = 0
    while True:
        position_after, outgoing = app.outbox(position, page)
        for out in outgoing:
            line: dict[str, Any] = {
                "stream": out.stream,
                "type": out.message.type_name,
                "version": out.message.version,
                "id": str(out.id),
                "data": out.message.model_dump(mode="json"),
            }
            if out.correlation_id:
                line["correlation_id"] = out.correlation_id
            if out.causation_id:
                line["causation_id"] = out.causation_id
            yield json.dumps(line, ensure_ascii=False, sort_keys=True)
        if position_after == position:
            return
        position = position_after


def export(settings: Settings, out: IO[str]) -> dict[str, int]:
    """Write every service's public events to ``out``; return how many per service."""
    counts: dict[str, int] = {}
    for service in SERVICES:
        app = open_store(settings, service)
        try:
            n = 0
            for line in export_lines(app):
                out.write(line + "\n")
                n += 1
            counts[service] = n
        finally:
            app.close()
    return counts


def export_to(settings: Settings, path: Path) -> dict[str, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        return export(settings, out)
