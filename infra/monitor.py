"""Reading the state of the streams and groups, for ``lots status`` and for waiting in tests."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

import redis

from infra.topology import dead_letter_stream, groups


def _id(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


def stream_report(
    client: redis.Redis,
    prefix: str = "",
    max_deliveries: int | None = None,
    *,
    sources: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Per (stream, group): length, lag (entries not yet read), pending, dead letters, and
    ``stuck``: pending entries delivered more than ``max_deliveries`` times, which should have
    been dead-lettered by then (a consumer that fails before it can). ``sources``: those with
    a referral stream of their own (``LOTS_INTAKE_SOURCES``)."""
    rows = []
    for stream, group in groups(sources):
        name = f"{prefix}{stream}"
        row: dict[str, Any] = {"stream": stream, "group": group}
        try:  # XLEN, not XINFO STREAM: the operator may not see the referral streams' entries
            by_name = {g["name"]: g for g in client.xinfo_groups(name)}
            length = int(client.xlen(name))
        except redis.exceptions.NoPermissionError:
            raise
        except redis.ResponseError:
            rows.append({**row, "exists": False})
            continue
        g = _text_keys(by_name.get(group) or by_name.get(group.encode()) or {})
        lag = g.get("lag")
        if lag is None and g:  # Redis 6.2 has no lag: count what lies after the group's last read
            last = _decode(g.get("last-delivered-id", "0-0"))
            lag = len(cast(list[Any], client.xrange(name, min=f"({last}", count=100_000)))
        oldest_ms = None
        stuck = 0
        if g.get("pending"):
            pending = client.xpending_range(name, group, min="-", max="+", count=100)
            if pending:
                oldest_ms = max(int(p["time_since_delivered"]) for p in pending)
            if max_deliveries is not None:
                stuck = sum(int(p["times_delivered"]) > max_deliveries for p in pending)
        rows.append(
            {
                **row,
                "exists": bool(g),
                "length": length,
                "lag": int(lag or 0),
                "pending": int(g.get("pending", 0)),
                "oldest_pending_ms": oldest_ms,
                "dead_letters": int(client.xlen(dead_letter_stream(name))),
                "stuck": stuck,
            }
        )
    return rows


def drained(client: redis.Redis, prefix: str = "", *, sources: Collection[str] = ()) -> bool:
    """Every group has read and acknowledged every entry of its streams."""
    return all(
        r.get("exists") and r["lag"] == 0 and r["pending"] == 0
        for r in stream_report(client, prefix, sources=sources)
    )


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _text_keys(d: dict[Any, Any]) -> dict[str, Any]:
    return {_decode(k): v for k, v in d.items()}
