"""Erasure by crypto-shredding: personal data unreadable, the chain and the export unchanged."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from infra.integrity import verify
from infra.pii import ERASED
from infra.settings import Settings
from lots.cli import app
from lots.export import export_lines
from tests.support.intake import Clock, make_intake, personal_number, referral


def _household(settings: Settings, case_id: str, role: str) -> list[dict[str, Any]]:
    env = {"LOTS_VAR_DIR": str(settings.var_dir), "LOTS_EMBEDDED_REDIS": "never"}
    out = (
        CliRunner()
        .invoke(app, ["audit", "case", case_id, "--reason", "t", "--role", role, "--json"], env=env)
        .stdout
    )
    return json.loads(out)["events"][0]["data"]["household"]  # type: ignore[no-any-return]


def test_persons_are_erased_after_retention_unless_held_and_the_chain_still_verifies(
    settings: Settings,
) -> None:
    from datetime import date

    clock = Clock()
    intake = make_intake(settings, clock)
    shared_parent = {
        "role": "guardian",
        "personal_number": personal_number(date(1980, 5, 5)),
        "name": "Parent Both",
        "municipality_code": "0580",
    }
    old = intake.submit(json.dumps(referral()).encode()).case_id
    held = intake.submit(
        json.dumps(
            referral(
                persons=[
                    {
                        "role": "child",
                        "personal_number": personal_number(date(2015, 1, 1), "117"),
                        "municipality_code": "0580",
                    },
                    shared_parent,
                ]
            )
        ).encode()
    ).case_id
    assert old is not None and held is not None
    intake.hold_for_retention(held, "complaint under investigation", "administration")
    before = list(export_lines(intake))
    assert intake.erase_expired(5) == []  # nothing is five years old yet

    clock.advance(days=5 * 366)
    erased = intake.erase_expired(5)
    assert len(erased) == 2  # the first case's child and guardian; the held case keeps its own
    assert intake.erase_expired(5) == []  # erased once
    assert verify(intake.store).intact
    assert list(export_lines(intake))[: len(before)] == before
    intake.close()

    assert {m["personal_number"] for m in _household(settings, str(old), "case_officer")} == {
        ERASED
    }
    kept = _household(settings, str(held), "case_officer")
    assert {m["name"] for m in kept} >= {"Parent Both"}
    assert all(m["personal_number"].isdigit() for m in kept)


def test_personal_numbers_and_names_are_not_stored_in_the_clear(settings: Settings) -> None:
    intake = make_intake(settings, Clock())
    body = referral()
    intake.submit(json.dumps(body).encode())
    answer = intake.answer(body["source"], body["referral_id"])
    assert answer is not None and answer.case_id is not None
    case = intake.case(answer.case_id)
    intake.close()
    for member in case.household:
        assert member["personal_number"].startswith("pii:v1:")
        assert member["name"].startswith("pii:v1:")


def test_the_daily_check_reads_only_what_is_new_and_agrees_with_a_full_scan(
    settings: Settings,
) -> None:
    from datetime import date

    from services.intake.retention import RetentionWatch

    clock = Clock()
    intake = make_intake(settings, clock)
    parent = {
        "role": "guardian",
        "personal_number": personal_number(date(1979, 3, 3)),
        "municipality_code": "0580",
    }
    child = {
        "role": "child",
        "personal_number": personal_number(date(2013, 2, 2), "125"),
        "municipality_code": "0580",
    }
    intake.submit(json.dumps(referral(persons=[child, parent])).encode())
    assert intake.erase_expired(5) == []
    seen = intake.retention_watch.position
    assert seen > 0

    clock.advance(days=4 * 365)  # the parent comes back with a younger sibling
    sibling = {
        "role": "child",
        "personal_number": personal_number(date(2020, 6, 6), "133"),
        "municipality_code": "0580",
    }
    intake.submit(
        json.dumps(referral(persons=[sibling, parent], submitted_at=clock.now.isoformat())).encode()
    )
    assert intake.erase_expired(5) == []
    assert intake.retention_watch.position > seen

    clock.advance(days=int(1.5 * 365))  # the first case's retention has ended, not the second's
    intake.retention_watch.advance(intake)
    fresh = RetentionWatch()
    fresh.advance(intake)
    assert intake.retention_watch.expired(clock.now, 5) == fresh.expired(clock.now, 5)
    erased = intake.erase_expired(5)
    assert len(erased) == 1  # the first child only: the parent's last entry is 1.5 years old
    assert intake.erase_expired(5) == []
    intake.close()


def test_a_person_referred_again_after_erasure_is_accepted_under_a_new_key(
    settings: Settings,
) -> None:
    """Years after a family's data was erased, the same child is referred again: the referral is
    accepted, the new case is readable, the old one stays erased, and when the new case's own
    retention ends, every generation of the child's key is destroyed."""
    clock = Clock()
    intake = make_intake(settings, clock)
    first = referral()
    old = intake.submit(json.dumps(first).encode()).case_id
    clock.advance(days=5 * 366)
    assert len(intake.erase_expired(5)) == 2

    again = referral(persons=first["persons"], submitted_at=clock.now.isoformat())
    answer = intake.submit(json.dumps(again).encode())
    assert answer.accepted and answer.case_id not in (None, old)
    numbers = {p["personal_number"] for p in first["persons"]}
    sealed = [m["personal_number"] for m in intake.case(answer.case_id).household]  # type: ignore[arg-type]
    assert len(sealed) == 2 and all(value.startswith("pii:v2:2:") for value in sealed)
    assert intake.erase_expired(5) == []  # the new case is young
    intake.close()
    assert {m["personal_number"] for m in _household(settings, str(old), "case_officer")} == {
        ERASED
    }
    assert {
        m["personal_number"] for m in _household(settings, str(answer.case_id), "case_officer")
    } == numbers

    intake = make_intake(settings, clock)  # a restart rebuilds the watch from the log
    clock.advance(days=5 * 366)
    assert len(intake.erase_expired(5)) == 2  # erased again: the second generation too
    assert verify(intake.store).intact
    intake.close()
    assert {
        m["personal_number"] for m in _household(settings, str(answer.case_id), "case_officer")
    } == {ERASED}


