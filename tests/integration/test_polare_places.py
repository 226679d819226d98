"""Seed 004's 20 polare on a real store (SQLite and PostgreSQL): "läsårsvis rekrytera ... 20
ungdomar" is the number recruited per school year, so at most 20 are active at once; a
drop-out recorded with its day frees the place for a replacement; more is refused with a
reason in words (as a PolareError, over HTTP with 409, on the command line with exit 1) that
names no person."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from infra.settings import Settings
from infra.store import store_env
from lots.cli import app as cli
from lots.field_report import field_figures
from services.billing.application import Billing
from services.intake import polare, polare_commands
from services.intake.polare_leave import leave, places
from services.scheduling.app import build
from tests.integration.test_field_work_rules import FIELD_STAFF, FieldWork
from tests.integration.test_lex_sarah_summary import cli_env
from tests.support.intake import Clock, make_intake, personal_number, running_intake

SCHOOL_YEAR = "2026/27"


@pytest.fixture
def work(store_settings: Settings) -> Iterator[FieldWork]:
    clock = Clock(datetime(2027, 7, 5, 10, 0, tzinfo=UTC))
    intake = make_intake(store_settings, clock)
    scheduling = build(store_settings, clock=clock)
    billing = Billing(store_env(store_settings, "billing"), clock=clock)
    scheduling.register_staff(dict(FIELD_STAFF))
    yield FieldWork(clock, intake, scheduling, billing)
    for app in (intake, scheduling, billing):
        app.close()


def twenty(work: FieldWork) -> list[UUID]:
    return [
        work.enrol(date(2009, 1 + n % 12, 1 + n), serial=f"{400 + n}").polar.id for n in range(20)
    ]


def refused(work: FieldWork, code: str, **kw: Any) -> str:
    with pytest.raises(polare.PolareError) as caught:
        args: dict[str, Any] = {"born": date(2011, 5, 5), "serial": "499"} | kw
        work.enrol(**args)
    assert caught.value.code == code, caught.value
    return str(caught.value)


def test_twenty_at_once_then_a_replacement_for_each_drop_out(work: FieldWork) -> None:
    refs = twenty(work)
    said = refused(work, "school_year_full", enrolled_on=date(2026, 9, 1))
    assert said.startswith("school year 2026/27 has 20 active polare on 2026-09-01, the most")
    assert personal_number(date(2011, 5, 5), "499") not in said and "Namn" not in said

    gone = leave(work.intake, refs[3], date(2026, 10, 1), "fältledare")
    assert (gone.new, gone.active, gone.school_year) == (True, 19, SCHOOL_YEAR)
    # Not before the day the drop-out left: on 20 September the 20 were all still active.
    assert "on 2026-09-20" in refused(work, "school_year_full", enrolled_on=date(2026, 9, 20))
    replacement = work.enrol(date(2011, 5, 5), serial="499", enrolled_on=date(2026, 10, 1))
    assert replacement.new and replacement.polar.enrolled[SCHOOL_YEAR] == date(2026, 10, 1)
    refused(
        work, "school_year_full", born=date(2011, 6, 6), serial="498", enrolled_on=date(2026, 10, 2)
    )

    # One more drop-out, replaced on 10 December; a polar dated back to the day of the
    # drop-out would make 21 from 10 December, so it is refused, naming that day.
    leave(work.intake, refs[4], date(2026, 12, 1), "fältledare")
    work.enrol(date(2011, 6, 6), serial="498", enrolled_on=date(2026, 12, 10))
    said = refused(
        work, "school_year_full", born=date(2011, 7, 7), serial="497", enrolled_on=date(2026, 12, 1)
    )
    assert "has 20 active polare on 2026-12-10" in said

    assert places(work.intake, SCHOOL_YEAR, date(2027, 1, 10)) == {
        "school_year": SCHOOL_YEAR,
        "on": "2027-01-10",
        "at_once": 20,
        "active": 20,
        "free": 0,
        "enrolled": 22,
        "left": 2,
    }
    assert places(work.intake, SCHOOL_YEAR, date(2026, 11, 1))["active"] == 20
    listed = {p["polar_ref"]: p for p in polare_commands.register(work.intake, SCHOOL_YEAR)}
    assert len(listed) == 22 and listed[str(refs[3])]["left_on"] == "2026-10-01"
    # The next school year is a new roll.
    assert work.enrol(date(2011, 7, 7), serial="497", enrolled_on=date(2027, 7, 1)).new

    _, out = work.intake.outbox(0, 10_000)
    published = [o.message.model_dump(mode="json") for o in out]
    left = [m for m in published if "left_on" in m]
    assert [(m["left_on"], m["active_in_school_year"]) for m in left] == [
        ("2026-10-01", 19),
        ("2026-12-01", 19),
    ]
    exported = [
        {"id": str(o.id), "type": o.message.type_name, "data": o.message.model_dump(mode="json")}
        for o in out
    ]
    figures = field_figures(exported, 2026)
    assert (figures["polare_enrolled"], figures["polare_left"]) == (22, 2)
    enrolled = [m for m in published if "enrolled_in_school_year" in m]
    assert [m["active_in_school_year"] for m in enrolled][20:] == [20, 20, 1]
    assert [m["enrolled_in_school_year"] for m in enrolled][20:] == [21, 22, 1]


def test_a_drop_out_is_recorded_once_within_what_the_register_knows(work: FieldWork) -> None:
    ref = work.enrol(date(2010, 3, 1), enrolled_on=date(2026, 9, 1)).polar.id

    def no(code: str, on: date, **kw: Any) -> None:
        with pytest.raises(polare.PolareError) as caught:
            leave(work.intake, ref, on, "fältledare", **kw)
        assert caught.value.code == code, caught.value

    with pytest.raises(polare.UnknownPolar):
        leave(work.intake, UUID(int=7), date(2026, 10, 1), "x")
    no("in_the_future", date(2027, 7, 6))
    no("invalid_school_year", date(2026, 10, 1), school_year="2027/28")
    no("not_enrolled", date(2027, 7, 2))
    no("before_enrolment", date(2026, 8, 31))
    assert leave(work.intake, ref, date(2026, 10, 1), "x").new
    assert leave(work.intake, ref, date(2026, 10, 1), "x").new is False
    no("already_left", date(2026, 10, 2))
    # Left is left for the school year; the next one they may join again.
    said = refused(work, "left_school_year", born=date(2010, 3, 1), serial="301")
    assert "left school year 2026/27 on 2026-10-01" in said
    assert work.enrol(date(2010, 3, 1), enrolled_on=date(2027, 7, 1)).new


def test_no_walk_is_attested_from_the_day_a_polar_left_nor_before_it(work: FieldWork) -> None:
    ref = work.enrol(date(2010, 3, 1)).polar.id
    work.walk(date(2026, 9, 4), [ref])
    work.carry()
    with pytest.raises(polare.PolareError) as caught:
        leave(work.intake, ref, date(2026, 9, 4), "fältledare")
    assert caught.value.code == "walked_after_leaving"
    assert "walked a night walk on 2026-09-04" in str(caught.value)
    leave(work.intake, ref, date(2026, 9, 5), "fältledare")
    work.walk(date(2026, 9, 11), [ref])
    work.walk(date(2026, 9, 3), [ref])  # reported late, before they left: attested
    work.carry()
    _, out = work.intake.outbox(0, 10_000)
    walks = [o.message.model_dump(mode="json") for o in out]
    attested = {
        w["walked_on"]: (len(w["attested"]), [n["reason"] for n in w["not_attested"]])
        for w in walks
        if "not_attested" in w
    }
    assert attested == {
        "2026-09-04": (1, []),
        "2026-09-11": (0, ["not_enrolled"]),
        "2026-09-03": (1, []),
    }


async def test_over_http_the_twenty_first_is_409_in_words(store_settings: Settings) -> None:
    clock = Clock(datetime(2026, 11, 2, 10, tzinfo=UTC))
    async with running_intake(store_settings, clock) as (_, _, http):

        async def enrol(n: int, on: str) -> Any:
            body = {
                "personal_number": personal_number(date(2009, 1 + n % 12, 1 + n), f"{500 + n}"),
                "name": f"Polarnamn{n:02d} Hemligsson",
                "enrolled_on": on,
                "recorded_by": "fältledare",
            }
            return await http.post("/polare", json=body)

        refs = []
        for n in range(20):
            answer = await enrol(n, "2026-08-20")
            assert answer.status_code == 201, answer.text
            refs.append(answer.json()["polar_ref"])
        full = await enrol(20, "2026-09-01")
        assert full.status_code == 409
        assert full.json()["detail"]["code"] == "school_year_full"
        message = full.json()["detail"]["message"]
        assert message.startswith("school year 2026/27 has 20 active polare on 2026-09-01")
        assert "Hemligsson" not in full.text and personal_number(date(2009, 9, 21), "520") not in (
            full.text
        )
        gone = await http.post(
            f"/polare/{refs[0]}/leave", json={"left_on": "2026-10-01", "recorded_by": "fältledare"}
        )
        assert gone.status_code == 200, gone.text
        assert gone.json()["left_on"] == "2026-10-01" and gone.json()["active_in_school_year"] == 19
        again = await http.post(
            f"/polare/{refs[0]}/leave", json={"left_on": "2026-10-02", "recorded_by": "x"}
        )
        assert again.status_code == 409 and again.json()["detail"]["code"] == "already_left"
        assert (await enrol(20, "2026-10-01")).status_code == 201
        seen = await http.get(
            "/polare/places", params={"school_year": SCHOOL_YEAR, "on": "2026-10-01"}
        )
        assert seen.json() | {} == {
            "school_year": SCHOOL_YEAR,
            "on": "2026-10-01",
            "at_once": 20,
            "active": 20,
            "free": 0,
            "enrolled": 21,
            "left": 1,
        }
        early = await http.post(
            f"/polare/{refs[1]}/leave", json={"left_on": "2026-08-01", "recorded_by": "x"}
        )
        assert early.status_code == 422 and early.json()["detail"]["code"] == "before_enrolment"


def test_on_the_command_line_the_twenty_first_is_refused_in_words(
    store_settings: Settings,
) -> None:
    clock = Clock(datetime(2026, 11, 2, 10, tzinfo=UTC))
    intake = make_intake(store_settings, clock)
    try:
        refs = [
            polare_commands.enroll(
                intake,
                personal_number=personal_number(date(2009, 1 + n % 12, 1 + n), f"{600 + n}"),
                name=f"Namn {n}",
                enrolled_on=date(2026, 8, 20),
                recorded_by="x",
            ).polar.id
            for n in range(20)
        ]
    finally:
        intake.close()
    env = cli_env(store_settings, "2026-11-02T10:00:00+00:00")
    number = personal_number(date(2011, 5, 5), "699")
    args = ["polare", "enrol", "--enrolled-on", "2026-09-01", "--recorded-by", "fältledare"]

    full = CliRunner().invoke(cli, args, env=env, input=f"{number}\nAlva Hemligsson\n")
    assert full.exit_code == 1
    assert full.stderr.startswith("error: school year 2026/27 has 20 active polare on 2026-09-01")
    assert full.stderr.rstrip().endswith("(school_year_full)")
    # Only the prompts (and the name as typed, echoed like a terminal does) precede it.
    assert full.stdout == "personal number: \nname: Alva Hemligsson\n"
    assert number not in full.stderr and "Hemligsson" not in full.stderr

    gone = CliRunner().invoke(
        cli, ["polare", "leave", str(refs[0]), "--on", "2026-10-01", "--recorded-by", "x"], env=env
    )
    assert gone.exit_code == 0, gone.output
    assert gone.stdout.startswith(f"left: polar {refs[0]}, school year 2026/27, from 2026-10-01")
    assert "19 of 20 places taken on 2026-10-01, 1 free" in gone.stdout

    args[3] = "2026-10-01"
    enrolled = CliRunner().invoke(cli, args, env=env, input=f"{number}\nAlva Hemligsson\n")
    assert enrolled.exit_code == 0, enrolled.output
    assert "20 of 20 places taken" in enrolled.stdout
    said = enrolled.stdout.removeprefix("personal number: \nname: Alva Hemligsson\n")
    assert said.startswith("enrolled: polar ") and number not in said and "Hemligsson" not in said

    seen = CliRunner().invoke(
        cli, ["polare", "places", SCHOOL_YEAR, "--on", "2026-10-01", "--json"], env=env
    )
    assert json.loads(seen.stdout)["enrolled"] == 21 and json.loads(seen.stdout)["left"] == 1
    unknown = CliRunner().invoke(
        cli,
        ["polare", "leave", str(UUID(int=9)), "--on", "2026-10-01", "--recorded-by", "x"],
        env=env,
    )
    assert unknown.exit_code == 2 and "no polar" in unknown.stderr
