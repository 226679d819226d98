"""A residency exception recorded after a ``not_resident`` rejection takes effect (issue 14, item
13): the referral is evaluated again and answered again, over a real Redis and store."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import redis

from events.intake import ReferralRejected
from infra.pii import ERASED
from infra.settings import Settings
from services.intake import handlers as application
from services.intake.application import Intake
from services.intake.referral_keys import referral_key
from tests.support.cli import lots
from tests.support.flow import eventually
from tests.support.intake import (
    Clock,
    entry,
    make_intake,
    personal_number,
    referral,
    running_intake,
)

#: One partner lives in Norrköping (0581); the clock starts on Monday 2 November 2026.
COUPLE = [
    {
        "role": "partner",
        "personal_number": personal_number(date(1980, 1, 2)),
        "name": "Kim Utsocken",
        "municipality_code": "0581",
    },
    {
        "role": "partner",
        "personal_number": personal_number(date(1982, 3, 4), "342"),
        "municipality_code": "0580",
    },
]


def counselling(**fields: Any) -> dict[str, Any]:
    return referral(
        **{"programme": "counselling", "persons": COUPLE, "note": "Ett par från Norrköping."}
        | fields
    )


def grant(body: dict[str, Any]) -> dict[str, str]:
    return {
        "source": body["source"],
        "referral_id": body["referral_id"],
        "granted_by": "socialförvaltningen",
        "reason": "flyttar till Linköping i december",
    }


def _answers(client: redis.Redis, settings: Settings) -> list[dict[str, Any]]:
    return [
        {**f, "data": json.loads(f["data"])}
        for _, f in client.xrange(settings.stream("intake.events"))
        if f["type"] in ("ReferralReceived", "ReferralRejected")
    ]


async def test_an_exception_after_a_not_resident_rejection_accepts_the_referral(
    store_settings: Settings, redis_client: redis.Redis
) -> None:
    settings = store_settings
    body = counselling()
    sent, resent = entry(body), entry(body)
    stream = settings.stream("intake.referrals")
    clock = Clock()
    async with running_intake(settings, clock) as (app, _, http):
        redis_client.xadd(stream, sent)  # type: ignore[arg-type]
        await eventually(lambda: len(_answers(redis_client, settings)) == 1)
        clock.advance(days=3)  # the administration decides on Thursday
        granted = await http.post("/residency-exceptions", json=grant(body))
        await eventually(lambda: len(_answers(redis_client, settings)) == 2)
        looked_up = await http.get(f"/referrals/{body['source']}/{body['referral_id']}")
        again = await http.post("/residency-exceptions", json=grant(body))
        over_http = await http.post("/referrals", json=body)
        redis_client.xadd(stream, resent)  # type: ignore[arg-type]
        await eventually(lambda: len(_answers(redis_client, settings)) == 4)
        stored = app.recorder.max_notification_id()
        published = [f for _, f in redis_client.xrange(settings.stream("intake.events"))]
    key = str(referral_key(body["source"], body["referral_id"]))
    assert granted.status_code == 201
    exception = granted.json()
    assert exception == {
        "exception_id": exception["exception_id"],
        "referral": "accepted",
        "reevaluated": True,
        "case_id": key,
    }
    assert again.json() == exception, "recorded once"
    rejected, received, _, repeated = _answers(redis_client, settings)
    assert [r["code"] for r in rejected["data"]["reasons"]] == ["not_resident"]
    assert received["type"] == "ReferralReceived"
    assert received["causation_id"] == exception["exception_id"]
    assert received["data"]["residency_exception_id"] == exception["exception_id"]
    assert received["data"]["supersedes"] == rejected["id"]
    assert received["data"]["case_id"] == key and received["correlation_id"] == key
    assert received["data"]["received_at"] == rejected["data"]["received_at"]
    assert received["data"]["first_contact_due"] == "2026-11-19", "14 days from the exception"
    assert received["data"]["has_note"] is True and "Norrköping" not in json.dumps(published)
    # The referral's key now has the accepted answer: read back, and given again to a re-send.
    assert looked_up.status_code == 202 and looked_up.json()["case_id"] == key
    assert over_http.status_code == 202 and over_http.json()["case_id"] == key
    assert repeated["type"] == "ReferralReceived" and repeated["causation_id"] == resent["id"]
    assert repeated["data"].pop("repeat_of") == received["id"]
    assert received["data"].pop("repeat_of") is None
    assert repeated["data"] == received["data"], "the new answer, given again"
    # Replayed from the store (a Redis that lost its streams), the same messages, the same ids.
    fresh = make_intake(settings, clock)
    try:
        _, outgoing = fresh.outbox(0, 100)
        assert fresh.recorder.max_notification_id() == stored
    finally:
        fresh.close()
    assert [(str(o.id), o.message.type_name) for o in outgoing] == [
        (f["id"], f["type"]) for f in published
    ]
    assert [o.message.model_dump(mode="json") for o in outgoing] == [
        json.loads(f["data"]) for f in published
    ]


def test_the_deadlines_of_a_case_opened_by_an_exception_run_from_the_exception(
    store_settings: Settings,
) -> None:
    clock = Clock()
    intake = make_intake(store_settings, clock)
    try:
        body = counselling(urgency="acute")
        assert not intake.submit(json.dumps(body).encode()).accepted
        clock.advance(days=10)
        exception_id, reevaluated = intake.grant_residency_exception(
            body["source"], body["referral_id"], "administration", "moving here"
        )
        case = intake.case(referral_key(body["source"], body["referral_id"]))
        overdue = intake.check_acknowledgements()
    finally:
        intake.close()
    assert reevaluated is True
    assert case.received_at == Clock().now, "received when the referral came"
    assert case.first_contact_due == date(2026, 11, 26)
    assert case.ack_due == clock.now + timedelta(hours=24)
    assert case.priority == 1 and case.causation_id == str(exception_id)
    assert overdue == [], "not overdue on arrival"


def test_a_referral_rejected_for_other_reasons_too_stays_rejected(
    store_settings: Settings,
) -> None:
    intake = make_intake(store_settings, Clock())
    try:
        body = counselling(note="x" * 2001)
        first = intake.submit(json.dumps(body).encode())
        before = intake.recorder.max_notification_id()
        exception_id, reevaluated = intake.grant_residency_exception(
            body["source"], body["referral_id"], "administration", "moving here"
        )
        after = intake.answer(body["source"], body["referral_id"])
        _, outgoing = intake.outbox(before, 100)
    finally:
        intake.close()
    assert {r["code"] for r in first.reasons} == {"not_resident", "note_too_long"}
    assert reevaluated is False and after is not None
    assert (after.accepted, after.reasons) == (False, first.reasons)
    assert outgoing == [], "the exception is recorded; nothing is answered again"
    assert exception_id is not None


def _one_call(action: Callable[[], object]) -> Callable[[], None]:
    done: list[bool] = []

    def once() -> None:
        if not done:
            done.append(True)
            action()

    return once


def test_an_exception_recorded_while_the_referral_is_answered_is_not_lost(
    store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two instances: one evaluates the referral without the exception while the other records
    it. The rejection and the exception share an id, so one write is refused and applied
    again on what the other stored: the referral ends accepted either way round."""
    clock = Clock()
    answering, granting = make_intake(store_settings, clock), make_intake(store_settings, clock)
    try:
        body = counselling()
        record = _one_call(
            lambda: granting.grant_residency_exception(
                body["source"], body["referral_id"], "administration", "moving here"
            )
        )
        evaluate = application.evaluate
        outcomes: list[Any] = []

        def evaluate_while_granted(*args: Any, **kwargs: Any) -> Any:
            outcome = evaluate(*args, **kwargs)
            outcomes.append(outcome)
            record()  # the exception is stored after this evaluation read none
            return outcome

        monkeypatch.setattr(application, "evaluate", evaluate_while_granted)
        answer = answering.submit(json.dumps(body).encode())
        assert answer.accepted, answer.reasons
        assert [type(o).__name__ for o in outcomes] == ["Rejected", "Accepted"], "applied again"

        other = counselling()  # the other way round: the rejection is stored first
        monkeypatch.setattr(application, "evaluate", evaluate)

        class Interrupting(Clock):
            def __call__(self) -> Any:
                interrupt()
                return clock.now

        interrupt = _one_call(lambda: answering.submit(json.dumps(other).encode()))
        granting.clock = Interrupting()
        _, reevaluated = granting.grant_residency_exception(
            other["source"], other["referral_id"], "administration", "moving here"
        )
        settled = answering.answer(other["source"], other["referral_id"])
    finally:
        answering.close()
        granting.close()
    assert reevaluated is True
    assert settled is not None and settled.accepted


