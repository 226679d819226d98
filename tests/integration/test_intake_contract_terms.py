"""Intake follows the contract terms billing records (issue 14 item 7), over a real Redis and
real stores (SQLite and PostgreSQL): billing and intake run under their runtimes; an extension,
then a notice of termination, recorded in billing reach intake as ``TariffRecorded`` on
``billing.events``, and intake's next referral to the programme is flagged accordingly."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date
from typing import Any

import anyio
import redis
from eventsourcing.application import AggregateNotFoundError

from infra.runtime import Runtime
from infra.settings import Settings
from services.billing.app import make_app as make_billing
from services.billing.application import Billing
from services.intake.application import Intake
from services.intake.terms import TERMS_ID
from tests.support.flow import eventually
from tests.support.intake import Clock, entry, make_intake, referral

JOINT = "coordinated-network-2018"


@asynccontextmanager
async def services(settings: Settings) -> AsyncIterator[tuple[Intake, Billing]]:
    """Intake (its clock on 2026-11-02) and billing under their runtimes."""
    intake, billing = make_intake(settings, Clock()), make_billing(settings)
    async with AsyncExitStack() as stack:
        for app in (intake, billing):
            stack.callback(app.close)
        for runtime in (
            Runtime("intake", intake, settings, settings.redis_url),
            Runtime("billing", billing, settings, settings.redis_url),
        ):
            await runtime.start()
            stack.push_async_callback(runtime.stop)
        yield intake, billing


def followed(intake: Intake) -> list[str]:
    """The entry ids intake has followed (read from its store)."""
    try:
        book: Any = intake.repository.get(TERMS_ID)
    except AggregateNotFoundError:  # nothing followed yet
        return []
    return [e["entry_id"] for e in book.entries]


def answers(client: redis.Redis, settings: Settings) -> dict[str, dict[str, Any]]:
    entries: list[tuple[str, dict[str, str]]] = client.xrange(settings.stream("intake.events"))  # type: ignore[assignment]
    out = (json.loads(f["data"]) for _, f in entries if f["type"] == "ReferralReceived")
    return {a["referral_id"]: a for a in out}


async def answer_to(client: redis.Redis, settings: Settings) -> dict[str, Any]:
    """Send a referral to network work on the stream; intake's answer to it."""
    body = referral()
    client.xadd(settings.stream("intake.referrals"), entry(body))  # type: ignore[arg-type]
    await eventually(lambda: body["referral_id"] in answers(client, settings))
    return answers(client, settings)[body["referral_id"]]


async def test_intake_flags_referrals_by_the_terms_billing_records(
    store_settings: Settings, redis_client: redis.Redis
) -> None:
    settings = store_settings
    async with services(settings) as (intake, billing):
        before = await answer_to(redis_client, settings)
        assert before["no_contract_in_force"]["ended_on"] == "2021-08-31"

        for _ in range(2):  # 002: three years a time, to 2027-08-31
            await anyio.to_thread.run_sync(
                lambda: billing.record_extension(contract=JOINT, reference="KS 2021/77")
            )
        extensions = [f"{JOINT}-extension-1", f"{JOINT}-extension-2"]
        await eventually(lambda: followed(intake) == extensions)
        extended = await answer_to(redis_client, settings)
        assert extended["no_contract_in_force"] is None  # in force on 2026-11-02

        # The parties agree to end it early (002 allows another end "om parterna kommer överens").
        await anyio.to_thread.run_sync(
            lambda: billing.record_termination(
                contract=JOINT, given_on=date(2026, 9, 15), ends_on=date(2026, 10, 31),
                reference="KS 2026/12",
            )
        )  # fmt: skip
        await eventually(lambda: len(followed(intake)) == 3)
        ended = await answer_to(redis_client, settings)
        assert billing.catalogue_end(JOINT) == "2026-10-31"  # billing says the same end
    assert ended["no_contract_in_force"] == {
        "contract": JOINT,
        "ended_on": "2026-10-31",
        "message": f"network: contract {JOINT} ended on 2026-10-31; "
        "no contract in force on 2026-11-02",
    }
