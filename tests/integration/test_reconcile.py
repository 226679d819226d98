"""``lots audit verify`` reconciles the stores: a forged event that a service acted on is named.

The three services run under their runtimes over a real Redis and their real SQLite stores: a
referral is received, queued, booked, held and billed. Then events are written by hand where
Redis lets anyone write, a ``MeetingHeld`` on ``scheduling.events`` (billing bills it) and a
``ReferralReceived`` on ``intake.events`` (scheduling queues it): every hash chain stays
intact, and the reconciliation names both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import TypeVar

import anyio
import redis
from eventsourcing.utils import get_topic

from events.codec import encode
from events.intake import ReferralReceived
from events.scheduling import MeetingHeld
from events.types import Message
from infra.application import ServiceApplication
from infra.runtime import Runtime
from infra.settings import SERVICES, Settings
from lots.reconcile import reconcile
from lots.stores import open_reader
from services.billing.app import make_app as make_billing
from services.billing.domain_session import Session
from services.intake.application import Intake
from services.scheduling.application import Scheduling
from tests.integration.test_scheduling_support import Clock, local, scheduling, staff
from tests.integration.test_scheduling_support import deliver as queue
from tests.integration.test_scheduling_support import referral as sent
from tests.support.billing import deliver
from tests.support.cli import alter, lots
from tests.support.flow import eventually
from tests.support.intake import Clock as IntakeClock
from tests.support.intake import entry, make_intake, personal_number, referral

MONDAY = local(2026, 3, 2, 9)
M = TypeVar("M", bound=Message)


def verify(settings: Settings, *args: str) -> tuple[int, str]:
    return lots(settings, "audit", "verify", *args)


def logged(client: redis.Redis, settings: Settings) -> int:
    entries: list[tuple[str, dict[str, str]]] = client.xrange(settings.stream("billing.events"))  # type: ignore[assignment]
    return sum(1 for _, f in entries if f["type"] == "SessionLogged")


def published(app: ServiceApplication, kind: type[M]) -> M:
    """The one message of this kind in the service's outbox (what it published)."""
    _, out = app.outbox(0, 1000)
    (message,) = [o.message for o in out if isinstance(o.message, kind)]
    return message


@asynccontextmanager
async def services(settings: Settings, clock: Clock) -> AsyncIterator[tuple[Intake, Scheduling]]:
    """Intake, scheduling and billing under their runtimes (intake and scheduling on ``clock``)."""
    intake = make_intake(settings, IntakeClock(clock.now))
    planner = scheduling(settings, clock)
    billing = make_billing(settings)
    async with AsyncExitStack() as stack:
        for app in (intake, planner, billing):
            stack.callback(app.close)
        for runtime in (
            Runtime("intake", intake, settings, settings.redis_url),
            Runtime("scheduling", planner, settings, settings.redis_url),
            Runtime("billing", billing, settings, settings.redis_url),
        ):
            await runtime.start()
            stack.push_async_callback(runtime.stop)
        yield intake, planner