def test_a_kept_referral_is_erased_like_a_case_and_then_cannot_be_evaluated_again(
    store_settings: Settings,
) -> None:
    clock = Clock()
    intake = make_intake(store_settings, clock)
    body = counselling()
    intake.submit(json.dumps(body).encode())
    assert intake.erase_expired(5) == []
    clock.advance(days=5 * 366)
    assert len(intake.erase_expired(5)) == 2, "both partners: the rejection was their only entry"
    _, reevaluated = intake.grant_residency_exception(
        body["source"], body["referral_id"], "administration", "too late"
    )
    answer = intake.answer(body["source"], body["referral_id"])
    intake.close()
    assert reevaluated is False and answer is not None and not answer.accepted
    code, out = lots(
        store_settings, "audit", "case", str(referral_key(body["source"], body["referral_id"])),
        "--reason", "t", "--role", "case_officer", "--json",
    )  # fmt: skip
    assert code == 0
    events = json.loads(out)["events"]
    assert [e["event"] for e in events] == [
        "RejectedReferral.Recorded",
        "RejectedReferral.ExceptionGranted",
    ]
    kept = events[0]["data"]
    assert {m["personal_number"] for m in kept["household"]} == {ERASED}
    assert kept["content"] == ERASED
    assert events[1]["data"]["case_id"] is None and events[1]["data"]["reasons"] is None


