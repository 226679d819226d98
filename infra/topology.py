"""Which service reads which stream: the one place that wires the services together.

Every group is created by the project from the start of its stream (``XGROUP CREATE ... 0
MKSTREAM``) before any service consumes or publishes, so an entry written before a consumer
first started is still delivered to it.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from infra.settings import ServiceName

REFERRALS = "intake.referrals"
INTAKE_EVENTS = "intake.events"
SCHEDULING_EVENTS = "scheduling.events"
BILLING_EVENTS = "billing.events"

#: The stream each service publishes its public events to.
PUBLISHES: dict[ServiceName, str] = {
    "intake": INTAKE_EVENTS,
    "scheduling": SCHEDULING_EVENTS,
    "billing": BILLING_EVENTS,
}

#: The streams each service consumes; its consumer group is named after the service.
CONSUMES: dict[ServiceName, tuple[str, ...]] = {
    "intake": (REFERRALS, SCHEDULING_EVENTS, BILLING_EVENTS),
    "scheduling": (INTAKE_EVENTS,),
    "billing": (INTAKE_EVENTS, SCHEDULING_EVENTS),
}

#: Entries deleted once processed, because they carry personal data (contracts.md).
DELETE_AFTER_ACK = frozenset({REFERRALS})


def dead_letter_stream(stream: str) -> str:
    return f"{stream}.dead"


def groups() -> list[tuple[str, str]]:
    """Every (stream, group) pair of the deployment."""
    return [(stream, service) for service, streams in CONSUMES.items() for stream in streams]


async def ensure_groups(client: aioredis.Redis, prefix: str = "") -> int:
    """Create every missing group at the start of its stream; return how many were created."""
    created = 0
    for stream, group in groups():
        try:
            await client.xgroup_create(f"{prefix}{stream}", group, id="0", mkstream=True)
            created += 1
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
    return created
