"""A school year of field work through the running system (seed 004).

Twenty polare are enrolled in intake over HTTP (the 21st is refused), two dated rate tables
are recorded in billing, a night walk every other Friday is reported to scheduling, and two
area deployments (one extended after a new consultation) are recorded. Then: billing's monthly
polare cost equals the fees worked out here by hand, the yearly reports of both calendar years
show the figures fed in, and no name, date of birth or personal number of a polar is in
scheduling's or billing's store, on Redis or in the services' log.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis

from infra.auth import Role
from infra.settings import Settings
from lots.supervisor import Supervisor, running
from services.intake.rules import age_on
from tests.conftest import free_port
from tests.support.flow import wait_until
from tests.support.intake import personal_number

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = datetime(2027, 7, 5, 10, 0, tzinfo=STOCKHOLM)
BRACKETS = ((13, 15), (16, 17), (18, 25))
#: öre per walk: [bracket][years - 1] for the 1st, 2nd, 3rd+ year in the activity.
AUTUMN = ((25_000, 27_500, 30_000), (30_000, 33_000, 36_000), (40_000, 44_000, 48_000))
SPRING = ((26_000, 28_500, 31_000), (31_000, 34_000, 37_000), (41_000, 45_000, 49_000))


@pytest.fixture
def system(settings: Settings, tmp_path: Path) -> Iterator[Supervisor]:
    ports = {f"{s}_port": free_port() for s in ("intake", "scheduling", "billing")}
    env = {"LOTS_SIMULATED_START": TODAY.isoformat()}
    with running(
        settings.model_copy(update=ports), env=env, log_file=tmp_path / "services.log"
    ) as supervisor:
        yield supervisor


def rows(grid: tuple[tuple[int, ...], ...]) -> list[dict[str, int]]:
    return [
        {"age_from": lo, "age_to": hi, "years_from": y, "ore_per_walk": grid[b][y - 1]}
        for b, (lo, hi) in enumerate(BRACKETS)
        for y in (1, 2, 3)
    ]


def by_hand(born: date, years: int, on: date) -> int:
    grid = SPRING if on >= date(2027, 1, 1) else AUTUMN
    age = age_on(born, on)
    [bracket] = [b for b, (lo, hi) in enumerate(BRACKETS) if lo <= age <= hi]
    return grid[bracket][min(years, 3) - 1]


def lots(system: Supervisor, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lots.cli", *args],
        env=system.child_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def field_column(system: Supervisor, year: int) -> dict[str, str]:
    done = lots(system, "report", "year", str(year), "--format", "csv")
    assert done.returncode == 0, done.stderr
    table = list(csv.reader(io.StringIO(done.stdout)))
    column = table[0].index("field")
    figures = table[1 : table.index([])] if [] in table else table[1:]  # then other sections
    return {row[0]: row[column] for row in figures}


def test_a_school_year_of_field_work_gives_the_seeds_figures_and_keeps_polare_private(
    system: Supervisor, settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    intake = system.client("intake", Role.STAFF, timeout=30)
    scheduling = system.client("scheduling", Role.STAFF, timeout=30)
    billing = system.client("billing", Role.STAFF, timeout=30)

    # --- the register: 20 polare for 2026/27, a 21st at once refused ----------------------------
    youths = []
    for i in range(21):
        born = date(2008 + i % 5, 1 + i % 12, 1 + i % 27)
        youths.append({
            "personal_number": personal_number(born, f"{300 + i:03d}"),
            "name": f"Polarnamn{i:02d} Efterssonsdotter", "born": born, "years_before": i % 3,
        })  # fmt: skip
    refs: list[str] = []
    for youth in youths[:20]:
        body = {k: youth[k] for k in ("personal_number", "name", "years_before")}
        answer = intake.post("/polare", json=body | {"enrolled_on": "2026-08-20",
                                                      "recorded_by": "fältledare"})  # fmt: skip
        assert answer.status_code == 201, answer.text
        assert answer.json()["years_in_activity"] == youth["years_before"] + 1
        assert "name" not in answer.json() and "personal_number" not in answer.json()
        refs.append(answer.json()["polar_ref"])
    last = youths[20]
    refused = intake.post("/polare", json={
        "personal_number": last["personal_number"], "name": last["name"],
        "enrolled_on": "2026-09-01", "recorded_by": "fältledare",
    })  # fmt: skip
    assert refused.status_code == 409
    assert refused.json()["detail"]["code"] == "school_year_full"
    assert "has 20 active polare on 2026-09-01" in refused.json()["detail"]["message"]
    again = intake.post("/polare", json={
        "personal_number": youths[0]["personal_number"], "name": youths[0]["name"],
        "enrolled_on": "2026-08-20", "recorded_by": "fältledare",
    })  # fmt: skip
    assert again.status_code == 201 and again.json()["new"] is False
    trained = intake.post(
        f"/polare/{refs[0]}/trainings",
        json={"course": "ledarskapsutbildning", "trained_on": "2026-08-29", "recorded_by": "x"},
    )
    assert trained.status_code == 201 and trained.json()["trainings"][0]["course"]
    assert len(intake.get("/polare", params={"school_year": "2026/27"}).json()) == 20

    # --- the rates: one table from the school year's start, a raise from 1 January ----------
    for start, grid in (("2026-07-01", AUTUMN), ("2027-01-01", SPRING)):
        made = billing.post(
            "/polare/rates",
            json={"effective_from": start, "rates": rows(grid), "reference": f"SOF-arvode-{start}"},
        )
        assert made.status_code == 201, made.text
    overlapping = [*rows(AUTUMN), {"age_from": 15, "age_to": 16, "years_from": 1,
                                   "ore_per_walk": 1}]  # fmt: skip
    bad = billing.post(
        "/polare/rates",
        json={"effective_from": "2027-02-01", "rates": overlapping, "reference": "x"},
    )
    assert bad.status_code == 422 and "same ages" in bad.text

    # --- the walks: every other Friday, five polare each ----------------------------------
    staff = {
        "staff_id": "falt-1",
        "provider": "leanlink",
        "programmes": ["field"],
        "competences": [],
        "weekly_capacity_hours": 40,
        "evenings": True,
        "weekends": True,
    }
    assert scheduling.post("/staff", json=staff).status_code == 201
    expected_fees: dict[str, int] = {}
    expected_walks: dict[str, int] = {}
    per_year: dict[int, dict[str, Any]] = {
        y: {"walks": 0, "met": 0, "talked": 0, "shifts": 0, "walked": set(), "fees": 0}
        for y in (2026, 2027)
    }
    stranger = str(uuid.uuid4())
    for k in range(20):
        day = date(2026, 9, 4) + timedelta(days=14 * k)
        walkers = [(k + j) % 20 for j in range(5)]
        met, talked = 20 + 3 * k, 3 + k % 4
        started = datetime(day.year, day.month, day.day, 18, 0, tzinfo=STOCKHOLM)
        polare = [refs[w] for w in walkers] + ([stranger] if k == 3 else [])
        walk = scheduling.post("/night-walks", json={
            "area": ["Berga", "Skäggetorp", "Ryd"][k % 3], "started_at": started.isoformat(),
            "ended_at": (started + timedelta(hours=5)).isoformat(), "staff": ["falt-1"],
            "polare": polare, "youths_met": met, "youths_talked_with": talked,
            "reported_by": "falt-1",
        })  # fmt: skip
        assert walk.status_code == 201, walk.text
        fees = sum(by_hand(youths[w]["born"], youths[w]["years_before"] + 1, day) for w in walkers)
        month = day.strftime("%Y-%m")
        expected_fees[month] = expected_fees.get(month, 0) + fees
        expected_walks[month] = expected_walks.get(month, 0) + 1
        tally = per_year[day.year]
        tally["walks"] += 1
        tally["met"] += met
        tally["talked"] += talked
        tally["shifts"] += 5
        tally["walked"].update(refs[w] for w in walkers)
        tally["fees"] += fees
    too_many_talks = scheduling.post("/night-walks", json={
        "area": "Ryd", "started_at": "2026-10-02T18:00:00+02:00",
        "ended_at": "2026-10-02T22:00:00+02:00", "staff": ["falt-1"], "polare": [],
        "youths_met": 3, "youths_talked_with": 4, "reported_by": "x"})  # fmt: skip
    assert too_many_talks.status_code == 422 and "talked with" in too_many_talks.text

    # --- area deployments: 1-12 weeks, extended after a consultation ---------------------
    def deploy(first: str, weeks: int, consulted: str) -> httpx.Response:
        return scheduling.post("/area-deployments", json={
            "area": "Skäggetorp", "reason": "oro efter skottlossning", "first_day": first,
            "weeks": weeks, "recorded_by": "enhetschef",
            "consultation": {"consulted_with": "omsorgskontoret, K. Berg",
                             "consulted_on": consulted},
        })  # fmt: skip

    for weeks in (0, 13):
        out_of_range = deploy("2026-10-05", weeks, "2026-10-01")
        assert out_of_range.status_code == 422 and "1 to 12 weeks" in out_of_range.text
    autumn = deploy("2026-10-05", 4, "2026-10-01")
    assert autumn.status_code == 201 and autumn.json()["last_day"] == "2026-11-01"
    summer = deploy("2027-06-21", 4, "2027-06-18")
    assert summer.status_code == 201, summer.text
    extension = {
        "weeks": 2,
        "reason": "oron består",
        "recorded_by": "enhetschef",
        "consultation": {
            "consulted_with": "omsorgskontoret, K. Berg",
            "consulted_on": "2027-07-02",
            "reference": "SOF-2027-88",
        },
    }
    ended = scheduling.post(f"/area-deployments/{autumn.json()['deployment_id']}/extensions",
                            json=extension)  # fmt: skip
    assert ended.status_code == 409 and "ended on 2026-11-01" in ended.text
    extended = scheduling.post(
        f"/area-deployments/{summer.json()['deployment_id']}/extensions", json=extension
    )
    assert extended.status_code == 200, extended.text
    assert (extended.json()["weeks"], extended.json()["last_day"]) == (6, "2027-08-01")
    assert extended.json()["extensions"][0]["consultation"]["consulted_on"] == "2027-07-02"

    # --- billing's monthly polare cost, against the field-work budget --------------------
    def month(m: str) -> dict[str, Any]:
        answer = billing.get(f"/polare/fees/{m}")
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    wait_until(lambda: all(month(m)["walks"] == n for m, n in expected_walks.items()))
    assert {m: month(m)["fees_ore"] for m in expected_fees} == expected_fees
    assert expected_walks["2026-10"] == 3 and month("2026-10")["polare_walks"] == 15
    october = month("2026-10")
    assert october["not_paid"] == [
        {"walk_id": october["not_paid"][0]["walk_id"], "polar_ref": stranger,
         "reason": "unknown_polar"}
    ]  # fmt: skip
    assert october["budget"]["yearly_ore"] == 500_000_000
    december = month("2026-12")
    assert december["year_to_date_ore"] == per_year[2026]["fees"]
    assert december["budget"]["month_share_ore"] == 41_666_667  # R(5 MSEK x 12/12) - R(x 11/12)
    assert december["budget"]["year_to_date_share_ore"] == 500_000_000
    assert month("2027-06")["year_to_date_ore"] == per_year[2027]["fees"]
    assert billing.get("/polare/fees/2027-13").status_code == 400

    # --- the yearly reports ---------------------------------------------------------------
    columns = {year: field_column(system, year) for year in (2026, 2027)}
    for year, deployments, weeks in ((2026, 1, 4), (2027, 1, 6)):
        tally = per_year[year]
        column = columns[year]
        assert column["night walks"] == str(tally["walks"])
        assert column["young people met"] == str(tally["met"])
        assert column["young people talked with"] == str(tally["talked"])
        assert column["polare walk shifts"] == str(tally["shifts"])
        assert column["polare who walked"] == str(len(tally["walked"]))
        assert column["polare fees (SEK, provider's cost)"] == f"{tally['fees'] // 100}.00"
        assert column["area deployments started"] == str(deployments)
        assert column["area deployment weeks"] == str(weeks)
    assert columns[2026]["polare enrolled (school year from 1 July)"] == "20"
    assert columns[2027]["polare enrolled (school year from 1 July)"] == "0"

    # --- no polar's personal data outside intake ---------------------------------------------
    secrets = [s for y in youths for s in (y["name"], y["personal_number"],
                                          y["born"].isoformat())]  # fmt: skip
    secrets += [y["name"].split()[0] for y in youths]
    var = Path(settings.var_dir)
    outside = [
        p for p in var.rglob("*") if p.is_file() and p.name.startswith(("scheduling", "billing"))
    ]
    assert any(p.name == "scheduling.sqlite" for p in outside)
    for path in [*outside, tmp_path / "services.log"]:
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, (path.name, secret)
    on_redis = []
    for key in redis_client.scan_iter(match=f"{settings.stream_prefix}*", count=1000):
        kind = redis_client.type(key)
        if kind == "stream":
            on_redis.extend(str(f) for _, f in redis_client.xrange(key))
        elif kind == "string":
            on_redis.append(str(redis_client.get(key)))
        elif kind == "hash":
            on_redis.append(str(redis_client.hgetall(key)))
    assert any("NightWalkReported" in e for e in on_redis)
    dumped = "\n".join(on_redis)
    for secret in secrets:
        assert secret not in dumped, secret
    intake_store = (var / "intake.sqlite").read_bytes()
    assert youths[0]["name"].encode() not in intake_store  # encrypted, and sealed
