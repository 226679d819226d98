"""``lots audit case`` reads like a case file; every look at a case is in one access log, made
with the command line (``--by`` defaulting to the logged-in user) or over HTTP by an auditor."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from infra.auth import Role
from infra.settings import Settings
from services.scheduling.http import routers as scheduling_routers
from tests.integration.test_scheduling_support import Clock, deliver, local, referral, scheduling
from tests.support.auth import api, client, headers, served
from tests.support.cli import lots
from tests.support.intake import Clock as IntakeClock
from tests.support.intake import make_intake
from tests.support.intake import referral as submitted


def _case(settings: Settings) -> str:
    intake = make_intake(settings, IntakeClock())
    answer = intake.submit(json.dumps(submitted()).encode())
    assert answer.case_id is not None
    intake.acknowledge(answer.case_id, "anna")
    intake.close_case(answer.case_id, "goals_met", "anna")
    intake.close()
    return str(answer.case_id)


def test_a_case_reads_as_blocks_in_stockholm_time_with_words_and_fields(
    settings: Settings,
) -> None:
    case_id = _case(settings)
    code, out = lots(settings, "audit", "case", case_id, "--reason", "yearly audit")
    assert code == 0
    blocks = out.strip().split("\n\n")
    assert blocks[0].splitlines()[0] == f"Case {case_id}"
    assert "Times are Europe/Stockholm time." in blocks[0]
    opened, acknowledged, closed = (block.splitlines() for block in blocks[1:])
    for block, event in ((opened, "Case.Opened"), (closed, "Case.Closed")):
        assert block[0].endswith(f"(Europe/Stockholm) · intake · {event}")
    assert opened[1].startswith("Referral received from linkoping.elevhalsa (EH-")
    assert acknowledged[1] == "Referral acknowledged by anna"
    assert closed[1] == "Case closed by anna, outcome goals_met"
    # The fields as key: value, times in Stockholm time; personal data hidden from an auditor.
    assert "  by: anna" in acknowledged
    assert "  received_at: 2026-11-02 10:00:00 CET" in opened
    assert "      personal_number: (hidden)" in opened
    assert "=" not in "".join(acknowledged)

    code, out = lots(settings, "audit", "case", case_id, "--reason", "r", "--json")
    report = json.loads(out)  # for programs, as before
    assert [e["event"] for e in report["events"]] == ["Case.Opened", "Case.Acknowledged",
                                                      "Case.Closed"]  # fmt: skip
    assert report["events"][0]["at"].endswith("+00:00")


def test_who_looks_is_by_default_the_logged_in_user(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = _case(settings)
    monkeypatch.setenv("LOGNAME", "karin.k")  # what getpass.getuser() reads first
    assert lots(settings, "audit", "case", case_id, "--reason", "complaint 12")[0] == 0
    assert lots(settings, "audit", "case", case_id, "--reason", "again", "--by", "olle")[0] == 0
    looks = json.loads(lots(settings, "audit", "access", "--case", case_id, "--json")[1])
    assert [(look["by"], look["via"]) for look in looks] == [("karin.k", "cli"), ("olle", "cli")]


async def test_an_auditors_read_of_a_case_over_intakes_http_is_in_the_access_log(
    settings: Settings,
) -> None:
    case_id = _case(settings)
    async with served(settings, "intake") as (http, _):
        async with client(http, settings, Role.STAFF) as staff:
            assert (await staff.get(f"/cases/{case_id}")).status_code == 200
        async with client(http, settings, Role.AUDITOR) as auditor:
            read = await auditor.get(f"/cases/{case_id}", params={"reason": "complaint 7"})
            assert read.status_code == 200
    code, out = lots(settings, "audit", "access", "--case", case_id, "--json")
    assert code == 0
    (look,) = json.loads(out)  # the staff's day-to-day read is not an audit look
    assert look["via"] == "http" and look["service"] == "intake"
    assert look["by"] == "development auditor" and look["role"] == "auditor"
    assert look["reason"] == "complaint 7" and look["case_id"] == case_id and look["at"]
    assert look["personal_data_shown"] is False
    code, out = lots(settings, "audit", "access", "--case", case_id)
    assert code == 0
    assert "(auditor, over HTTP, intake) looked at" in out and "(Europe/Stockholm)" in out


def test_an_auditors_read_of_a_case_over_schedulings_http_is_in_the_access_log(
    settings: Settings,
) -> None:
    monday = local(2026, 3, 2, 8)
    app = scheduling(settings, Clock(monday))
    message = referral(monday)
    deliver(app, message)
    http = api(settings, scheduling_routers(app))
    with TestClient(http, headers=headers(settings, Role.AUDITOR)) as auditor:
        assert auditor.get(f"/cases/{message.case_id}").status_code == 200
    app.close()
    code, out = lots(settings, "audit", "access", "--json")
    assert code == 0
    (look,) = json.loads(out)
    assert (look["via"], look["service"], look["role"]) == ("http", "scheduling", "auditor")
    assert look["case_id"] == str(message.case_id) and look["reason"] == "(no reason given)"
    assert look["at"] == monday.isoformat()
    code, out = lots(settings, "audit", "case", str(message.case_id), "--reason", "r", "--json")
    events = [e["event"] for e in json.loads(out)["events"]]
    assert "WaitingCase.Queued" in events and "CaseAccess.Viewed" not in events  # not history


def test_looks_recorded_before_the_access_log_moved_to_infra_are_still_listed(
    settings: Settings,
) -> None:
    import sqlite3

    case_id = _case(settings)
    assert lots(settings, "audit", "case", case_id, "--reason", "2025 audit", "--by", "eva")[0] == 0
    with sqlite3.connect(settings.var_dir / "intake.sqlite") as db:  # as intake stored it then
        moved = db.execute(
            "UPDATE stored_events SET topic = 'services.intake.domain:CaseAccess.Viewed'"
            " WHERE topic = 'infra.access:CaseAccess.Viewed'"
        ).rowcount
    assert moved == 1
    code, out = lots(settings, "audit", "access", "--case", case_id, "--json")
    assert code == 0
    assert [(look["by"], look["reason"], look["via"]) for look in json.loads(out)] == [
        ("eva", "2025 audit", "cli")
    ]


async def test_an_auditors_read_of_a_familys_follow_up_is_in_the_access_log(
    settings: Settings,
) -> None:
    from datetime import UTC, date, datetime

    from tests.integration.test_quality_year import family

    intake = make_intake(settings, IntakeClock(datetime(2026, 1, 12, 9, tzinfo=UTC)))
    answer = intake.submit(json.dumps(family(1)).encode())
    assert answer.case_id is not None, answer
    guardians = [m["person_ref"] for m in intake.case(answer.case_id).household
                 if m["role"] == "guardian"]  # fmt: skip
    intake.assess_family(
        answer.case_id, "start", date(2026, 1, 12), kasam=40, sips=0, by="anna",
        parents=dict.fromkeys(guardians, "none"), economy="income_support",
    )  # fmt: skip
    intake.close()
    async with served(settings, "intake") as (http, _):
        auditor = client(http, settings, Role.AUDITOR)
        async with auditor:
            read = await auditor.get(f"/cases/{answer.case_id}/follow-up")
            assert read.status_code == 200, read.text
    code, out = lots(settings, "audit", "access", "--json")
    assert code == 0
    (look,) = json.loads(out)
    assert (look["case_id"], look["via"], look["service"]) == (
        str(answer.case_id),
        "http",
        "intake",
    )
