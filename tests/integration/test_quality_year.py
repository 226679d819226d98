"""A year of quality-register entries, coordinated-support follow-ups and steering-group meetings
fed through intake and scheduling (real SQLite stores, real Redis, their HTTP APIs), then
``lots report year`` from the stores and from the export: the seeds' figures, the warnings, and
nothing personal on Redis or in the export."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import redis
from typer.testing import CliRunner

from infra.runtime import Runtime
from infra.service import build_http
from infra.settings import Settings
from lots.cli import app as cli
from lots.export import export_lines
from services.intake.application import Intake
from services.intake.coordinated import INDICATORS
from services.scheduling.app import build
from services.scheduling.application import Scheduling
from services.scheduling.http import routers as scheduling_routers
from tests.support.auth import ByRoute
from tests.support.flow import eventually
from tests.support.intake import Clock, personal_number, referral, running_intake

#: Free text about people: it must stay in intake's encrypted store.
NARRATIVE = "Personalen skrek åt Vera Hemligsson i väntrummet"
GOAL_TEXT = "Mira Hemligsson ska klara matematik i åk 9"
NOTE = "Pappan Olle Hemligsson har fått praktikplats"
#: How the year's three lex Sarah reports stood on 31 December.
LEX_SARAH_HANDLING = {
    "received": 1,
    "investigating": 0,
    "reported_to_ivo": 0,
    "closed_after_report_to_ivo": 1,
    "closed_without_report_to_ivo": 1,
}
NAMES = ("Vera Hemligsson", "Mira Hemligsson", "Olle Hemligsson", "Alva Exempel", "Kim Exempel")


def at(y: int, m: int, d: int, h: int = 9) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


@asynccontextmanager
async def running_scheduling(
    settings: Settings, clock: Clock
) -> AsyncIterator[tuple[Scheduling, httpx.AsyncClient]]:
    app = build(settings, clock=clock)
    runtime = Runtime("scheduling", app, settings, settings.redis_url)
    http = build_http(runtime, scheduling_routers(app, runtime))
    await runtime.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=http),
            base_url="http://scheduling",
            auth=ByRoute(settings),
        ) as client:
            yield app, client
    finally:
        await runtime.stop()
        app.close()


async def call(client: httpx.AsyncClient, path: str, body: dict[str, Any], status: int) -> Any:
    response = await client.post(path, json=body)
    assert response.status_code == status, (path, response.status_code, response.text)
    return response.json()


def family(n: int, programme: str = "coordinated", **extra: Any) -> dict[str, Any]:
    persons = [
        {
            "role": "child",
            "personal_number": personal_number(date(2014, 5, 1 + n), serial=f"{200 + n}"),
            "name": "Alva Exempel",
            "municipality_code": "0580",
        },
        {
            "role": "guardian",
            "personal_number": personal_number(date(1984, 3, 1 + n), serial=f"{300 + n}"),
            "name": "Kim Exempel",
            "municipality_code": "0580",
        },
        {
            "role": "guardian",
            "personal_number": personal_number(date(1986, 4, 1 + n), serial=f"{400 + n}"),
            "municipality_code": "0580",
        },
    ]
    # Sent the morning it is received (intake refuses a submitted_at after the day received).
    body = referral(
        programme=programme, persons=persons, submitted_at="2026-01-12T08:00:00+01:00", **extra
    )
    if programme == "coordinated":
        body["consent"] = {"given": True, "form_ref": f"SAMTYCKE-{n}", "given_at": "2026-01-05"}
        body["indicators"] = sorted(INDICATORS)  # all five (002 §1)
    return body


async def open_case(http: httpx.AsyncClient, body: dict[str, Any]) -> tuple[str, list[str]]:
    case_id = (await call(http, "/referrals", body, 202))["case_id"]
    view = (await http.get(f"/cases/{case_id}")).json()
    guardians = [m["person_ref"] for m in view["household"] if m["role"] == "guardian"]
    return case_id, guardians


async def test_a_year_of_quality_follow_up_and_steering_reaches_the_yearly_report(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    clock = Clock(at(2026, 1, 12))
    async with (
        running_intake(settings, clock) as (intake, _, http),
        running_scheduling(settings, clock) as (scheduling, steering),
    ):
        # --- January: four coordinated families, one decided network case, one couple --------
        cases = [await open_case(http, family(n)) for n in range(4)]
        (f1, f1_parents), (f2, f2_parents), (f3, f3_parents), _ = cases
        network, _ = await open_case(
            http, family(5, "network", basis="decision", decision_ref="B-77")
        )
        await open_case(http, family(6, "counselling"))

        # --- the steering group: three meetings convened in February ------------------------
        clock.now = at(2026, 2, 2)
        planned = [
            (
                await call(
                    steering,
                    "/steering-group/meetings",
                    {
                        "starts_at": f"2026-{m:02d}-{d:02d}T10:00:00+01:00",
                        "ends_at": f"2026-{m:02d}-{d:02d}T12:00:00+01:00",
                        "by": "teamleader",
                    },
                    201,
                )
            )["meeting_id"]
            for m, d in ((3, 10), (6, 10), (10, 12))
        ]
        assert scheduling.notices() == []  # three planned: on track

        # --- follow-up of coordinated support ------------------------------------------------
        clock.now = at(2026, 2, 16)
        for case_id, parents, kasam, sips, occupation in (
            (f1, f1_parents, 40, 0, ("none", "none")),
            (f2, f2_parents, 50, 1, ("sick_leave", "none")),
        ):
            await call(
                http,
                f"/cases/{case_id}/follow-up/assessments",
                {
                    "stage": "start",
                    "on": "2026-02-16",
                    "kasam": kasam,
                    "sips": sips,
                    "by": "anna",
                    "parents": dict(zip(parents, occupation, strict=True)),
                    "economy": "income_support",
                },
                200,
            )
        school = (
            await call(
                http,
                f"/cases/{f1}/follow-up/goals",
                {"area": "school_eligibility", "on": "2026-02-16", "by": "anna", "text": GOAL_TEXT},
                201,
            )
        )["goal_id"]
        work = (
            await call(
                http,
                f"/cases/{f1}/follow-up/goals",
                {"area": "occupation", "on": "2026-02-16", "by": "anna"},
                201,
            )
        )["goal_id"]
        structure = (
            await call(
                http,
                f"/cases/{f2}/follow-up/goals",
                {"area": "everyday_structure", "on": "2026-02-16", "by": "anna"},
                201,
            )
        )["goal_id"]
        # The network case is no coordinated support: refused, with the reason.
        refused = await call(
            http,
            f"/cases/{network}/follow-up/goals",
            {"area": "other", "on": "2026-02-16", "by": "anna"},
            422,
        )
        assert "coordinated" in refused["detail"]
        # A follow-up before the start is refused as out of order.
        await call(
            http,
            f"/cases/{f3}/follow-up/assessments",
            {"stage": "follow_up", "on": "2026-02-16", "kasam": 50, "sips": 0, "by": "anna"},
            409,
        )

        # --- quality registers ---------------------------------------------------------------
        clock.now = at(2026, 3, 2)

        async def record(body: dict[str, Any]) -> str:
            made = await call(http, "/quality/records", {"by": "anna", **body}, 201)
            return str(made["record_id"])

        async def step(record_id: str, name: str, status: int = 200, **extra: Any) -> Any:
            body = {"step": name, "by": "chef", **extra}
            return await call(http, f"/quality/records/{record_id}/steps", body, status)

        lex1 = await record(
            {
                "kind": "lex_sarah",
                "occurred_on": "2026-02-27",
                "case_id": network,
                "description": NARRATIVE,
            }
        )
        lex2 = await record({"kind": "lex_sarah", "occurred_on": "2026-03-01"})
        await record({"kind": "lex_sarah", "occurred_on": "2026-03-02"})
        complaint = await record(
            {
                "kind": "complaint",
                "occurred_on": "2026-03-01",
                "category": "complaint",
                "channel": "administration",
                "concerns_administration": True,
                "case_id": f1,
                "description": NARRATIVE,
            }
        )
        view = await record(
            {
                "kind": "complaint",
                "occurred_on": "2026-03-01",
                "category": "view",
                "channel": "provider",
            }
        )
        incident1 = await record({"kind": "incident", "occurred_on": "2026-03-02"})
        incident2 = await record({"kind": "incident", "occurred_on": "2026-03-02"})
        supervision = await record({"kind": "supervision", "occurred_on": "2026-03-02"})
        # A complaint without its channel is refused, with what is missing.
        bad = await call(
            http,
            "/quality/records",
            {"kind": "complaint", "occurred_on": "2026-03-01", "by": "anna"},
            422,
        )
        assert "channel" in bad["detail"]
        assert any(n["code"] == "supervision_not_reported" for n in intake.notices())

        clock.now = at(2026, 3, 9)
        await step(lex1, "investigate", note=NOTE)
        wrong_copy = await step(
            lex1, "report_to_ivo", 422, social_worker_copy="no_responsible_social_worker"
        )
        assert "responsible social worker" in wrong_copy["detail"]
        await step(lex1, "report_to_ivo", social_worker_copy="sent")
        await step(lex2, "investigate")
        await step(lex2, "close")
        await step(complaint, "investigate")
        await step(complaint, "answer")
        early = await step(complaint, "close", 409)
        assert "inform it before closing" in early["detail"]
        await step(complaint, "inform_administration")
        await step(complaint, "close")
        await step(view, "investigate")
        await step(incident1, "investigate")
        await step(incident1, "close")
        refused_close = await step(incident2, "close", 409)
        assert "received: it cannot close" in refused_close["detail"]
        too_soon = await step(supervision, "conclude", 409)
        assert "opened: it cannot conclude" in too_soon["detail"]
        await step(supervision, "inform_administration")
        await step(supervision, "conclude")
        clock.now = at(2026, 4, 20)
        await step(lex1, "close")

        # --- the steering group's year -------------------------------------------------------
        clock.now = at(2026, 3, 10, 14)
        await call(
            steering,
            f"/steering-group/meetings/{planned[0]}/held",
            {
                "started_at": "2026-03-10T10:00:00+01:00",
                "ended_at": "2026-03-10T12:00:00+01:00",
                "organisations": ["provider", "social_services", "education"],
                "by": "teamleader",
            },
            200,
        )
        twice = await call(
            steering, f"/steering-group/meetings/{planned[0]}/cancel", {"by": "x"}, 409
        )
        assert "held" in twice["detail"]
        clock.now = at(2026, 5, 4)
        await call(steering, f"/steering-group/meetings/{planned[1]}/cancel", {"by": "tl"}, 200)
        assert [n["code"] for n in scheduling.notices()] == ["steering_group_short"]

        # --- follow-ups through the year -----------------------------------------------------
        clock.now = at(2026, 6, 15)
        for case_id, kasam, sips in ((f1, 55, 1), (f2, 45, 2)):
            await call(
                http,
                f"/cases/{case_id}/follow-up/assessments",
                {
                    "stage": "follow_up",
                    "on": "2026-06-15",
                    "kasam": kasam,
                    "sips": sips,
                    "by": "anna",
                },
                200,
            )
        await call(
            http,
            f"/cases/{f1}/follow-up/goals/{school}",
            {"status": "achieved", "on": "2026-06-15", "by": "anna", "note": NOTE},
            200,
        )
        await call(
            http,
            f"/cases/{f1}/follow-up/goals/{work}",
            {"status": "in_progress", "on": "2026-06-15", "by": "anna"},
            200,
        )
        await call(
            http,
            f"/cases/{f2}/follow-up/goals/{structure}",
            {"status": "not_achieved", "on": "2026-06-15", "by": "anna"},
            200,
        )
        clock.now = at(2026, 9, 1)
        await call(
            http,
            f"/cases/{f1}/follow-up/phase-out",
            {"planned_end": "2026-11-30", "on": "2026-09-01", "by": "anna"},
            200,
        )
        clock.now = at(2026, 10, 5)
        await call(
            http,
            f"/cases/{f3}/follow-up/assessments",
            {
                "stage": "start",
                "on": "2026-10-05",
                "kasam": 60,
                "sips": 0,
                "by": "anna",
                "parents": {f3_parents[0]: "employment", f3_parents[1]: "studies"},
                "economy": "partly_self_supporting",
            },
            200,
        )
        clock.now = at(2026, 10, 12, 14)
        await call(
            steering,
            f"/steering-group/meetings/{planned[2]}/held",
            {
                "started_at": "2026-10-12T10:00:00+02:00",
                "ended_at": "2026-10-12T11:30:00+02:00",
                "organisations": ["provider", "education", "labour_market"],
                "by": "teamleader",
            },
            200,
        )
        clock.now = at(2026, 11, 16)
        for case_id, parents, kasam, sips, occupation, economy in (
            (
                f1,
                f1_parents,
                62,
                1,
                ("employment", "labour_market_programme"),
                "partly_self_supporting",
            ),
            (f2, f2_parents, 45, 2, ("none", "none"), "income_support"),
        ):
            await call(
                http,
                f"/cases/{case_id}/follow-up/assessments",
                {
                    "stage": "end",
                    "on": "2026-11-16",
                    "kasam": kasam,
                    "sips": sips,
                    "by": "anna",
                    "parents": dict(zip(parents, occupation, strict=True)),
                    "economy": economy,
                },
                200,
            )
        over = await call(
            http,
            f"/cases/{f1}/follow-up/goals/{work}",
            {"status": "achieved", "on": "2026-11-16", "by": "anna"},
            409,
        )
        assert "over" in over["detail"]
        clock.now = at(2026, 11, 20)
        await call(http, f"/cases/{f2}/closure", {"outcome": "goals_met", "by": "anna"}, 200)
        clock.now = at(2026, 12, 1)
        await call(http, f"/cases/{f1}/closure", {"outcome": "phased_out", "by": "anna"}, 200)

        # --- December: one meeting short and too late to convene it --------------------------
        clock.now = at(2026, 12, 18)
        notices = scheduling.notices()
        assert [n["code"] for n in notices] == ["steering_group_too_late"]
        assert notices[0]["level"] == "critical"
        assert (
            "tell the administration that the coordinated support and network work "
            in (notices[0]["message"])
        )

        # --- the next year: the summary is due, then overdue, then submitted ----------------
        clock.now = at(2027, 1, 11)
        assert [n["code"] for n in intake.notices()] == ["quality_summary_due"]
        clock.now = at(2027, 4, 1)
        [overdue] = intake.notices()
        assert overdue["code"] == "quality_summary_overdue"
        assert (
            "the family counselling contract (2022), section 4.2, is overdue since "
            in (overdue["message"])
        )
        assert "`lots quality submit-summary 2026 --by NAME`" in overdue["message"]
        assert "§" not in overdue["message"]
        preview = (await http.get("/quality/summaries/2026")).json()
        assert preview["submitted_at"] is None
        summary = await call(http, "/quality/summaries/2026", {"by": "chef"}, 201)
        assert summary["due"] == "2027-03-31"
        # The lex Sarah summary counts lex Sarah reports and reports to IVO (003 §4.2) ...
        assert (summary["lex_sarah"]["reports"], summary["lex_sarah"]["reports_to_ivo"]) == (3, 1)
        assert summary["lex_sarah"]["handling"] == LEX_SARAH_HANDLING
        # ... and the other registers stand beside it, labelled, not counted into it.
        assert summary["complaints_and_views"]["received"] == 2
        assert summary["incidents"]["received"] == 2
        assert summary["ivo_supervision"]["received"] == 1
        for beside in ("complaints_and_views", "incidents", "ivo_supervision"):
            assert summary[beside]["label"].endswith("not lex Sarah")
        assert {k: v for k, v in preview.items() if k != "submitted_at"} == {
            k: v for k, v in summary.items() if k != "submitted_at"
        }
        assert intake.notices() == []

        await eventually(lambda: _published(intake, redis_client, settings, "intake.events"))
        await eventually(
            lambda: _published(scheduling, redis_client, settings, "scheduling.events")
        )
        on_redis = _everything_on_redis(redis_client, settings)

    for private in (NARRATIVE, GOAL_TEXT, NOTE, *NAMES):
        assert private not in on_redis
    assert "QualityEventRecorded" in on_redis and "FamilyAssessed" in on_redis

    env = {"LOTS_VAR_DIR": str(settings.var_dir), "LOTS_EMBEDDED_REDIS": "never"}
    export = tmp_path / "export.jsonl"
    assert CliRunner().invoke(cli, ["export", "--out", str(export)], env=env).exit_code == 0
    exported = export.read_text(encoding="utf-8")
    for private in (NARRATIVE, GOAL_TEXT, NOTE, *NAMES):
        assert private not in exported

    args = ["report", "year", "2026", "--format", "json", "--as-of", "2026-12-18"]
    live = CliRunner().invoke(cli, args, env=env)
    offline = CliRunner().invoke(cli, [*args, "--events", str(export)], env=env)
    assert live.exit_code == 0, live.output
    assert live.stdout == offline.stdout  # the same figures from the stores and the export
    report = json.loads(live.stdout)

    quality = report["quality"]
    lex_sarah = quality["lex_sarah"]
    assert lex_sarah["label"] == "lex Sarah summary: reports and reports to IVO (003 §4.2)"
    assert lex_sarah["reports"] == 3 and lex_sarah["reports_to_ivo"] == 1
    assert lex_sarah["reports_to_ivo_of_earlier_years"] == 0
    assert lex_sarah["copies_to_social_worker"] == 1
    assert lex_sarah["no_responsible_social_worker"] == 0
    assert lex_sarah["handling"] == LEX_SARAH_HANDLING
    assert sorted(r["handling"] for r in lex_sarah["reports_listed"]) == [
        "closed_after_report_to_ivo",
        "closed_without_report_to_ivo",
        "received",
    ]
    assert lex_sarah["reports_to_ivo_listed"][0]["reported_on"] == "2026-03-09"
    assert quality["complaints_and_views"] == {
        "label": "complaints and views (003 §4.3): not lex Sarah",
        "received": 2,
        "states": {"closed": 1, "investigating": 1},
        "complaints": 1,
        "views": 1,
        "through_provider": 1,
        "through_administration": 1,
        "concerning_administration": 1,
        "administration_informed": 1,
    }
    assert quality["incidents"] == {
        "label": "incidents, tillbud (003 §4.3): not lex Sarah",
        "received": 2,
        "states": {"closed": 1, "received": 1},
    }
    assert quality["ivo_supervision"] == {
        "label": "IVO supervision (003 §4.4): not lex Sarah",
        "received": 1,
        "states": {"concluded": 1},
        "administration_informed": 1,
    }
    assert quality["summary"]["status"] == "submitted_late"
    assert quality["summary"]["due"] == "2027-03-31"

    follow = report["coordinated_follow_up"]
    assert follow["families_followed"] == 3
    assert follow["kasam"] == {
        "pairs": 2,
        "mean_start": "45.0",
        "mean_follow_up": "53.5",
        "improved": 1,
        "unchanged": 0,
        "worsened": 1,
    }
    assert follow["sips"] == {"at_start": 1, "at_follow_up": 3}
    assert follow["families_ended"] == 2
    assert follow["occupation"] == {
        "parents_with_occupation_start": 0,
        "parents_with_occupation_end": 2,
        "improved": 1,
        "unchanged": 1,
        "worsened": 0,
    }
    assert follow["economy"] == {"improved": 1, "unchanged": 1, "worsened": 0}
    assert follow["goals"] == {
        "set": 3,
        "by_area": {"everyday_structure": 1, "occupation": 1, "school_eligibility": 1},
        "by_status": {"achieved": 1, "in_progress": 1, "not_achieved": 1},
    }
    assert follow["phase_out"] == {
        "families_with_plan": 1,
        "closed": 2,
        "closed_with_plan": 1,
        "closed_phased_out": 1,
    }

    received = at(2026, 1, 12)
    f1_days, f2_days = (at(2026, 12, 1) - received).days, (at(2026, 11, 20) - received).days
    assert report["throughput"]["coordinated"] == {
        "closed": 2,
        "median_days": (f1_days + f2_days) / 2,
        "mean_days": f"{(f1_days + f2_days) / 2:.1f}",
        "max_days": f1_days,
    }
    assert report["volumes"]["coordinated"] == {
        "unit": "families",
        "expected": 30,
        "actual": 4,
        "percent": 13,
    }
    assert report["volumes"]["network"]["actual"] == 1
    assert report["volumes"]["network"]["expected"] == 150
    assert report["volumes"]["counselling"]["expected"] == 300

    steering_figures = report["steering_group"]
    # October's meeting had no one from social services: held, but not one of the three (002).
    assert (steering_figures["held"], steering_figures["planned"]) == (1, 0)
    assert steering_figures["held_without_all_three"] == 1
    assert steering_figures["cancelled"] == 1 and steering_figures["missing"] == 2
    assert steering_figures["level"] == "too_late" and steering_figures["warning"] is True

    # In the case's history the narrative is hidden from an auditor, readable for a case officer.
    look = ["audit", "case", f1, "--reason", "complaint follow-up", "--json", "--role"]
    hidden = CliRunner().invoke(cli, [*look, "auditor"], env=env)
    shown = CliRunner().invoke(cli, [*look, "case_officer"], env=env)
    assert hidden.exit_code == 0 and shown.exit_code == 0
    assert NARRATIVE not in hidden.stdout and "(hidden)" in hidden.stdout
    assert NARRATIVE in shown.stdout and GOAL_TEXT in shown.stdout
    assert "labour_market_programme" in shown.stdout
    assert "labour_market_programme" not in hidden.stdout

    final = CliRunner().invoke(cli, ["report", "year", "2026", "--as-of", "2027-01-04"], env=env)
    assert final.exit_code == 0
    assert "WARNING: steering group 2026: only 1 held, fewer than the 3" in final.stdout
    assert "1 held without social services, education and the provider" in final.stdout
    assert (
        "lex Sarah summary 2026: 3 lex Sarah reports, 1 report to IVO; submitted_late "
        "(due 2027-03-31)" in final.stdout
    )
    assert "\nincidents, tillbud (003 §4.3): not lex Sarah\n  received" in final.stdout
    csv_out = CliRunner().invoke(cli, ["report", "year", "2026", "--format", "csv"], env=env)
    assert "lex Sarah summary: reports and reports to IVO (003 §4.2),lex Sarah reports,3" in (
        csv_out.stdout
    )
    assert "lex Sarah summary: reports and reports to IVO (003 §4.2),reports to IVO made,1" in (
        csv_out.stdout
    )
    assert "complaints and views (003 §4.3): not lex Sarah,received,2" in csv_out.stdout
    html_out = CliRunner().invoke(cli, ["report", "year", "2026", "--format", "html"], env=env)
    assert "<th>incidents, tillbud (003 §4.3): not lex Sarah</th><th>received</th><td>2" in (
        html_out.stdout
    )


def _published(
    app: Intake | Scheduling, client: redis.Redis, settings: Settings, stream: str
) -> bool:
    return client.xlen(settings.stream(stream)) >= sum(1 for _ in export_lines(app))


def _everything_on_redis(client: redis.Redis, settings: Settings) -> str:
    texts = []
    for key in client.scan_iter(match=f"{settings.stream_prefix}*"):
        if client.type(key) == "stream":
            for _, fields in cast(list[tuple[str, dict[str, str]]], client.xrange(key)):
                texts.append(json.dumps(fields, ensure_ascii=False))
    return "\n".join(texts)


def test_report_year_refuses_bad_arguments_with_a_message(settings: Settings) -> None:
    env = {"LOTS_VAR_DIR": str(settings.var_dir), "LOTS_EMBEDDED_REDIS": "never"}
    bad_date = CliRunner().invoke(cli, ["report", "year", "2026", "--as-of", "soon"], env=env)
    assert bad_date.exit_code == 2 and "--as-of 'soon' is not a date" in bad_date.output
    missing = CliRunner().invoke(
        cli, ["report", "year", "2026", "--events", str(settings.var_dir / "nope")], env=env
    )
    assert missing.exit_code == 2 and "cannot read" in missing.output
    summary = CliRunner().invoke(cli, ["quality", "submit-summary", "1999", "--by", "x"], env=env)
    assert summary.exit_code == 2 and "1999" in summary.output


def test_an_empty_year_reports_zeros_and_a_steering_group_short() -> None:
    from lots.report import yearly

    report = yearly([], 2026, date(2026, 6, 1))
    assert report["steering_group"]["level"] == "short"
    assert report["steering_group"]["missing"] == 3
    assert report["quality"]["summary"]["status"] == "year_running"
    assert report["quality"]["lex_sarah"]["reports"] == 0
    assert report["quality"]["lex_sarah"]["reports_to_ivo"] == 0
    assert report["coordinated_follow_up"]["kasam"]["mean_start"] is None
    assert report["volumes"]["counselling"]["percent"] == 0
    assert yearly([], 2026, date(2027, 4, 1))["quality"]["summary"]["status"] == "overdue"


def test_the_new_commands_are_documented_in_openapi(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from services.intake.http import routers as intake_routers
    from tests.support.intake import make_intake

    clock = Clock(at(2026, 3, 2))
    intake, scheduling = make_intake(settings, clock), build(settings, clock=clock)
    try:
        for app, routers, paths in (
            (
                intake,
                intake_routers,
                [
                    "/quality/records",
                    "/quality/records/{record_id}/steps",
                    "/quality/summaries/{year}",
                    "/cases/{case_id}/follow-up/assessments",
                    "/cases/{case_id}/follow-up/goals",
                    "/cases/{case_id}/follow-up/goals/{goal_id}",
                    "/cases/{case_id}/follow-up/phase-out",
                ],
            ),
            (
                scheduling,
                scheduling_routers,
                [
                    "/steering-group/meetings",
                    "/steering-group/meetings/{meeting_id}/held",
                    "/steering-group/meetings/{meeting_id}/cancel",
                ],
            ),
        ):
            runtime = Runtime(app.name, app, settings, settings.redis_url)  # type: ignore[arg-type]
            spec = TestClient(build_http(runtime, routers(app, runtime))).get("/openapi.json")
            documented = spec.json()["paths"]
            for path in paths:
                operation = documented[path]["post"]
                assert {"404", "422"} & set(operation["responses"]), path
    finally:
        intake.close()
        scheduling.close()


def test_status_shows_the_notices_as_warnings() -> None:
    from lots.status_text import render

    report = {
        "services": {},
        "streams": [],
        "service_levels": {},
        "notices": [
            {
                "service": "scheduling",
                "level": "critical",
                "code": "steering_group_too_late",
                "message": "steering group 2026: 2 held, 0 planned; 1 more needed, but ...",
            }
        ],
        "healthy": True,
        "problems": [],
    }
    lines = render(report)
    assert "CRITICAL: steering group 2026: 2 held, 0 planned; 1 more needed, but ..." in lines