async def test_a_forged_meeting_billed_and_a_forged_case_queued_are_named(
    settings: Settings, redis_client: redis.Redis
) -> None:
    clock = Clock(MONDAY)
    partners = [
        {"role": "partner", "personal_number": personal_number(born), "municipality_code": "0580"}
        for born in (MONDAY.date().replace(year=1981), MONDAY.date().replace(year=1985))
    ]
    body = referral(programme="counselling", persons=partners, submitted_at=MONDAY.isoformat())
    async with services(settings, clock) as (intake, planner):
        planner.register_staff(staff("anna"))
        redis_client.xadd(settings.stream("intake.referrals"), entry(body))  # type: ignore[arg-type]
        await eventually(lambda: len(planner.queue()) == 1)
        (meeting,) = (await anyio.to_thread.run_sync(planner.book_first_contacts)).booked
        clock.now = meeting.ends_at + timedelta(minutes=30)
        held = {"started_at": meeting.starts_at, "ended_at": meeting.ends_at, "participants": 2}
        await anyio.to_thread.run_sync(lambda: planner.record_held(meeting.id, **held))
        await eventually(lambda: logged(redis_client, settings) == 1)

        code, out = verify(settings, "--json")
        report = json.loads(out)
        assert code == 0 and report["intact"] and report["reconciled"], out
        checked = report["reconciliation"]
        assert (checked["sessions_checked"], checked["cases_checked"]) == (1, 1)

        # Written by hand, as anyone may where Redis has no ACL: new ids, real-looking content.
        forged_meeting = published(planner, MeetingHeld).model_copy(
            update={"meeting_id": uuid.uuid4()}
        )
        forged_case = published(intake, ReferralReceived).model_copy(
            update={"case_id": uuid.uuid4()}
        )
        for stream, message in (
            ("scheduling.events", forged_meeting),
            ("intake.events", forged_case),
        ):
            redis_client.xadd(settings.stream(stream), encode(message))  # type: ignore[arg-type]
        await eventually(lambda: logged(redis_client, settings) == 2)  # billing billed it
        await eventually(lambda: len(planner.queue()) == 1)  # and scheduling queued the case

    code, out = verify(settings, "--json")
    report = json.loads(out)
    assert code == 1 and report["intact"] is True and report["reconciled"] is False
    session, case = report["reconciliation"]["unmatched"]
    assert (session["store"], session["kind"], session["meeting_id"]) == (
        "billing",
        "meeting_not_held",
        str(forged_meeting.meeting_id),
    )
    assert session["billed"] is True and session["amount_ore"] > 0
    assert session["case_id"] == str(forged_meeting.case_id)
    assert (case["store"], case["kind"], case["case_id"]) == (
        "scheduling",
        "case_not_referred",
        str(forged_case.case_id),
    )
    assert str(meeting.id) not in out  # the meeting really held is not named

    code, out = verify(settings)
    assert code == 1
    assert f"UNMATCHED: billing event {session['position']}, Session.Opened" in out
    assert f"meeting {forged_meeting.meeting_id}" in out and "billed " in out
    queued = f"scheduling event {case['position']}, WaitingCase.Queued {forged_case.case_id}"
    assert f"UNMATCHED: {queued}" in out


def test_the_stores_reconcile_alike_on_sqlite_and_postgres(store_settings: Settings) -> None:
    """The same reconciliation over stores filled without Redis, each batch as delivered; then
    a session's stored bytes are damaged, and it is named as unreadable besides the chain."""
    intake = make_intake(store_settings, IntakeClock(MONDAY))
    body = referral(programme="counselling", submitted_at=MONDAY.isoformat())
    answer = intake.submit(json.dumps(body).encode())
    intake.close()
    assert answer.case_id is not None
    planner = scheduling(store_settings, Clock(MONDAY))
    planner.register_staff(staff("anna"))
    forged_case = uuid.uuid4()
    queue(planner, sent(MONDAY, case_id=answer.case_id), sent(MONDAY, case_id=forged_case))
    meetings = planner.book_first_contacts().booked
    (meeting,) = [m for m in meetings if m.case_id == answer.case_id]
    planner.clock.now = meeting.ends_at + timedelta(hours=1)  # type: ignore[attr-defined]
    planner.record_held(
        meeting.id, started_at=meeting.starts_at, ended_at=meeting.ends_at, participants=2
    )
    held = published(planner, MeetingHeld)
    planner.close()
    forged = held.model_copy(update={"meeting_id": uuid.uuid4()})
    billing = make_billing(store_settings)
    deliver(billing, [held, forged])
    topic = get_topic(Session.Opened)  # type: ignore[attr-defined]
    opened = {  # meeting id -> the position of its session's first event
        billing.mapper.to_domain_event(n).meeting["meeting_id"]: n.id  # type: ignore[attr-defined]
        for n in billing.recorder.select_notifications(1, 1000, topics=[topic])
    }
    billing.close()

    code, out = verify(store_settings, "--json")
    report = json.loads(out)
    assert code == 1 and report["intact"]
    unmatched = report["reconciliation"]["unmatched"]
    assert [(u["store"], u["kind"]) for u in unmatched] == [
        ("billing", "meeting_not_held"),
        ("scheduling", "case_not_referred"),
    ]
    assert unmatched[0]["position"] == opened[str(forged.meeting_id)]
    assert unmatched[0]["meeting_id"] == str(forged.meeting_id)
    assert unmatched[1]["case_id"] == str(forged_case)

    apps = {s: open_reader(store_settings, s) for s in SERVICES}
    try:  # billing's sessions read straight from their JSON, or through the mapper: the same
        assert reconcile(apps) == reconcile(apps, lean=False)
    finally:
        for app in apps.values():
            app.close()

    alter(store_settings, "billing", opened[str(held.meeting_id)], b"not json")
    code, out = verify(store_settings, "--json")
    report = json.loads(out)
    assert code == 1 and report["stores"]["billing"]["broken_at"] == opened[str(held.meeting_id)]
    kinds = [(u["kind"], u["position"]) for u in report["reconciliation"]["unmatched"]]
    assert ("unreadable", opened[str(held.meeting_id)]) in kinds
