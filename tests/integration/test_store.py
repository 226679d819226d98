"""The event store keeps effects and their tracking in one transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid

import pytest
from eventsourcing.persistence import IntegrityError

from infra.settings import Settings
from tests.support.flow import incoming
from tests.support.ledger import POISON_PARTICIPANTS, Account, make_ledger


def test_a_batch_is_applied_once_and_a_poison_message_only_fails_itself(
    store_settings: Settings,
) -> None:
    app = make_ledger(store_settings, "hop", "ledger.out")
    batch = [incoming(1), incoming(2, POISON_PARTICIPANTS), incoming(3)]
    first = app.process("hop", batch)
    assert first["1-1"] is None and first["1-3"] is None
    assert first["1-2"] is not None and "always fails" in first["1-2"]
    assert app.entries() == sorted([str(uuid.UUID(int=2)), str(uuid.UUID(int=4))])

    again = app.process("hop", batch)  # redelivered: acknowledged without effect
    assert again["1-1"] is None and again["1-3"] is None and again["1-2"] is not None
    assert len(app.entries()) == 2
    assert app.store.count_processed("hop") == 2
    app.close()


def test_the_same_message_twice_in_one_batch_counts_once(store_settings: Settings) -> None:
    app = make_ledger(store_settings, "hop", "ledger.out")
    same = uuid.uuid4()
    results = app.process("hop", [incoming(1, message_id=same), incoming(1, message_id=same)])
    assert list(results.values()) == [None]  # same entry id: one result
    assert len(app.entries()) == 1
    app.close()


def test_tracking_commits_with_the_events_or_not_at_all(store_settings: Settings) -> None:
    app = make_ledger(store_settings, "hop", "ledger.out")
    account = Account(number=99)
    app.save(account, processed=[("hop", "m-1")])
    duplicate = Account(number=98)
    with pytest.raises(IntegrityError):
        app.save(duplicate, processed=[("hop", "m-1")])
    with pytest.raises(Exception):  # noqa: B017 - the aggregate was rolled back with the tracking
        app.repository.get(duplicate.id)
    assert app.store.processed_among("hop", ["m-1", "m-2"]) == {"m-1"}
    app.close()


def test_relay_position_and_epoch_survive_a_restart(store_settings: Settings) -> None:
    app = make_ledger(store_settings, "hop", "ledger.out")
    assert app.store.relay_position("ledger.out") == 0
    assert app.store.relay_epoch("ledger.out") is None
    app.store.set_relay_position("ledger.out", 41, "epoch-a")
    app.store.set_relay_position("ledger.out", 42, "epoch-b")
    app.close()
    reopened = make_ledger(store_settings, "hop", "ledger.out")
    assert reopened.store.relay_position("ledger.out") == 42
    assert reopened.store.relay_epoch("ledger.out") == "epoch-b"
    reopened.close()


def test_outbox_gives_stable_ids_for_republishing(store_settings: Settings) -> None:
    app = make_ledger(store_settings, "hop", "ledger.out")
    app.process("hop", [incoming(n) for n in range(5)])
    position, first = app.outbox(0, 100)
    _, second = app.outbox(0, 100)
    assert len(first) == 5 and position >= 5
    assert [o.id for o in first] == [o.id for o in second]
    assert app.outbox(position, 100) == (position, [])
    app.close()


def test_the_case_index_finds_a_cases_events_in_log_order(store_settings: Settings) -> None:
    from tests.support.intake import Clock, make_intake, referral

    intake = make_intake(store_settings, Clock())
    first = intake.submit(json.dumps(referral()).encode()).case_id
    other = intake.submit(json.dumps(referral()).encode()).case_id
    assert first is not None and other is not None
    intake.acknowledge(first, "anna")
    intake.close_case(first, "moved", "anna")
    events = intake.case_events(first)
    assert [type(e).__qualname__ for e in events] == [
        "Case.Opened",
        "Case.Acknowledged",
        "Case.Closed",
    ]
    assert [type(e).__qualname__ for e in intake.case_events(other)] == ["Case.Opened"]
    intake.close()


def test_a_long_case_is_snapshotted_and_read_back_the_same(settings: Settings) -> None:
    from datetime import timedelta

    from tests.support.intake import Clock, make_intake, referral

    clock = Clock()
    intake = make_intake(settings, clock)
    case_id = intake.submit(json.dumps(referral()).encode()).case_id
    assert case_id is not None
    case = intake.case(case_id)
    for n in range(60):
        start = clock.now + timedelta(days=n + 1)
        case.record_meeting(f"m{n}", "follow_up", start, start + timedelta(minutes=45), 1, "t")
        case.record_logged_time(f"s{n}", 15, "t")
    intake.save(case)
    assert intake.snapshots is not None
    assert list(intake.snapshots.get(case_id)), "a snapshot was taken"
    intake.close()
    again = make_intake(settings, clock).case(case_id)
    assert again.minutes_used == 60 * 60 and again.visits == 60 and len(again.sessions) == 60


def test_erasing_a_subject_destroys_every_generation_of_its_key_and_nothing_else(
    store_settings: Settings,
) -> None:
    from infra.pii import ERASED, StagedKeys, seal, unseal

    app = make_ledger(store_settings, "hop", "ledger.out")
    store = app.store
    ref, neighbour = str(uuid.uuid4()), str(uuid.uuid4())
    for subject in (ref, neighbour, f"{neighbour}#2", f"{ref}0"):
        store.subject_key(subject, f"key-of-{subject}"[:32].ljust(32, "k").encode())
    first = seal(store, ref, "201407142395")
    store.erase_subject(ref, "2031-01-01T00:00:00+00:00")
    staged = StagedKeys(store)
    second = seal(staged, ref, "201407142395")  # referred again: the key's next generation
    assert second is not None and second.startswith("pii:v2:2:")
    assert unseal(staged, ref, second) == "201407142395"
    app.save(processed=[("hop", "m-keys")], subject_keys=staged.take())
    assert unseal(store, ref, first) == ERASED and unseal(store, ref, second) == "201407142395"

    store.erase_subject(ref, "2037-01-01T00:00:00+00:00")
    assert unseal(store, ref, second) == ERASED
    assert store.stored_subject_key(f"{ref}#2") == (True, None)
    for kept in (neighbour, f"{neighbour}#2", f"{ref}0"):
        assert store.stored_subject_key(kept)[1] is not None, kept
    app.close()
