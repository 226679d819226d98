"""Billing's HTTP routes over a real store: commands answer 2xx, bad input 4xx, never 500."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from events.codec import Envelope
from events.scheduling import MeetingHeld
from infra.auth import Role
from infra.batches import Incoming
from infra.settings import Settings
from infra.store import store_env
from services.billing.application import Billing
from services.billing.http import router_for
from services.billing.settlement import verify
from tests.support.auth import api, headers
from tests.support.printing import needs_pango

CEST = timezone(timedelta(hours=2))


def held(n: int, minutes: int, **over: Any) -> MeetingHeld:
    start = datetime(2022, 5, 3 + n, 9, tzinfo=CEST)
    fields: dict[str, Any] = {
        "meeting_id": uuid.UUID(int=7000 + n),
        "case_id": uuid.UUID(int=8000 + n),
        "programme": "counselling",
        "kind": "counselling",
        "format": "couple",
        "provider": "leanlink",
        "staff": ["staff-cia"],
        "started_at": start,
        "ended_at": start + timedelta(minutes=minutes),
        "participants": 2,
        "client_visits": 1,
    }
    return MeetingHeld(**(fields | over))


@pytest.fixture
def billing(settings: Settings) -> Iterator[Billing]:
    app = Billing(store_env(settings, "billing"), clock=lambda: datetime(2022, 7, 1, tzinfo=UTC))
    app.record_default_tariffs()
    meetings = [held(0, 45), held(1, 90, format="group", participants=3, client_visits=3)]
    app.process(
        "billing",
        [Incoming(f"{n}-0", "scheduling.events", Envelope(m, uuid.uuid4()))
         for n, m in enumerate(meetings)],
    )  # fmt: skip
    yield app
    app.close()


@pytest.fixture
def client(billing: Billing, settings: Settings) -> TestClient:
    http = api(settings, [router_for(billing)])
    return TestClient(http, raise_server_exceptions=False, headers=headers(settings, Role.STAFF))


def test_a_month_is_shown_as_json_csv_and_html(client: TestClient) -> None:
    response = client.get("/settlements/2022-05", params={"programme": "counselling"})
    assert response.status_code == 200
    assert response.headers["x-settlement-status"] == "open"
    document = response.json()
    assert verify(document) and document["total_ore"] == 45_375
    assert len(document["pending_decisions"]) == 1

    text = client.get("/settlements/2022-05", params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["kind"] for r in rows] == ["hourly", "fixed", "total", "fees", "net", "digest"]
    assert rows[0]["amount_ore"] == "45375" and rows[0]["amount_sek"] == "453.75"

    page = client.get("/settlements/2022-05", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "Family counselling" in page.text and "453,75" in page.text
    assert "waiting for a decision" in page.text and "Yearly cap" in page.text


@needs_pango
def test_the_statement_is_also_a_pdf_beside_the_html(client: TestClient) -> None:
    asked = client.get("/settlements/2022-05", params={"format": "pdf", "programme": "counselling"})
    assert asked.status_code == 200 and asked.headers["content-type"] == "application/pdf"
    assert asked.content.startswith(b"%PDF-")
    assert 'filename="settlement-2022-05.pdf"' in asked.headers["content-disposition"]
    text = " ".join(pdfium.PdfDocument(asked.content)[0].get_textpage().get_text_range().split())
    assert "Family counselling, 0.75 client hours at 605,00" in text and "453,75" in text
    accepted = client.get("/settlements/2022-05", headers={"Accept": "application/pdf"})
    assert accepted.headers["content-type"] == "application/pdf"
    assert client.get("/settlements/2022-05").headers["content-type"] == "application/json"
    preview = client.get("/settlements/2022-06/preview", params={"format": "pdf"})
    assert preview.status_code == 200 and preview.headers["x-settlement-status"] == "preview"
    assert b"PREVIEW" in preview.content or "PREVIEW" in " ".join(
        p.get_textpage().get_text_range() for p in pdfium.PdfDocument(preview.content)
    )


def test_an_extended_contracts_line_says_until_when(client: TestClient) -> None:
    body = {"contract": "coordinated-network-2018", "reference": "SON 2021-2"}
    assert client.post("/tariffs/extensions", json=body).status_code == 201
    page = client.get("/settlements/2022-05", params={"format": "html"}).text
    assert (
        "Coordinated support and network work, May 2022, 2\u00a0800\u00a0000,00\u00a0kr a year "
        "at the 2018 price level, extended to 2024-08-31"
    ) in page


def test_decide_close_and_replay_over_http(client: TestClient, billing: Billing) -> None:
    meeting_id = uuid.UUID(int=7001)
    [item] = client.get("/worklist").json()
    assert item["meeting_id"] == str(meeting_id)
    body = {"decision": "bill_as_ordinary_time", "decided_by": "chef"}
    decided = client.post(f"/decisions/{meeting_id}", json=body)
    assert decided.status_code == 200 and decided.json()["status"] == "logged"
    assert client.post(f"/decisions/{meeting_id}", json=body).status_code == 409

    closed = client.post("/settlements/2022-05/close", json={"closed_by": "ekonom"})
    assert closed.status_code == 200
    again = client.post("/settlements/2022-05/close")
    assert again.status_code == 409 and "already closed" in again.json()["detail"]
    shown = client.get("/settlements/2022-05")
    assert shown.headers["x-settlement-status"] == "closed"
    assert shown.json() == closed.json()
    replayed = client.get("/settlements/2022-05/replay").json()
    assert replayed["matches"] is True and replayed["digest"] == closed.json()["digest"]


def test_tariffs_and_call_offs_are_recorded_over_http(client: TestClient) -> None:
    indexation = {
        "series": "linkoping-uplift", "year": 2023, "percent": "3.1",
        "applies_from": "2023-01-01", "reference": "KF 2023-12", "recorded_by": "ekonom",
    }  # fmt: skip
    assert client.post("/tariffs/indexations", json=indexation).status_code == 201
    duplicate = client.post("/tariffs/indexations", json=indexation)
    assert duplicate.status_code == 409 and "duplicate" in duplicate.json()["detail"]
    call_off = {"programme": "counselling", "year": 2022, "hours": "40", "reference": "AVROP-1"}
    assert client.post("/call-offs", json=call_off).status_code == 201
    extension = {"contract": "coordinated-network-2018", "reference": "SON 2021-4"}
    assert client.post("/tariffs/extensions", json=extension).status_code == 201
    rate = {
        "programme": "counselling", "sek_per_hour": "650.00", "price_level_year": 2025,
        "valid_from": "2025-01-01", "reference": "SON 2024-1",
    }  # fmt: skip
    assert client.post("/tariffs/rates", json=rate).status_code == 201
    tariffs = client.get("/tariffs").json()
    assert tariffs["book_version"] == 5
    assert [c["reference"] for c in tariffs["call_offs"]] == ["AVROP-1"]
    cap = client.get("/caps/counselling/2022").json()
    assert (cap["limit_hours"], cap["billed_hours"]) == ("2630", "0.75")


def test_agreed_posts_are_recorded_over_http_and_set_the_fixed_line(
    client: TestClient, billing: Billing
) -> None:
    posts = {
        "contract": "coordinated-network-2018", "ftes": "5", "payment_ftes": "4",
        "valid_from": "2020-07-01", "reference": "SON 2020-7", "recorded_by": "ekonom",
    }  # fmt: skip
    assert client.post("/tariffs/posts", json=posts).status_code == 201
    assert client.post("/tariffs/posts", json=posts).status_code == 409
    mid_month = client.post("/tariffs/posts", json=posts | {"valid_from": "2021-02-15"})
    assert mid_month.status_code == 409 and "first day" in mid_month.json()["detail"]
    shown = client.get("/settlements/2020-07", params={"programme": "network"}).json()
    [line] = shown["lines"]
    assert (line["ftes"], line["amount_ore"]) == ("5", 29_166_667)  # 3.5 MSEK / 12
    assert shown == billing.settlement("2020-07", "network")["document"]
    kinds = [e["kind"] for e in client.get("/tariffs").json()["entries"]]
    assert kinds.count("posts") == 2


def test_a_premises_share_and_a_grant_are_recorded_over_http_and_shown_apart(
    client: TestClient,
) -> None:
    body = {
        "kind": "state_grant", "programme": "counselling", "month": "2022-05",
        "amount_ore": 12_300, "period_from": "2022-01-01", "period_to": "2022-12-31",
        "reference": "SB 2022-1", "recorded_by": "ekonom",
    }  # fmt: skip
    assert client.post("/settlements/separate-amounts", json=body).status_code == 201
    assert client.post("/settlements/separate-amounts", json=body).status_code == 409
    backwards = body | {"reference": "SB 2", "period_to": "2021-12-31"}
    assert client.post("/settlements/separate-amounts", json=backwards).status_code == 400
    document = client.get("/settlements/2022-05", params={"programme": "counselling"}).json()
    assert (document["total_ore"], document["fees_ore"], document["net_ore"]) == (
        45_375, 20_000, 25_375,
    )  # fmt: skip
    assert document["reported_separately"]["state_grant_ore"] == 12_300
    page = client.get("/settlements/2022-05", params={"format": "html"}).text
    assert "state grant 123,00\u00a0kr" in page and "SB 2022-1" in page


def test_a_notice_of_termination_is_recorded_over_http(client: TestClient) -> None:
    notice = {"contract": "field-2021", "given_on": "2023-03-15", "reference": "SON 2023-3"}
    assert client.post("/tariffs/terminations", json=notice).status_code == 201
    assert client.post("/tariffs/terminations", json=notice).status_code == 409
    late = {"contract": "coordinated-network-2018", "given_on": "2020-09-01", "reference": "r"}
    refused = client.post("/tariffs/terminations", json=late)
    assert refused.status_code == 409 and "by 2020-08-31" in refused.json()["detail"]
    unknown = client.post("/tariffs/terminations", json=notice | {"contract": "nope"})
    assert unknown.status_code == 404
    [entry] = [e for e in client.get("/tariffs").json()["entries"] if e["kind"] == "termination"]
    assert entry["fields"]["ends_on"] == "2024-03-31"


def test_an_adjustment_is_booked_over_http_refused_on_a_closed_month_and_read_by_auditors(
    client: TestClient, billing: Billing, settings: Settings
) -> None:
    body = {
        "programme": "counselling", "amount_ore": -15_125, "reason": "a quarter billed twice",
        "reference": "SON-2022-7", "corrects": "2022-05", "recorded_by": "ekonom",
    }  # fmt: skip
    assert client.post("/settlements/2022-06/adjustments", json=body).status_code == 201
    assert client.post("/settlements/2022-06/adjustments", json=body).status_code == 409
    later = body | {"reference": "SON-2022-8", "corrects": "2022-07"}
    assert client.post("/settlements/2022-06/adjustments", json=later).status_code == 400
    billing.close_month("2022-04")
    refused = client.post("/settlements/2022-04/adjustments", json=body | {"corrects": None})
    assert refused.status_code == 409 and "first open month, 2022-05" in refused.json()["detail"]
    auditor = TestClient(client.app, headers=headers(settings, Role.AUDITOR))
    assert auditor.post("/settlements/2022-06/adjustments", json=body).status_code == 403
    [booked] = auditor.get("/settlements/2022-06/adjustments").json()
    assert (booked["reference"], booked["amount_ore"]) == ("SON-2022-7", -15_125)
    document = auditor.get("/settlements/2022-06", params={"programme": "counselling"}).json()
    assert document["total_ore"] == -15_125 and verify(document)
    text = auditor.get("/settlements/2022-06", params={"format": "csv"}).text
    assert "manual correction, reference SON-2022-7" in text


def test_logged_time_over_http(client: TestClient) -> None:
    body = {
        "case_id": str(uuid.UUID(int=8000)), "minutes": 20, "performed_on": "2022-05-10",
        "activity": "follow_up", "entry_id": str(uuid.uuid4()),
    }  # fmt: skip
    first = client.post("/sessions/time", json=body)
    assert first.status_code == 201 and first.json()["session"]["amount_ore"] == 30_250
    assert client.post("/sessions/time", json=body).json() == first.json()
    session = client.get(f"/sessions/{first.json()['session_id']}")
    assert session.status_code == 200 and session.json()["status"] == "logged"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("get", "/settlements/2024-13", None, 400, "month must be YYYY-MM, got '2024-13'"),
        ("get", "/settlements/2022-05?programme=dentistry", None, 422, "programme"),
        ("get", "/settlements/2022-05?format=xlsx", None, 422, "format"),
        ("post", "/settlements/2099-01/close", None, 409, "2099-01 is not over"),
        ("get", "/settlements/2022-04/replay", None, 404, "2022-04 is not closed"),
        ("post", "/settlements/x/close", None, 400, "month must be YYYY-MM"),
        ("post", f"/decisions/{uuid.UUID(int=1)}", {"decision": "bill_as_group",
                                                    "decided_by": "c"}, 404, "no held meeting"),
        ("post", f"/decisions/{uuid.UUID(int=7001)}", {"decision": "guess", "decided_by": "c"},
         422, "decision"),
        ("post", f"/decisions/{uuid.UUID(int=7001)}", {"decision": "bill_as_group",
                                                       "decided_by": "c"},
         400, "a group of 3 participants cannot be billed as a group"),
        ("post", "/sessions/time", {"case_id": str(uuid.uuid4()), "minutes": 30,
                                    "performed_on": "2022-05-10", "activity": "follow_up"},
         404, "not known to billing"),
        ("post", "/sessions/time", {"case_id": str(uuid.UUID(int=8000)), "minutes": 0,
                                    "performed_on": "2022-05-10", "activity": "follow_up"},
         422, "minutes"),
        ("post", "/sessions/time", {"case_id": str(uuid.UUID(int=8000)), "minutes": 30,
                                    "performed_on": "2030-05-10", "activity": "follow_up"},
         400, "in the future"),
        ("post", "/tariffs/indexations", {"series": "OPI", "year": 2023, "percent": "2",
                                          "applies_from": "2022-12-01", "reference": "r"},
         400, "not in 2023"),
        ("post", "/tariffs/extensions", {"contract": "counselling-2022", "reference": "r"},
         409, "not extendable"),
        ("post", "/tariffs/extensions", {"contract": "nope", "reference": "r"}, 409, "nope"),
        ("post", "/tariffs/caps", {"programme": "counselling", "hours": 100,
                                   "valid_from": "2022-01-01", "reference": "r"},
         409, "duplicate cap start"),
        ("post", "/call-offs", {"programme": "counselling", "year": 2022, "hours": "0.1",
                                "reference": "r"}, 400, "quarter hours"),
        ("post", "/call-offs", {"programme": "field", "year": 2022, "hours": "1",
                                "reference": "r"}, 400, "no yearly cap"),
        ("get", "/caps/network/2022", None, 404, "no yearly cap"),
        ("post", f"/sessions/{uuid.uuid4()}/dismissal", {"reason": "x", "decided_by": "y"},
         404, "not known"),
        ("get", f"/sessions/{uuid.uuid4()}", None, 404, "not known"),
    ],
)  # fmt: skip
def test_bad_input_is_a_4xx_that_says_what_was_wrong(
    client: TestClient, method: str, path: str, body: Any, status: int, says: str
) -> None:
    response = getattr(client, method)(path, **({"json": body} if body is not None else {}))
    assert response.status_code == status, response.text
    assert says in response.text


FIELDS = (
    "case_id", "minutes", "performed_on", "activity", "programme", "entry_id", "decision",
    "decided_by", "reason", "series", "year", "percent", "applies_from", "reference", "contract",
    "sek_per_hour", "price_level_year", "indexed_by", "valid_from", "valid_to", "ore_per_visit",
    "hours", "amount_ore", "per", "programmes", "billing", "effective_from", "closed_by", "ftes",
    "payment_ftes", "kind", "month", "period_from", "period_to", "note",
    "given_on", "ends_on", "corrects", "recorded_by",
)  # fmt: skip
PLAUSIBLE = st.sampled_from(
    [
        "2022-05-10", "2023-01-01", "2023-02-30", "0001-01-01", "9999-12-31", "3.1", "-0.5",
        "1e9", "NaN", "Infinity", "605.00", "counselling", "network", "field", "OPI",
        "linkoping-uplift", "bill_as_group", "not_billable", "preparation", "year", "term",
        "hourly", "coordinated-network-2018", str(uuid.UUID(int=8000)), str(uuid.UUID(int=7001)),
        "", " ", "x" * 300, 0, -1, 2022, 10**20, 0.1, True, None, [], {},
    ]
)  # fmt: skip
ROUTES = (
    "/sessions/time", f"/decisions/{uuid.UUID(int=7001)}", "/tariffs/indexations",
    "/tariffs/extensions", "/tariffs/rates", "/tariffs/fees", "/tariffs/caps",
    "/tariffs/fixed-payments", "/tariffs/terms", "/tariffs/posts", "/call-offs",
    "/settlements/separate-amounts", "/tariffs/terminations",
    "/settlements/2022-04/close", "/settlements/2022-06/adjustments",
    f"/sessions/{uuid.UUID(int=1)}/dismissal",
)  # fmt: skip


@examples(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(ROUTES), st.dictionaries(st.sampled_from(FIELDS), PLAUSIBLE, max_size=12))
def test_no_body_makes_a_command_fail_with_a_500(
    client: TestClient, route: str, body: dict[str, Any]
) -> None:
    response = client.post(route, json=body)
    assert response.status_code < 500, (route, body, response.text)


@examples(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=12), st.sampled_from(["", "/replay", "?format=csv", "?programme=field"]))
def test_no_month_makes_a_query_fail_with_a_500(client: TestClient, month: str, tail: str) -> None:
    response = client.get(f"/settlements/{quote(month, safe='')}{tail}")
    assert response.status_code < 500, (month, response.text)
