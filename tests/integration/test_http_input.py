"""What each service's HTTP API, built as ``serve()`` builds it, does with careless and hostile
bodies: NaN and Infinity, integers too long to read, referrals over the stream's size limit,
validation errors carrying personal data, and clients that go away mid-body. Never a 500,
never the input in an answer's error list, never a traceback or the input in the log."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
import uvicorn

from events.codec import MAX_DATA_BYTES
from infra.auth import Role
from infra.settings import ServiceName, Settings
from tests.conftest import free_port
from tests.support.auth import client, served, token
from tests.support.intake import personal_number, referral
from tests.support.logscan import ServiceLog

PERSONAL = personal_number(date(2012, 3, 4), "417")
NAME = "Ebba Hemligsdotter"
JSON_TYPE = {"content-type": "application/json"}
#: A route of each service with a number in its body, and a body around it (with personal data
#: in a string field, which must reach neither the answer nor the log).
NUMERIC: dict[ServiceName, tuple[str, dict[str, object], str]] = {
    "intake": (
        f"/cases/{uuid.uuid4()}/follow-up/assessments",
        {"on": "2026-11-02", "by": NAME, "kasam": 0, "sips": 1, "note": PERSONAL},
        "kasam",
    ),
    "scheduling": (
        "/night-walks",
        {
            "area": PERSONAL,
            "started_at": "2026-11-06T21:00:00+01:00",
            "ended_at": "2026-11-07T01:00:00+01:00",
            "staff": ["anna"],
            "youths_met": 0,
            "youths_talked_with": 0,
            "reported_by": NAME,
        },
        "youths_met",
    ),
    "billing": (
        "/sessions/time",
        {
            "case_id": str(uuid.uuid4()),
            "minutes": 0,
            "performed_on": "2026-11-02",
            "activity": "preparation",
            "logged_by": NAME,
            "note": PERSONAL,
        },
        "minutes",
    ),
}


@pytest.fixture
def service_log(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> Iterator[ServiceLog]:
    with ServiceLog.capturing(caplog, capsys) as log:
        yield log


def with_raw(body: dict[str, object], field: str, token: str) -> bytes:
    placeholder = "\x00raw\x00"
    return json.dumps({**body, field: placeholder}).replace(json.dumps(placeholder), token).encode()


@pytest.mark.parametrize("service", ["intake", "scheduling", "billing"])
async def test_nan_and_infinity_in_a_number_are_refused_422_without_echo_or_log(
    settings: Settings, service: ServiceName, service_log: ServiceLog
) -> None:
    path, body, field = NUMERIC[service]
    async with served(settings, service) as (http, app), client(http, settings, Role.STAFF) as api:
        before = app.recorder.max_notification_id()
        for number in ("NaN", "Infinity", "-Infinity", "1e999", "1" * 4301):
            answer = await api.post(path, content=with_raw(body, field, number), headers=JSON_TYPE)
            assert answer.status_code == 422, (number[:10], answer.text)
            (error,) = answer.json()["detail"]
            assert error["type"] == "json_invalid" and error["loc"][0] == "body"
            assert "not JSON" in error["msg"] and PERSONAL not in answer.text
        assert app.recorder.max_notification_id() == before
    service_log.assert_clean([PERSONAL, NAME])


async def test_a_validation_error_names_where_and_what_but_never_the_input(
    settings: Settings, service_log: ServiceLog
) -> None:
    async with served(settings, "billing") as (http, _), client(http, settings, Role.STAFF) as api:
        _, body, _ = NUMERIC["billing"]
        hostile = {**body, "minutes": PERSONAL, "case_id": PERSONAL, PERSONAL: NAME}
        answer = await api.post("/sessions/time", json=hostile)
    assert answer.status_code == 422
    assert PERSONAL not in answer.text and NAME not in answer.text
    errors = {tuple(e["loc"]): e for e in answer.json()["detail"]}
    assert set(errors) == {("body", "minutes"), ("body", "case_id"), ("body",)}
    assert errors[("body",)]["type"] == "extra_forbidden"  # its own name is input: not shown
    assert all(set(e) == {"type", "loc", "msg"} for e in errors.values())
    service_log.assert_clean([PERSONAL, NAME])


async def test_a_referral_over_the_streams_limit_is_413_naming_it_and_one_at_it_is_taken(
    settings: Settings, service_log: ServiceLog
) -> None:
    async with (
        served(settings, "intake") as (http, app),
        client(http, settings, Role.PUBLISHER) as publisher,
    ):
        for size, status in ((MAX_DATA_BYTES + 1, 413), (MAX_DATA_BYTES, 202)):
            before = app.recorder.max_notification_id() or 0
            body = referral(padding="")
            filler = size - len(json.dumps(body).encode())
            text = json.dumps({**body, "padding": "x" * filler}).encode()
            assert len(text) == size
            answer = await publisher.post("/referrals", content=text, headers=JSON_TYPE)
            assert answer.status_code == status, answer.text[:300]
            stored = (app.recorder.max_notification_id() or 0) > before
            assert stored is (status == 202)
        refused = await publisher.post(
            "/referrals", content=b"[" * (MAX_DATA_BYTES + 1), headers=JSON_TYPE
        )
    assert refused.status_code == 413
    assert refused.json()["detail"].startswith(f"a referral is at most {MAX_DATA_BYTES} bytes")
    service_log.assert_clean([p["personal_number"] for p in referral()["persons"]])


async def test_a_referral_with_an_unreadable_number_is_malformed_and_not_recorded(
    settings: Settings, service_log: ServiceLog
) -> None:
    body = referral(referral_id="EH-huge")
    async with (
        served(settings, "intake") as (http, app),
        client(http, settings, Role.PUBLISHER) as publisher,
    ):
        for number in ("1" * 4301, "NaN", "-Infinity", "1e400"):
            answer = await publisher.post(
                "/referrals", content=with_raw(body, "urgency", number), headers=JSON_TYPE
            )
            assert answer.status_code == 422, answer.text[:300]
            refused = answer.json()
            assert refused["source"] is None and refused["referral_id"] is None
            (reason,) = refused["reasons"]
            assert reason["code"] == "malformed" and "not JSON" in reason["message"]
            assert "1111" not in reason["message"]
        assert (app.recorder.max_notification_id() or 0) == 0
        after = await publisher.post("/referrals", json=body)  # the id is still free
        assert after.status_code == 202, after.text
    service_log.assert_clean([p["personal_number"] for p in body["persons"]] + [NAME])


async def test_a_client_that_disconnects_mid_body_leaves_at_most_one_calm_line(
    settings: Settings, service_log: ServiceLog
) -> None:
    """Over a real socket, as uvicorn serves it: the referral route reads its body itself;
    the residency-exception route's body is read before FastAPI parses it."""
    partial = json.dumps(referral())[:200].encode()
    publisher, staff = token(settings, Role.PUBLISHER), token(settings, Role.STAFF)
    async with served(settings, "intake") as (http, _):
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(http, host="127.0.0.1", port=port, log_config=None, lifespan="off")
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            for path, bearer in (("/referrals", publisher), ("/residency-exceptions", staff)):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: lots\r\nAuthorization: Bearer {bearer}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
                )
                writer.write(head.encode() + partial)
                await writer.drain()
                await asyncio.sleep(0.2)  # the route is waiting for the rest of the body
                writer.close()
                await writer.wait_closed()
            await asyncio.sleep(0.3)
        finally:
            server.should_exit = True
            await serving
    mentions = [line for line in service_log.lines() if "disconnect" in line]
    assert len(mentions) == 2, mentions  # one line for each of the two requests, no more
    assert not [r for r in service_log.records() if r.levelname in ("ERROR", "CRITICAL")]
    service_log.assert_clean([p["personal_number"] for p in referral()["persons"]])