def test_a_person_referred_again_while_the_daily_check_runs_keeps_their_data(
    settings: Settings,
) -> None:
    clock = Clock()
    intake = make_intake(settings, clock)
    first = referral()
    intake.submit(json.dumps(first).encode())
    clock.advance(days=5 * 366)
    watch = intake.retention_watch
    checked = watch.expired
    calls = 0

    def meanwhile(now: Any, years: int, among: Any = None) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        due = checked(now, years, among)
        if calls == 1:  # after the first look, before any key is destroyed: referred again
            again = referral(persons=first["persons"], submitted_at=clock.now.isoformat())
            assert intake.submit(json.dumps(again).encode()).accepted
        return due

    watch.expired = meanwhile  # type: ignore[method-assign]
    assert intake.erase_expired(5) == []
    assert calls == 2
    intake.close()


def test_the_watches_catch_up_without_holding_up_the_batches(settings: Settings) -> None:
    """The retention and acknowledgement watches scan the whole log when intake starts; they
    do it under locks of their own, so a batch (which holds the application's lock) is never
    held up by it, and neither are they by a long batch when there is nothing to record."""
    import threading

    clock = Clock()
    intake = make_intake(settings, clock)
    assert intake.submit(json.dumps(referral()).encode()).accepted
    batch_running, release = threading.Event(), threading.Event()

    def long_batch() -> None:
        with intake.lock:
            batch_running.set()
            release.wait(30)

    holder = threading.Thread(target=long_batch)
    holder.start()
    batch_running.wait(10)
    results: list[Any] = []
    checker = threading.Thread(
        target=lambda: results.extend(
            [intake.service_levels(), intake.check_acknowledgements(), intake.erase_expired(5)]
        )
    )
    checker.start()
    checker.join(20)
    finished = not checker.is_alive()
    release.set()
    holder.join()
    checker.join()
    intake.close()
    assert finished, "a watch waited for the application's lock"
    assert results[0]["acknowledgements_waiting"] == 1 and results[1:] == [[], []]
