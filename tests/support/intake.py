"""Building intake for tests: a real store, a clock the test moves, valid personal numbers."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from infra.runtime import Runtime
from infra.service import build_http
from infra.settings import Settings
from infra.store import store_env
from services.intake.application import Intake
from services.intake.http import routers
from services.intake.limits import SourceLimiter
from services.intake.sources import StreamSources
from tests.support.auth import ByRoute


def luhn(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def personal_number(born: date, serial: str = "238") -> str:
    short = born.strftime("%y%m%d") + serial
    return born.strftime("%Y%m%d") + serial + luhn(short)


@dataclass
class Clock:
    now: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_intake(settings: Settings, clock: Clock, limiter: SourceLimiter | None = None) -> Intake:
    return Intake(
        store_env(settings, "intake", encrypted=True),
        clock=clock,
        limiter=limiter,
        sources=StreamSources.from_settings(settings),
    )


def referral(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "linkoping.elevhalsa",
        "referral_id": f"EH-{uuid.uuid4().hex[:8]}",
        "programme": "network",
        "basis": "service",
        "urgency": "normal",
        "submitted_at": "2026-11-02T09:14:00+01:00",
        "persons": [
            {
                "role": "child",
                "personal_number": personal_number(date(2014, 7, 14)),
                "name": "Alva Exempel",
                "municipality_code": "0580",
            },
            {
                "role": "guardian",
                "personal_number": personal_number(date(1981, 12, 18)),
                "name": "Kim Exempel",
                "municipality_code": "0580",
            },
        ],
    }
    body.update(overrides)
    return body


def entry(body: dict[str, Any], message_id: uuid.UUID | None = None) -> dict[str, str]:
    return {
        "type": "SubmitReferral",
        "version": "1",
        "id": str(message_id or uuid.uuid4()),
        "data": json.dumps(body),
    }


@asynccontextmanager
async def running_intake(
    settings: Settings, clock: Clock, limiter: SourceLimiter | None = None
) -> AsyncIterator[tuple[Intake, Runtime, httpx.AsyncClient]]:
    app = make_intake(settings, clock, limiter)
    runtime = Runtime("intake", app, settings, settings.redis_url)
    http = build_http(runtime, routers(app, runtime))
    await runtime.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=http),
            base_url="http://intake",
            auth=ByRoute(settings),
        ) as client:
            yield app, runtime, client
    finally:
        await runtime.stop()
        app.close()
