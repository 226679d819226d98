"""The steering group's year through scheduling, on SQLite and PostgreSQL and over HTTP: a
meeting counts only when social services, education and the provider attended (002), and only
the part of a year the contract term covers is judged, pro rata."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from infra.auth import Role
from infra.settings import Settings
from services.scheduling.application import Scheduling
from services.scheduling.http import routers
from services.scheduling.policy import SchedulingPolicy
from services.scheduling.settings import SchedulingSettings
from services.scheduling.steering_rule import DEFAULT_TERM, MEMBERS, Term
from tests.integration.test_scheduling_support import Clock, local, scheduling
from tests.support.auth import api, headers

#: The contract as first agreed (002), not extended: it ends inside 2021.
FIRST_TERM = Term(date(2018, 9, 1), date(2021, 8, 31))


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2021, 1, 11, 9))


def serve(app: Scheduling, settings: Settings) -> TestClient:
    return TestClient(api(settings, routers(app)), headers=headers(settings, Role.STAFF))


@pytest.fixture
def http(store_settings: Settings, clock: Clock) -> Iterator[tuple[Scheduling, TestClient]]:
    app = scheduling(store_settings, clock, SchedulingPolicy(steering_term=FIRST_TERM))
    with serve(app, store_settings) as client:
        yield app, client
    app.close()


def plan(client: TestClient, month: int, day: int) -> str:
    body = {"starts_at": local(2021, month, day, 10).isoformat(),
            "ends_at": local(2021, month, day, 12).isoformat(), "by": "teamleader"}  # fmt: skip
    answer = client.post("/steering-group/meetings", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["meeting_id"])


def hold(client: TestClient, meeting_id: str, month: int, day: int, who: list[str]) -> None:
    body = {"started_at": local(2021, month, day, 10).isoformat(),
            "ended_at": local(2021, month, day, 12).isoformat(), "organisations": who,
            "by": "teamleader"}  # fmt: skip
    answer = client.post(f"/steering-group/meetings/{meeting_id}/held", json=body)
    assert answer.status_code == 200, answer.text


def outlook(client: TestClient, year: int = 2021) -> dict[str, Any]:
    answer = client.get("/steering-group/outlook", params={"year": year})
    assert answer.status_code == 200
    return dict(answer.json())


def test_a_meeting_counts_only_with_the_three_organisations_and_the_term_is_judged_pro_rata(
    http: tuple[Scheduling, TestClient], clock: Clock, store_settings: Settings
) -> None:
    app, client = http
    first, second, third = plan(client, 2, 10), plan(client, 5, 11), plan(client, 10, 12)
    seen = outlook(client)
    # 2021 is covered from January to August: 3 x 8 / 12 = 2 meetings; October's is outside.
    assert (seen["required"], seen["planned"], seen["level"]) == (2, 2, "on_track")
    assert (seen["covered_from"], seen["covered_to"]) == ("2021-01-01", "2021-08-31")
    clock.now = local(2021, 2, 10, 14)
    hold(client, first, 2, 10, sorted(MEMBERS | {"labour_market"}))
    clock.now = local(2021, 5, 11, 14)
    hold(client, second, 5, 11, ["provider", "social_services", "region"])  # no education
    seen = outlook(client)
    assert (seen["held"], seen["incomplete"], seen["missing"], seen["level"]) == (
        1, 1, 1, "short",
    )  # fmt: skip
    [short] = app.notices()
    assert short["code"] == "steering_group_short"
    assert (
        "to reach the 2 that the coordinated support and network work contract (2018) asks "
        in (short["message"])
    )
    assert "plan them (POST /steering-group/meetings" in short["message"]
    clock.now = local(2021, 9, 1, 9)  # the term has ended: the verdict on 2021 is final
    seen = outlook(client)
    assert seen["level"] == "fell_short" and "only 1 held, fewer than the 2" in seen["message"]
    assert "the contract covers 2021-01-01 to 2021-08-31: 2 required" in seen["message"]
    assert "without social services, education and the provider" in seen["message"]
    assert seen["required"] == 2 and seen["held"] == 1
    clock.now = local(2021, 10, 12, 14)
    hold(client, third, 10, 12, sorted(MEMBERS))  # after the term: counts for no year judged
    assert outlook(client)["held"] == 1
    assert outlook(client, 2022)["level"] == "no_term" and outlook(client, 2022)["required"] == 0
    assert outlook(client, 2018)["required"] == 1  # September to December 2018

    # Read again from the store by a new instance: who attended was kept with each meeting.
    again = scheduling(store_settings, clock, SchedulingPolicy(steering_term=FIRST_TERM))
    try:
        with serve(again, store_settings) as other:
            assert outlook(other) == outlook(client)
    finally:
        again.close()


def test_the_term_is_a_setting_from_2018_09_01_until_further_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert SchedulingSettings().steering_term() == DEFAULT_TERM == Term(date(2018, 9, 1))
    monkeypatch.setenv("LOTS_SCHEDULING_STEERING_TERM_TO", "2021-08-31")
    assert SchedulingSettings().policy().steering_term == FIRST_TERM
    monkeypatch.setenv("LOTS_SCHEDULING_STEERING_TERM_TO", "2018-08-31")
    with pytest.raises(ValidationError, match="ends on or after"):
        SchedulingSettings()
