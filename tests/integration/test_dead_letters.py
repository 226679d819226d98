"""``lots dead-letters`` over dead letters written by the real runtime on a real Redis: listed
without their content, sent back once the cause is fixed and applied once, marked handled,
every action recorded and shown by ``lots status``; wrong requests refused in words."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from typer.testing import CliRunner

from events.codec import encode
from infra.dead_letter_log import open_log
from infra.dead_letters import DeadLetterError, parse
from infra.settings import Settings
from lots.cli import app
from tests.support.cli import cli_env, lots
from tests.support.flow import Hop, eventually, expected_ids, meeting, publish
from tests.support.intake import Clock, entry, referral, running_intake
from tests.support.ledger import POISON_PARTICIPANTS

STREAM = "scheduling.events"  # a topology stream, read here by a ledger hop of its own


def _refused(settings: Settings, *args: str) -> str:
    """``lots dead-letters ARGS`` refused: exit 1 or 2 and an error in words, no traceback."""
    result = CliRunner().invoke(app, ["dead-letters", *args], env=cli_env(settings))
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (1, 2), (args, result.output)
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    return result.stderr


def _listed(settings: Settings, *args: str) -> list[dict[str, Any]]:
    code, out = lots(settings, "dead-letters", "list", "--json", *args)
    assert code == 0, out
    return json.loads(out)["dead_letters"]  # type: ignore[no-any-return]


async def _poison_two(settings: Settings, redis_client: redis.Redis) -> list[str]:
    """Two poison meetings among good ones, dead-lettered by the runtime; their message ids."""
    good = [meeting(n) for n in range(4)]
    poison = [meeting(50 + n, participants=POISON_PARTICIPANTS) for n in range(2)]
    sent = publish(
        redis_client, settings.stream(STREAM), [good[0], poison[0], *good[1:], poison[1]]
    )
    async with Hop(settings, "hop_a", STREAM, "ledger.mid") as hop:
        await eventually(lambda: redis_client.xlen(settings.stream(f"{STREAM}.dead")) == 2)
        await eventually(lambda: len(hop.app.entries()) == 4)
    return [f["id"] for f in sent if json.loads(f["data"])["participants"] == POISON_PARTICIPANTS]


async def test_a_dead_letter_is_listed_retried_once_fixed_and_another_marked_handled(
    settings: Settings, redis_client: redis.Redis
) -> None:
    poison_ids = await _poison_two(settings, redis_client)
    listed = _listed(settings)
    assert [(r["stream"], r["state"]) for r in listed] == [(STREAM, "open")] * 2
    assert [r["reference"]["message_id"] for r in listed] == poison_ids
    assert all("always fails" in r["error"] and r["attempts"] == 3 for r in listed)
    assert all(r["group"] == "hop_a" and r["failed_at"].endswith(("CET", "CEST")) for r in listed)
    code, text = lots(settings, "dead-letters", "list")
    assert code == 0 and f"{STREAM}.dead: 2 dead letters, 2 open" in text
    assert "case_id" not in text and str(meeting(50).case_id) not in text, "no content shown"
    first, second = (r["id"] for r in listed)

    code, shown = lots(settings, "dead-letters", "show", first)
    assert code == 0 and "data (" in shown and "no action yet" in shown
    assert str(meeting(50).case_id) not in shown

    # The handler is fixed (a new version): the first is sent back and applied exactly once.
    code, out = lots(
        settings, "dead-letters", "retry", first, "--by", "olle", "--reason", "handler fixed"
    )
    assert code == 0 and "recorded as retried by olle" in out, out
    resent = redis_client.xrange(settings.stream(STREAM))[-1][1]
    assert resent["id"] == poison_ids[0] and "error" not in resent
    async with Hop(settings, "hop_a", STREAM, "ledger.mid", poison_participants=None) as hop:
        await eventually(lambda: str(meeting(50).meeting_id) in hop.app.entries())
        redis_client.xadd(settings.stream(STREAM), resent)  # sent once more: skipped
        await eventually(
            lambda: redis_client.xpending(settings.stream(STREAM), "hop_a")["pending"] == 0
        )
        await eventually(lambda: hop.runtime.counters.processed == 2)
        entries = hop.app.entries()
    assert entries == expected_ids([*(meeting(n) for n in range(4)), meeting(50)])

    code, out = lots(settings, "dead-letters", "handled", second, "--reason", "meeting cancelled")
    assert code == 0 and "marked handled" in out
    states = {r["id"]: r["state"] for r in _listed(settings, "--stream", f"{STREAM}.dead")}
    assert states == {first: "retried", second: "handled"}

    code, shown = lots(settings, "dead-letters", "show", first, "--json")
    [action] = json.loads(shown)["history"]
    assert (action["action"], action["by"], action["reason"]) == (
        "retried",
        "olle",
        "handler fixed",
    )

    code, out = lots(settings, "status", "--json")
    report = json.loads(out)
    assert report["dead_letters"]["streams"][f"{STREAM}.dead"] == {"open": 0, "all": 2}
    assert [(a["id"], a["action"]) for a in report["dead_letters"]["actions"]] == [
        (second, "handled"),
        (first, "retried"),
    ]
    assert not any("dead letters" in p for p in report["problems"])
    code, out = lots(settings, "status")
    assert "handled" in out and "meeting cancelled" in out


async def test_wrong_requests_are_refused_in_words_and_change_nothing(
    settings: Settings, redis_client: redis.Redis
) -> None:
    await _poison_two(settings, redis_client)
    first, second = (r["id"] for r in _listed(settings))
    assert lots(settings, "dead-letters", "handled", first, "--by", "a", "--reason", "done")[0] == 0
    refusals = [
        ("handled", first, "--reason", "again"),  # handled twice
        ("retry", first, "--reason", "again"),  # retry of a handled one
        ("show", "1-999"),  # unknown
        ("retry", "not-an-id", "--reason", "x"),
        ("handled", second, "--reason", " "),  # no reason
        ("list", "--stream", "no.such.stream"),
    ]
    errors = [_refused(settings, *args) for args in refusals]
    assert "already marked handled by a" in errors[0]
    assert errors[0].rstrip().endswith(("CET", "CEST")), "when, in Stockholm time"
    assert "was handled by a" in errors[1]
    assert "no dead letter 1-999" in errors[2]
    assert "not a dead letter's id" in errors[3]
    assert "--reason must say why" in errors[4]
    assert "no stream 'no.such.stream'" in errors[5]
    states = {r["id"]: r["state"] for r in _listed(settings)}
    assert states == {first: "handled", second: "open"}
    assert redis_client.xlen(settings.stream(STREAM)) == 6, "nothing was sent back"


async def test_a_referral_kept_by_intake_is_sent_back_from_its_store_and_answered_once(
    settings: Settings, redis_client: redis.Redis
) -> None:
    closed = settings.model_copy(update={"intake_shared_stream": False})
    body = referral()
    fields = entry(body)
    async with running_intake(closed, Clock()):
        redis_client.xadd(settings.stream("intake.referrals"), fields)  # type: ignore[arg-type]
        await eventually(lambda: redis_client.xlen(settings.stream("intake.referrals.dead")) == 1)
    [letter] = _listed(settings, "--stream", "intake.referrals")
    assert letter["error"].startswith("shared_stream_closed")
    assert (
        letter["reference"]["type"] == "SubmitReferral" and "dead_letter_ref" in letter["reference"]
    )
    code, shown = lots(settings, "dead-letters", "show", letter["id"], "--json")
    detail = json.loads(shown)
    assert detail["reference"]["message_id"] == fields["id"]
    assert set(detail["fields"]) == {"type", "version", "id", "data"}
    personal = body["persons"][0]["personal_number"]
    assert personal not in shown and "Alva" not in shown

    code, out = lots(settings, "dead-letters", "retry", letter["id"], "--reason", "stream reopened")
    assert code == 0, out
    async with running_intake(settings, Clock()):
        events = settings.stream("intake.events")
        await eventually(lambda: redis_client.xlen(events) == 1)
        await eventually(lambda: redis_client.xlen(settings.stream("intake.referrals")) == 0)
    [(_, answer)] = redis_client.xrange(events)
    assert answer["type"] == "ReferralReceived"
    assert json.loads(answer["data"])["referral_id"] == body["referral_id"]


async def test_the_readme_example_without_a_message_id_is_cleared_by_marking_it_handled(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """``id "$(uuidgen)"`` where uuidgen is missing sends an empty id: a dead letter that cannot
    be sent back as it is, and is cleared by marking it handled."""
    fields = entry(referral()) | {"id": ""}
    async with running_intake(settings, Clock()):
        redis_client.xadd(settings.stream("intake.referrals"), fields)  # type: ignore[arg-type]
        await eventually(lambda: redis_client.xlen(settings.stream("intake.referrals.dead")) == 1)
    [letter] = _listed(settings)
    assert "no message id" in _refused(settings, "retry", letter["id"], "--reason", "try")
    code, _ = lots(settings, "dead-letters", "handled", letter["id"], "--reason", "sent anew")
    assert code == 0
    code, out = lots(settings, "status", "--json")
    assert json.loads(out)["dead_letters"]["streams"]["intake.referrals.dead"]["open"] == 0


def test_the_record_keeps_actions_in_either_store_and_refuses_a_second_handling(
    store_settings: Settings,
) -> None:
    """The ``deadletters`` store on SQLite and PostgreSQL: state, history, the last actions."""
    letter = parse(STREAM, "5-0", encode(meeting(1)) | {"error": "x", "entry_id": "4-0"})
    other = parse(STREAM, "6-0", encode(meeting(2)) | {"error": "y", "entry_id": "4-1"})
    assert open_log(store_settings, create=False) is None or store_settings.store == "postgres"
    log = open_log(store_settings)
    assert log is not None
    try:
        assert log.state(letter) == "open"
        log.retried(letter, "olle", "fixed", "9-0")
        log.handled(other, "anna", "obsolete")
        log.handled(letter, "anna", "applied, checked")  # a retried one may be closed
        with pytest.raises(DeadLetterError, match="already marked handled by anna"):
            log.handled(letter, "olle", "again")
        with pytest.raises(DeadLetterError, match="was handled by anna"):
            log.check_retry(other)
    finally:
        log.close()
    again = open_log(store_settings, create=False)  # another process, later
    assert again is not None
    try:
        assert [(a["id"], a["action"], a["by"]) for a in again.last_actions(2)] == [
            ("5-0", "handled", "anna"),
            ("6-0", "handled", "anna"),
        ]
        record = again.record_of(letter)
        assert record is not None and [a["action"] for a in record.actions] == [
            "retried",
            "handled",
        ]
        assert record.actions[0]["sent_as"] == "9-0"
    finally:
        again.close()
