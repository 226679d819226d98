"""The lex Sarah summary of seed 003 §4.2 on a real store (SQLite and PostgreSQL), through
intake's commands, its public event and ``lots quality submit-summary``: a year with every
kind of register entry, the lex Sarah count and the count of reports to IVO exact, complaints,
incidents and supervision beside them, labelled."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from typer.testing import CliRunner

from infra.settings import Settings
from lots.cli import app as cli
from services.intake.application import Intake
from services.intake.quality import QualitySummary
from tests.support.intake import Clock, make_intake


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 9, tzinfo=UTC)


def cli_env(settings: Settings, now: str) -> dict[str, str]:
    """The environment that gives ``lots`` the same store as ``settings``, at time ``now``."""
    env = {
        "LOTS_VAR_DIR": str(settings.var_dir),
        "LOTS_EMBEDDED_REDIS": "never",
        "LOTS_STORE": settings.store,
        "LOTS_SIMULATED_START": now,
    }
    if settings.store == "postgres":
        for key in ("host", "port", "user", "dbname", "schema_prefix"):
            env[f"LOTS_POSTGRES_{key.upper()}"] = str(getattr(settings, f"postgres_{key}"))
    return env


def a_year_of_registers(intake: Intake, clock: Clock) -> None:
    """2025 with every kind of entry, and one lex Sarah report on each side of the year."""

    def record(register: str, **extra: Any) -> UUID:
        made = intake.record_quality_event(register, clock.now.date(), "anna", **extra)
        return UUID(str(made.id))

    def step(record_id: UUID, name: str, copy: str | None = None) -> None:
        intake.handle_quality_event(record_id, name, "chef", social_worker_copy=copy)

    clock.now = at(2024, 12, 20)
    last_year = record("lex_sarah")  # a report of 2024 ...
    step(last_year, "investigate")
    clock.now = at(2025, 1, 7)
    step(last_year, "report_to_ivo", "no_responsible_social_worker")  # ... reported to IVO in 2025
    clock.now = at(2025, 3, 3)
    reported = record("lex_sarah", programme="counselling")
    complaint = record(
        "complaint", category="complaint", channel="administration", concerns_administration=True
    )
    record("complaint", category="view", channel="provider")
    incident = record("incident")
    record("incident")
    supervision = record("supervision")
    clock.now = at(2025, 3, 10)
    step(reported, "investigate")
    step(reported, "report_to_ivo", "sent")
    step(complaint, "investigate")
    step(complaint, "inform_administration")
    step(incident, "investigate")
    step(supervision, "inform_administration")
    clock.now = at(2025, 4, 1)
    closed = record("lex_sarah")
    step(closed, "investigate")
    step(closed, "close")
    clock.now = at(2025, 5, 2)
    step(reported, "close")
    clock.now = at(2025, 12, 29)
    december = record("lex_sarah")  # a report of 2025 ...
    clock.now = at(2025, 12, 30)
    step(december, "investigate")
    clock.now = at(2026, 1, 8)
    step(december, "report_to_ivo", "sent")  # ... reported to IVO in 2026


def test_the_summary_counts_lex_sarah_reports_and_reports_to_ivo_apart_from_the_rest(
    store_settings: Settings,
) -> None:
    clock = Clock(at(2024, 12, 20))
    intake = make_intake(store_settings, clock)
    try:
        a_year_of_registers(intake, clock)
        clock.now = at(2026, 2, 10)
        summary, figures = intake.submit_quality_summary(2025, "verksamhetschef")
        _, published = intake.outbox(0, 10_000)
        following = intake.quality_year_summary(2026)["lex_sarah"]
    finally:
        intake.close()

    lex = figures["lex_sarah"]
    assert (lex["reports"], lex["reports_to_ivo"]) == (3, 2)
    assert lex["reports_to_ivo_of_earlier_years"] == 1
    assert (lex["copies_to_social_worker"], lex["no_responsible_social_worker"]) == (1, 1)
    assert lex["handling"] == {
        "received": 0,
        "investigating": 1,  # December's: reported to IVO only in 2026
        "reported_to_ivo": 0,
        "closed_after_report_to_ivo": 1,
        "closed_without_report_to_ivo": 1,
    }
    assert [r["programme"] for r in lex["reports_listed"]] == ["counselling", None, None]
    assert figures["complaints_and_views"]["received"] == 2
    assert figures["complaints_and_views"]["administration_informed"] == 1
    assert figures["incidents"] == {
        "label": "incidents, tillbud (003 §4.3): not lex Sarah",
        "received": 2,
        "states": {"investigating": 1, "received": 1},
    }
    assert figures["ivo_supervision"]["received"] == 1
    # The year after counts December's report to IVO, and no report of its own.
    assert (following["reports"], following["reports_to_ivo"]) == (0, 1)

    assert (summary.lex_sarah_reports, summary.reports_to_ivo, summary.records) == (3, 2, 8)
    submitted = [o.message for o in published if o.message.type_name == "QualitySummarySubmitted"]
    assert len(submitted) == 1
    assert submitted[0].model_dump(include={
        "year", "records", "lex_sarah_reports", "reports_to_ivo", "complaints_and_views",
        "incidents", "supervisions",
    }) == {
        "year": 2025, "records": 8, "lex_sarah_reports": 3, "reports_to_ivo": 2,
        "complaints_and_views": 2, "incidents": 2, "supervisions": 1,
    }  # fmt: skip


def test_submit_summary_says_the_lex_sarah_figures_and_labels_the_rest(
    store_settings: Settings,
) -> None:
    clock = Clock(at(2024, 12, 20))
    intake = make_intake(store_settings, clock)
    try:
        a_year_of_registers(intake, clock)
    finally:
        intake.close()
    env = cli_env(store_settings, "2026-03-02T09:00:00+00:00")

    said = CliRunner().invoke(cli, ["quality", "submit-summary", "2025", "--by", "chef"], env=env)
    assert said.exit_code == 0, said.output
    lines = said.stdout.splitlines()
    assert lines[0].startswith("lex Sarah summary of 2025 submitted 2026-03-02T09:00")
    assert lines[0].endswith("(on time, due 2026-03-31)")
    assert "  lex Sarah summary: reports and reports to IVO (003 §4.2)" in lines
    assert "    lex Sarah reports received      3" in lines
    assert "    reports to IVO made             2 (of earlier years' reports: 1)" in lines
    assert "    copies to the social worker     1 (no responsible social worker: 1)" in lines
    assert (
        "    on 31 December                  1 investigating, 1 closed after a report to IVO, "
        "1 closed without a report to IVO"
    ) in lines
    assert sum(") reported to IVO 2025-" in line for line in lines) == 2
    assert (
        "  complaints and views (003 §4.3): not lex Sarah: 2 received "
        "(1 investigating, 1 received on 31 December)"
    ) in lines
    assert (
        "  incidents, tillbud (003 §4.3): not lex Sarah: 2 received "
        "(1 investigating, 1 received on 31 December)"
    ) in lines
    assert any(line.startswith("  IVO supervision (003 §4.4): not lex Sarah: 1") for line in lines)

    # Submitting again keeps the first; --json gives the same figures to a program.
    again = CliRunner().invoke(
        cli, ["quality", "submit-summary", "2025", "--by", "x", "--json"], env=env
    )
    assert again.exit_code == 0, again.output
    body = json.loads(again.stdout)
    assert body["submitted_at"].startswith("2026-03-02T09:00")
    assert (body["lex_sarah"]["reports"], body["lex_sarah"]["reports_to_ivo"]) == (3, 2)
    assert body["incidents"]["label"].endswith("not lex Sarah")

    intake = make_intake(store_settings, Clock(at(2026, 3, 3)))
    try:
        stored = intake.repository.get(QualitySummary.create_id(2025))
        assert (stored.lex_sarah_reports, stored.reports_to_ivo) == (3, 2)
        assert intake.quality_summary_submitted(2025) == stored.submitted_at
        assert intake.quality_summary_submitted(2024) is None
    finally:
        intake.close()
    assert date.fromisoformat(body["due"]) == date(2026, 3, 31)