def test_the_referrals_history_shows_the_rejection_the_exception_and_the_case(
    store_settings: Settings,
) -> None:
    intake: Intake = make_intake(store_settings, Clock())
    body = counselling()
    intake.submit(json.dumps(body).encode())
    intake.grant_residency_exception(body["source"], body["referral_id"], "nämnden", "flyttar")
    key = str(referral_key(body["source"], body["referral_id"]))
    intake.close()
    shown: dict[str, Any] = {}
    for role in ("case_officer", "auditor"):
        code, out = lots(store_settings, "audit", "case", key, "--reason", "r", "--role", role,
                         "--json")  # fmt: skip
        assert code == 0
        shown[role] = json.loads(out)["events"]
    assert [e["event"] for e in shown["auditor"]] == [
        "RejectedReferral.Recorded",
        "RejectedReferral.ExceptionGranted",
        "Case.Opened",
    ]
    officer = shown["case_officer"]
    assert json.loads(officer[0]["data"]["content"])["note"] == "Ett par från Norrköping."
    assert officer[0]["data"]["household"][0]["name"] == "Kim Utsocken"
    assert officer[2]["data"]["note"] == "Ett par från Norrköping."
    auditor = shown["auditor"]
    assert auditor[0]["data"]["content"] == "(hidden)"
    assert {m["personal_number"] for m in auditor[0]["data"]["household"]} == {"(hidden)"}
    assert auditor[1]["data"]["granted_by"] == "nämnden"
    assert auditor[2]["data"]["residency_exception_id"] == auditor[1]["aggregate"]


def test_a_policy_changed_meanwhile_answers_again_with_the_new_reasons(
    store_settings: Settings,
) -> None:
    """Evaluated again under the rules of today's deployment, a kept referral may still be
    rejected (here a shorter note limit): the new reasons are the answer, caused by the
    exception."""
    from dataclasses import replace

    intake = make_intake(store_settings, Clock())
    try:
        body = counselling()
        intake.submit(json.dumps(body).encode())
        intake.policy = replace(intake.policy, note_max_chars=5)
        before = intake.recorder.max_notification_id()
        exception_id, reevaluated = intake.grant_residency_exception(
            body["source"], body["referral_id"], "administration", "moving here"
        )
        answer = intake.answer(body["source"], body["referral_id"])
        _, outgoing = intake.outbox(before, 100)
    finally:
        intake.close()
    assert reevaluated is True and answer is not None
    assert [r["code"] for r in answer.reasons] == ["note_too_long"]
    [rejected] = outgoing
    assert isinstance(rejected.message, ReferralRejected)
    assert rejected.causation_id == str(exception_id)
    assert rejected.message.residency_exception_id == exception_id
    assert [r.code for r in rejected.message.reasons] == ["note_too_long"]
    assert rejected.message.supersedes is not None
