"""JSON Schema export of the public messages, for other systems and for drift tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from events.registry import MESSAGES


def schemas() -> dict[str, dict[str, Any]]:
    """Every message's JSON Schema (of its ``data`` payload), keyed ``<Type>.v<version>``."""
    out: dict[str, dict[str, Any]] = {}
    for name, cls in sorted(MESSAGES.items()):
        schema = cls.model_json_schema(mode="serialization")
        schema["$id"] = f"lots:{name}.v{cls.version}"
        out[f"{name}.v{cls.version}"] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export(directory: Path) -> list[Path]:
    """Write one ``<Type>.v<version>.json`` per message into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for key, schema in schemas().items():
        path = directory / f"{key}.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written
