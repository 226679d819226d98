"""Helpers to feed ledger hops and wait for them, against a real Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from events.codec import decode, encode
from events.scheduling import MeetingHeld
from infra.batches import Incoming
from infra.runtime import Runtime
from infra.settings import Settings
from tests.support.ledger import Ledger, make_ledger

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def meeting(n: int, participants: int = 2) -> MeetingHeld:
    return MeetingHeld(
        meeting_id=uuid.UUID(int=n + 1),
        case_id=uuid.UUID(int=10_000 + n),
        programme="counselling",
        kind="counselling",
        format="couple",
        provider="leanlink",
        staff=["staff-anna"],
        started_at=START + timedelta(hours=n),
        ended_at=START + timedelta(hours=n, minutes=45),
        participants=participants,
        client_visits=1,
    )


def publish(client: redis.Redis, stream: str, messages: list[MeetingHeld]) -> list[dict[str, str]]:
    """XADD each message as a plain entry, as any Redis client would; return the fields sent."""
    sent = []
    pipe = client.pipeline(transaction=False)
    for message in messages:
        fields = encode(message)
        pipe.xadd(stream, fields)  # type: ignore[arg-type]
        sent.append(fields)
    pipe.execute()
    return sent


def expected_ids(messages: list[MeetingHeld]) -> list[str]:
    return sorted(str(m.meeting_id) for m in messages)


class Hop:
    """One ledger hop running in this event loop."""

    def __init__(self, settings: Settings, name: str, source: str, output: str, **app_kw: Any):
        self.settings = settings
        self.name = name
        self.app: Ledger = make_ledger(settings, name, output)
        for key, value in app_kw.items():
            setattr(self.app, key, value)
        self.runtime = Runtime(
            "billing",
            self.app,
            settings,
            settings.redis_url,
            consumes=(source,),
            publishes=output,
            group=name,
        )

    async def __aenter__(self) -> Hop:
        await self.runtime.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runtime.stop()
        self.app.close()


async def eventually(
    check: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(interval)
    assert check(), "condition not met in time"


def wait_until(check: Callable[[], bool], timeout: float = 60.0, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    assert check(), "condition not met in time"


def incoming(n: int, participants: int = 2, message_id: uuid.UUID | None = None) -> Incoming:
    fields = encode(meeting(n, participants), id=message_id or uuid.uuid4())
    return Incoming(entry_id=f"1-{n}", stream="ledger.in", envelope=decode(fields))
