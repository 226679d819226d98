"""The fair peer: the pipeline's three-service flow as a careful FastStream 0.7 + eventsourcing
9.5 user writes it (issue 18, item 1).

The same streams, consumer groups and plain-field entries as the pipeline (contracts.md), and
the same events stored per referral: intake ``Case.Opened`` (in a store encrypted with the
library's ``AESCipher``, since it holds the persons), scheduling ``WaitingCase.Queued`` and
billing ``CaseAccount.Opened`` for a referral; billing ``Session.Opened``,
``CaseAccount.MeetingRecorded``, ``Settlement.SessionBooked`` (or ``TimeReportedApart``),
``Session.Logged`` (or ``ReportedApart``) and, for Leanlink's own time, ``CapAccount.HoursBilled``,
and intake ``Case.MeetingRecorded`` for a meeting held; the staff's actions (not timed,
:mod:`bench.fair_peer_run`) store ``Case.Acknowledged``, ``Meeting.Booked``/``Held``,
``WaitingCase.MeetingBooked``/``MeetingHeld``/``DeadlineJudged`` and
``StaffWeek.Reserved``/``HeldNoted``. Aggregates: :mod:`bench.fair_peer_domain`.

How it is written: one FastStream subscriber per message type a service handles (each in its
service's consumer group, acknowledged by FastStream after the handler returns), the message
validated with the contract's pydantic models, one ``Application.save`` per message, the answer
published after the save with one ``XADD`` of plain fields. Idempotent as a careful user makes
it: every aggregate a message creates has an id derived from the message, so a redelivered
message fails the save with ``IntegrityError`` and its answer is published again from what was
stored. Nothing batched or cached by us; the library's own aggregate cache is switched on
(``AGGREGATE_CACHE_MAXSIZE``), as its documentation suggests for aggregates read on every message
(a month's settlement, a year's cap). The business rules are simpler than the services'
(no eligibility rules, tariff book, cap order or hash chain): that favours the peer.

Run one service: ``python -m bench.fair_peer SERVICE REDIS_URL PREFIX VAR_DIR``; it prints
``ready`` once its subscribers run, and stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import math
import signal
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisStreamMessage

from bench.fair_peer_domain import (
    CapAccount,
    Case,
    CaseAccount,
    Session,
    Settlement,
    WaitingCase,
    aid,
)
from events.billing import SessionLogged, SessionReportedApart
from events.intake import HouseholdMember, ReferralReceived
from events.referrals import SubmitReferral
from events.scheduling import MeetingHeld
from events.types import Message
from infra.calendar import STOCKHOLM
from infra.topology import BILLING_EVENTS, INTAKE_EVENTS, REFERRALS, SCHEDULING_EVENTS
from services.intake.domain import referral_key

LEANLINK = "leanlink"
RATE = Decimal("1210.00")  # SEK per client hour
TARIFF = "peer-counselling-2026"
PSEUDONYM_KEY = b"fair-peer-pseudonyms"


def store(service: str, var: Path) -> Application[UUID]:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(var / f"peer-{service}.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "30",
        "AGGREGATE_CACHE_MAXSIZE": "1000",
    }
    if service == "intake":  # it holds personal numbers: the library's encryption
        key = hashlib.sha256(b"fair-peer-" + str(var).encode()).digest()[:32]
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = base64.b64encode(key).decode()
    return Application(env=env)


def get_or_create(app: Application[UUID], kind: type[Any], **key: Any) -> Any:
    try:
        return app.repository.get(kind.create_id(**key))
    except AggregateNotFoundError:
        return kind(**key)


def fields(message: Message, message_id: UUID) -> dict[str, str]:
    return {"type": message.type_name, "version": str(message.version), "id": str(message_id),
            "data": message.model_dump_json()}  # fmt: skip


# --- the handlers -------------------------------------------------------------------------------


def received(app: Application[UUID], referral: SubmitReferral) -> ReferralReceived:
    """Intake: open the case (pseudonymous household, ages, due date) and store it."""
    case_id = referral_key(referral.source, referral.referral_id)
    now = datetime.now(STOCKHOLM)
    household = []
    for person in referral.persons:
        digest = hmac.new(PSEUDONYM_KEY, person.personal_number.encode(), "sha256").digest()
        born = date(int(person.personal_number[:4]), int(person.personal_number[4:6]), 1)
        ref = UUID(bytes=digest[:16], version=4)
        household.append(HouseholdMember(person_ref=ref, role=person.role,  # type: ignore[arg-type]
                                         age=(now.date() - born).days // 365))  # fmt: skip
    answer = ReferralReceived(
        case_id=case_id, source=referral.source, referral_id=referral.referral_id,
        programme=referral.programme, basis=referral.basis,  # type: ignore[arg-type]
        urgency=referral.urgency, priority=2, received_at=now,  # type: ignore[arg-type]
        first_contact_due=now.date() + timedelta(days=14), household=household,
        consent=bool(referral.consent and referral.consent.given),
    )  # fmt: skip
    try:
        app.save(Case(case_id, referral.model_dump(mode="json"), answer.model_dump(mode="json")))
    except IntegrityError:  # sent again: the first answer stands
        answer = ReferralReceived.model_validate(app.repository.get(case_id).received)
    return answer


def priced(held: MeetingHeld, session_id: UUID) -> tuple[Message, dict[str, Any]]:
    minutes = int((held.ended_at - held.started_at).total_seconds() // 60)
    quarters = math.ceil(minutes / 15)
    day = held.started_at.astimezone(STOCKHOLM).date()
    month = day.strftime("%Y-%m")
    if held.provider != LEANLINK:
        apart = SessionReportedApart(
            session_id=session_id, meeting_id=held.meeting_id, case_id=held.case_id,
            programme=held.programme, provider=held.provider, performed_on=day,
            settlement_month=month, minutes=minutes, billable_quarters=quarters,
            participants=held.participants, client_visits=held.client_visits,
            reason="other_provider",
        )  # fmt: skip
        return apart, apart.model_dump(mode="json")
    hours = Decimal(quarters) / 4
    logged = SessionLogged(
        session_id=session_id, case_id=held.case_id, meeting_id=held.meeting_id,
        programme=held.programme, provider=held.provider, performed_on=day, minutes=minutes,
        billable_quarters=quarters, client_hours=hours, rate=RATE,
        amount_ore=int(hours * RATE * 100), fee_ore=0, tariff_version=TARIFF,
        settlement_month=month,
    )  # fmt: skip
    return logged, logged.model_dump(mode="json")


def session_of(app: Application[UUID], held: MeetingHeld) -> Message:
    """Billing: the session of a meeting held, priced and booked on its month, in one save."""
    session_id = aid("session", held.meeting_id)
    message, line = priced(held, session_id)
    session = Session(session_id, held.model_dump(mode="json"))
    account: CaseAccount = app.repository.get(CaseAccount.create_id(held.case_id))
    account.record_meeting(str(held.meeting_id), line["performed_on"], line["minutes"])
    month = get_or_create(app, Settlement, month=line["settlement_month"])
    touched: list[Aggregate] = [session, account, month]
    if isinstance(message, SessionLogged):
        month.book(line)
        session.log(line)
        cap = get_or_create(app, CapAccount, year=message.performed_on.year)
        cap.bill(session_id, held.case_id, message.client_hours, message.settlement_month)
        touched.append(cap)
    else:
        month.report_apart(line)
        session.report_apart(line)
    try:
        app.save(*touched)
    except IntegrityError:  # held again: publish what was stored
        stored: dict[str, Any] = app.repository.get(session_id).message
        kind = SessionLogged if "rate" in stored else SessionReportedApart
        return kind.model_validate(stored)
    return message


# --- the services -------------------------------------------------------------------------------

Entry = dict[bytes, bytes]


def consumer(service: str, app: Application[UUID], publish: Any) -> dict[str, Any]:
    """(stream, type) -> handler: a subscriber per message type the service handles."""

    async def referral(entry: Entry) -> None:
        answer = received(app, SubmitReferral.model_validate_json(entry[b"data"]))
        await publish(INTAKE_EVENTS, answer, aid("received", answer.case_id))

    async def queued(entry: Entry) -> None:
        case = ReferralReceived.model_validate_json(entry[b"data"])
        kind = WaitingCase if service == "scheduling" else CaseAccount
        with contextlib.suppress(IntegrityError):  # received again: queued once
            app.save(kind(case.case_id, case.model_dump(mode="json")))

    async def held(entry: Entry) -> None:
        meeting = MeetingHeld.model_validate_json(entry[b"data"])
        if service == "billing":
            message = session_of(app, meeting)
            await publish(BILLING_EVENTS, message, aid("logged", meeting.meeting_id))
            return
        case: Case = app.repository.get(meeting.case_id)
        if str(meeting.meeting_id) not in case.meetings:
            case.record_meeting(str(meeting.meeting_id), meeting.kind,
                                meeting.started_at.isoformat(), meeting.ended_at.isoformat(),
                                meeting.client_visits, entry[b"id"].decode())  # fmt: skip
            app.save(case)

    async def logged(entry: Entry) -> None:
        session = SessionLogged.model_validate_json(entry[b"data"])
        # A meeting's time is counted from MeetingHeld, as intake does: nothing to store.
        assert session.meeting_id is not None, "time logged apart is not in the peer's flow"

    return {
        "intake": {REFERRALS: ("SubmitReferral", referral),
                   SCHEDULING_EVENTS: ("MeetingHeld", held),
                   BILLING_EVENTS: ("SessionLogged", logged)},
        "scheduling": {INTAKE_EVENTS: ("ReferralReceived", queued)},
        "billing": {INTAKE_EVENTS: ("ReferralReceived", queued),
                    SCHEDULING_EVENTS: ("MeetingHeld", held)},
    }[service]  # fmt: skip


async def serve(service: str, url: str, prefix: str, var: Path) -> None:
    app = store(service, var)
    broker = RedisBroker(url, logger=None)  # type: ignore[arg-type]  # None: no logging
    client = await broker.connect()

    async def publish(stream: str, message: Message, message_id: UUID) -> None:
        await client.xadd(prefix + stream, fields(message, message_id))  # type: ignore[arg-type]

    for stream, (kind, handle) in consumer(service, app, publish).items():

        def subscriber(stream: str = stream, kind: str = kind, handle: Any = handle) -> Any:
            async def on_entry(_: Any, msg: RedisStreamMessage) -> None:
                entry: Entry = msg.raw_message["data"]
                if entry.get(b"type", b"").decode() == kind:
                    await handle(entry)
                if stream == REFERRALS:  # no personal number stays on Redis (contracts.md)
                    await client.xdel(prefix + stream, *msg.raw_message["message_ids"])

            return on_entry

        sub = StreamSub(prefix + stream, group=service, consumer=f"peer-{service}", last_id=">")
        broker.subscriber(stream=sub)(subscriber())
    await broker.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await broker.stop()
    app.close()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])))
