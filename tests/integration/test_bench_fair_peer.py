"""The fair peer of ``make bench`` is idempotent as its text claims: a message delivered again
stores nothing more and gets the same answer (real SQLite stores, no Redis needed)."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

from bench.fair_peer import received, session_of, store
from bench.fair_peer_domain import CaseAccount
from bench.pipeline import Calendar, referral
from events.billing import SessionLogged, SessionReportedApart
from events.referrals import SubmitReferral
from events.scheduling import MeetingHeld
from infra.calendar import STOCKHOLM


def _topics(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT topic, COUNT(*) FROM stored_events GROUP BY topic")
        return {str(topic).split(":")[-1]: int(n) for topic, n in rows}
    finally:
        connection.close()


def test_a_referral_delivered_twice_opens_one_case_and_is_answered_the_same(
    tmp_path: Path,
) -> None:
    entry = referral(1, "t", Calendar.last_month().opening, random.Random(1))
    message = SubmitReferral.model_validate_json(entry["data"])
    app = store("intake", tmp_path)
    try:
        first = received(app, message)
        again = received(app, message)
    finally:
        app.close()
    assert again == first
    assert _topics(tmp_path / "peer-intake.sqlite") == {"Case.Opened": 1}
    # The library's cipher: no personal number in the store's file.
    number = json.loads(entry["data"])["persons"][0]["personal_number"]
    files = list(tmp_path.glob("peer-intake.sqlite*"))
    assert files and all(number.encode() not in f.read_bytes() for f in files)


def test_a_meeting_held_delivered_twice_bills_one_session(tmp_path: Path) -> None:
    case_id = uuid4()
    app = store("billing", tmp_path)
    started = datetime(2026, 11, 3, 9, tzinfo=STOCKHOLM)
    try:
        app.save(CaseAccount(case_id, {"case_id": str(case_id)}))
        kinds = (("leanlink", SessionLogged), ("other_provider", SessionReportedApart))
        for provider, kind in kinds:
            held = MeetingHeld(
                meeting_id=uuid4(), case_id=case_id, programme="counselling", kind="counselling",
                format="couple", provider=provider, staff=["s-1"], started_at=started,
                ended_at=started + timedelta(minutes=75), participants=2, client_visits=1,
            )  # fmt: skip
            first = session_of(app, held)
            again = session_of(app, held)
            assert isinstance(first, kind) and again == first
    finally:
        app.close()
    topics = _topics(tmp_path / "peer-billing.sqlite")
    assert topics["Session.Opened"] == 2
    assert topics["Session.Logged"] == topics["Session.ReportedApart"] == 1
    assert topics["CapAccount.HoursBilled"] == topics["Settlement.SessionBooked"] == 1
    assert topics["CaseAccount.MeetingRecorded"] == 2
