"""Which service reads which stream: the one place that wires the services together.

Every group is created by the project from the start of its stream (``XGROUP CREATE ... 0
MKSTREAM``) before any service consumes or publishes, so an entry written before a consumer
first started is still delivered to it.

Referrals arrive on the shared ``intake.referrals`` and on one stream per source that has its
own (``intake.referrals.<source>``, ``LOTS_INTAKE_SOURCES``), which only that source's ACL user
may write (infra/acl.py): intake consumes them all and treats them alike.
"""

from __future__ import annotations

from collections.abc import Collection, Container

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from infra.settings import ServiceName, stream_source

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


def referral_stream(source: str) -> str:
    """The stream of a source that has one of its own."""
    return f"{REFERRALS}.{source}"


def source_of(stream: str) -> str | None:
    """The source whose own stream ``stream`` is; None for every other stream."""
    if not stream.startswith(f"{REFERRALS}."):
        return None
    try:
        return stream_source(stream[len(REFERRALS) + 1 :])
    except ValueError:
        return None  # intake.referrals.dead, or not a source's name


def is_referral_stream(stream: str) -> bool:
    """``stream`` carries referrals, with their personal data: the shared one or a source's."""
    return stream == REFERRALS or source_of(stream) is not None


class _ReferralStreams(Container[str]):
    def __contains__(self, stream: object) -> bool:
        return isinstance(stream, str) and is_referral_stream(stream)


#: Entries deleted once processed, because they carry personal data (contracts.md): those of
#: every referral stream.
DELETE_AFTER_ACK: Container[str] = _ReferralStreams()


def consumed_by(service: ServiceName, sources: Collection[str] = ()) -> tuple[str, ...]:
    """The streams ``service`` consumes: the topology's, and for intake each source's own."""
    if service != "intake":
        return CONSUMES[service]
    return (*CONSUMES[service], *(referral_stream(s) for s in sorted(sources)))


def dead_letter_stream(stream: str) -> str:
    return f"{stream}.dead"


def groups(sources: Collection[str] = ()) -> list[tuple[str, str]]:
    """Every (stream, group) pair of the deployment (``sources``: those with their own stream)."""
    return [(stream, service) for service in CONSUMES for stream in consumed_by(service, sources)]


async def ensure_groups(client: aioredis.Redis, prefix: str = "") -> int:
    """Create every missing group at the start of its stream; return how many were created.

    Not those of the sources' own streams, which only intake may create (infra/acl.py): its
    runtime creates them as it starts, and since nobody trims them, a group created after an
    entry was written still reads that entry."""
    created = 0
    for stream, group in groups():
        try:
            await client.xgroup_create(f"{prefix}{stream}", group, id="0", mkstream=True)
            created += 1
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
    return created
