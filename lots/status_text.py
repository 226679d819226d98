"""``lots status`` for a person: the report of :func:`lots.status.collect` as lines of text,
ending with ``healthy`` or ``UNHEALTHY:`` and the problems."""

from __future__ import annotations

from typing import Any

from infra.sentinel import replication_lines


def render(report: dict[str, Any]) -> list[str]:
    lines = [f"{'service':<11} {'up':<4} {'ready':<6} {'events':>8} {'outbox':>7}"]
    for name, s in report["services"].items():
        lines.append(
            f"{name:<11} {'yes' if s['up'] else 'NO':<4} {'yes' if s['ready'] else 'NO':<6} "
            f"{s['events_stored']:>8} {s['outbox_backlog']:>7}"
        )
    lines.append("")
    width = max([20, *(len(r["stream"]) for r in report["streams"])])  # sources' own are long
    lines.append(
        f"{'stream':<{width}} {'group':<11} {'length':>7} {'lag':>6} {'pending':>8} "
        f"{'oldest':>8} {'dead':>5}"
    )
    for r in report["streams"]:
        if not r.get("exists"):
            lines.append(f"{r['stream']:<{width}} {r['group']:<11} missing")
            continue
        oldest = f"{r['oldest_pending_ms'] / 1000:.0f}s" if r["oldest_pending_ms"] else "-"
        lines.append(
            f"{r['stream']:<{width}} {r['group']:<11} {r['length']:>7} {r['lag']:>6} "
            f"{r['pending']:>8} {oldest:>8} {r['dead_letters']:>5}"
        )
    lines.append("")
    lines += replication_lines(report.get("redis_replication"))
    lines += _dead_letter_lines(report.get("dead_letters") or {"streams": {}, "actions": []})
    lines.append(
        "service levels: "
        + (
            ", ".join(f"{k} {v}" for k, v in sorted(report["service_levels"].items()))
            or "none reported"
        )
    )
    for notice in report.get("notices", []):
        lines.append(f"{notice['level'].upper()}: {notice['message']}")
    lines.append("healthy" if report["healthy"] else "UNHEALTHY: " + "; ".join(report["problems"]))
    return lines


def _dead_letter_lines(dead: dict[str, Any]) -> list[str]:
    from lots.dead_letters_view import stockholm_time

    counts = [f"{name} {c['open']} open of {c['all']}" for name, c in dead["streams"].items()]
    lines = ["dead letters: " + "; ".join(counts) + " (lots dead-letters list)"] if counts else []
    if dead["actions"]:
        lines.append("last actions on dead letters:")
    for a in dead["actions"]:
        lines.append(
            f"  {stockholm_time(a['at'])} {a['action']} {a['stream']}.dead {a['id']} "
            f"by {a['by']}: {a['reason']}"
        )
    return lines
