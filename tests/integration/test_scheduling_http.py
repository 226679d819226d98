"""Scheduling over HTTP: documented in OpenAPI, refused input answered 4xx with a sentence that
says what was wrong, never 500; the whole path from queue to a held meeting."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.auth import Role
from infra.settings import Settings
from services.scheduling.application import Scheduling
from services.scheduling.http import routers
from tests.integration.test_scheduling_support import Clock, deliver, local, referral, scheduling
from tests.support.auth import api, headers

MONDAY = local(2026, 3, 2, 8)
ANNA = {
    "staff_id": "anna",
    "provider": "leanlink",
    "programmes": ["counselling"],
    "competences": ["violence_in_close_relationships"],
    "weekly_capacity_hours": 20,
}


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Scheduling:
    return scheduling(settings, clock)


@pytest.fixture
def http(app: Scheduling, settings: Settings) -> Iterator[TestClient]:
    with TestClient(api(settings, routers(app)), headers=headers(settings, Role.STAFF)) as client:
        yield client


def test_the_commands_and_queries_are_documented_in_openapi(http: TestClient) -> None:
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/staff", "post"),
        ("/staff/{staff_id}", "put"),
        ("/queue", "get"),
        ("/queue/{case_id}", "get"),
        ("/cases/{case_id}/wishes", "put"),
        ("/bookings/first-contacts", "post"),
        ("/cases/{case_id}/network-plan", "post"),
        ("/meetings", "post"),
        ("/meetings/{meeting_id}/reschedule", "post"),
        ("/meetings/{meeting_id}/cancel", "post"),
        ("/meetings/{meeting_id}/no-show", "post"),
        ("/meetings/{meeting_id}/held", "post"),
        ("/field-activities", "post"),
        ("/wait-times", "get"),
    ]:
        operation = paths[path][method]
        assert operation.get("description") or operation.get("summary"), path
    assert {"409", "422"} <= set(paths["/meetings"]["post"]["responses"])
    competences = spec["components"]["schemas"]["StaffIn"]["properties"]["competences"]
    assert "sexology" in json.dumps(competences)


def test_from_the_queue_to_a_held_meeting_over_http(
    http: TestClient, app: Scheduling, clock: Clock
) -> None:
    assert http.post("/staff", json=ANNA).status_code == 201
    assert http.post("/staff", json=ANNA).status_code == 201  # the same record: no change
    message = referral(MONDAY)
    deliver(app, message)
    case_id = str(message.case_id)
    place = http.get(f"/queue/{case_id}").json()
    assert place == {
        "case_id": case_id,
        "in_queue": True,
        "place": 1,
        "of": 1,
        "programme_place": 1,
        "programme_of": 1,
    }
    wishes = {"needs": ["violence_in_close_relationships"], "evenings": False, "weekends": False}
    assert http.put(f"/cases/{case_id}/wishes", json=wishes).json()["needs"] == wishes["needs"]
    booked = http.post("/bookings/first-contacts", json={"limit": 5}).json()
    (meeting,) = booked["booked"]
    assert meeting["staff"] == ["anna"] and meeting["starts_at"].endswith("+01:00")
    assert http.get("/queue").json()[0]["first_contact"]["meeting_id"] == meeting["meeting_id"]
    moved = http.post(
        f"/meetings/{meeting['meeting_id']}/reschedule",
        json={"requested_by": "family", "reason": "work"},
    ).json()
    assert moved["history"][0]["starts_at"] == meeting["starts_at"]
    clock.now = local(2026, 3, 20, 18)
    held = http.post(
        f"/meetings/{meeting['meeting_id']}/held",
        json={"started_at": moved["starts_at"], "ended_at": moved["ends_at"], "participants": 2},
    )
    assert held.status_code == 200 and held.json()["status"] == "held"
    assert held.json()["outcome"]["client_visits"] == 1
    assert http.get(f"/queue/{case_id}").json()["in_queue"] is False
    assert http.get(f"/cases/{case_id}").json()["status"] == "first_contact_held"
    week = http.get("/staff/anna/meetings", params={"first": "2026-03-02", "last": "2026-03-20"})
    assert [m["meeting_id"] for m in week.json()] == [meeting["meeting_id"]]
    waits = {w["programme"]: w for w in http.get("/wait-times").json()}
    assert waits["counselling"]["threshold_days"] == 14


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "detail"),
    [
        (
            "post",
            "/staff",
            {**ANNA, "provider": "acme"},
            422,
            "provider must be one of leanlink, other_provider",
        ),
        (
            "post",
            "/staff",
            {**ANNA, "provider": "other_provider", "programmes": ["network"]},
            422,
            "provides counselling only",
        ),
        ("post", "/staff", {**ANNA, "competences": ["juggling"]}, 422, "competences"),
        ("post", "/staff", {**ANNA, "capacity": 3}, 422, "capacity"),
        ("post", "/staff", {**ANNA, "weekly_capacity_hours": 20.5}, 409, "already on the roster"),
        (
            "put",
            "/staff/nobody",
            {k: v for k, v in ANNA.items() if k != "staff_id"},
            404,
            "no staff member 'nobody'",
        ),
        ("get", f"/queue/{uuid.uuid4()}", None, 404, "no case or field activity"),
        ("get", "/queue/not-a-uuid", None, 422, "case_id"),
        (
            "post",
            "/meetings",
            {"case_id": str(uuid.uuid4()), "kind": "counselling"},
            404,
            "no case",
        ),
        ("post", "/meetings", {"case_id": str(uuid.uuid4()), "kind": "dinner"}, 422, "kind"),
        (
            "post",
            f"/meetings/{uuid.uuid4()}/held",
            {
                "started_at": "2026-03-03T09:00:00+01:00",
                "ended_at": "2026-03-03T10:00:00+01:00",
                "participants": 2,
            },
            404,
            "no meeting",
        ),
        (
            "post",
            f"/meetings/{uuid.uuid4()}/held",
            {
                "started_at": "2026-03-03T09:00:00",
                "ended_at": "2026-03-03T10:00:00+01:00",
                "participants": 2,
            },
            422,
            "timezone",
        ),
        (
            "post",
            "/field-activities",
            {"area": "Ryd", "first_day": "2026-03-01", "last_day": "2026-09-01"},
            422,
            "12 weeks",
        ),
        (
            "post",
            "/field-activities",
            {"area": "Ryd", "first_day": "3026-03-01", "last_day": "3026-04-01"},
            422,
            "2000 and 2100",
        ),
    ],
)
def test_refused_requests_are_answered_4xx_saying_what_was_wrong(
    http: TestClient, method: str, path: str, body: Any, status: int, detail: str
) -> None:
    http.post("/staff", json=ANNA)
    response = http.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert detail in json.dumps(response.json()["detail"])


def test_broken_rules_of_a_booking_are_named(http: TestClient, app: Scheduling) -> None:
    http.post("/staff", json=ANNA)
    message = referral(MONDAY)
    deliver(app, message)
    case_id = str(message.case_id)
    holiday = {
        "case_id": case_id,
        "kind": "counselling",
        "staff": ["anna"],
        "starts_at": "2026-04-06T10:00:00+02:00",
    }
    assert "public holiday" in http.post("/meetings", json=holiday).json()["detail"]
    wrong = {"case_id": case_id, "kind": "network_meeting"}
    assert http.post("/meetings", json=wrong).status_code == 422
    at = {
        "case_id": case_id,
        "kind": "counselling",
        "staff": ["anna"],
        "starts_at": "2026-03-03T09:00:00+01:00",
    }
    first = http.post("/meetings", json=at)
    assert first.status_code == 201
    other = referral(MONDAY)
    deliver(app, other)
    taken = http.post("/meetings", json={**at, "case_id": str(other.case_id)})
    assert taken.status_code == 409 and "already booked" in taken.json()["detail"]
    meeting_id = first.json()["meeting_id"]
    assert http.post(f"/meetings/{meeting_id}/no-show").status_code == 409
    cancel = http.post(
        f"/meetings/{meeting_id}/cancel", json={"cancelled_by": "family", "reason": "ill"}
    )
    assert cancel.json()["status"] == "cancelled"
    again = http.post(
        f"/meetings/{meeting_id}/reschedule", json={"requested_by": "family", "reason": "x"}
    )
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "case_id",
                "kind",
                "format",
                "minutes",
                "staff",
                "starts_at",
                "not_before",
                "meeting_id",
                "x",
            ]
        ),
        st.one_of(
            st.none(),
            st.integers(-10, 10_000),
            st.text(max_size=30),
            st.just(str(uuid.UUID(int=7))),
            st.sampled_from(
                [
                    "counselling",
                    "night_walk",
                    "group",
                    "2026-04-06T10:00:00+02:00",
                    "9999-01-01T00:00:00+00:00",
                ]
            ),
            st.lists(st.text(max_size=8), max_size=3),
        ),
    )
)
def test_no_booking_request_is_ever_answered_500(
    http: TestClient, app: Scheduling, body: dict[str, Any]
) -> None:
    http.post("/staff", json=ANNA)
    deliver(app, referral(MONDAY, case_id=uuid.UUID(int=7)))  # a case the bodies can name
    response = http.post("/meetings", json=body)
    assert response.status_code == 201 or 400 <= response.status_code < 500, response.text


def test_night_walks_are_booked_against_a_field_activity(http: TestClient, clock: Clock) -> None:
    field_worker = {
        **ANNA,
        "staff_id": "fia",
        "programmes": ["field"],
        "competences": [],
        "evenings": True,
    }
    assert http.post("/staff", json=field_worker).status_code == 201
    activity = http.post(
        "/field-activities",
        json={"area": "Berga", "first_day": "2026-03-02", "last_day": "2026-03-15"},
    ).json()
    walk = http.post(
        "/meetings",
        json={"case_id": activity["activity_id"], "kind": "night_walk", "staff": ["fia"]},
    )
    assert walk.status_code == 201 and walk.json()["starts_at"] == "2026-03-06T18:00:00+01:00"
    clock.now = local(2026, 3, 6, 23)
    started, ended = walk.json()["starts_at"], walk.json()["ends_at"]
    held = http.post(
        f"/meetings/{walk.json()['meeting_id']}/held",
        json={"started_at": started, "ended_at": ended, "participants": 6},
    )
    assert held.json()["outcome"]["client_visits"] == 0
    assert http.get(f"/field-activities/{activity['activity_id']}").json()["meetings"] == [
        walk.json()["meeting_id"]
    ]
    clock.now += timedelta(days=30)
    late = http.post(
        "/meetings",
        json={"case_id": activity["activity_id"], "kind": "night_walk", "staff": ["fia"]},
    )
    assert late.status_code == 409
