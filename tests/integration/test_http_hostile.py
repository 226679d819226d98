"""Hostile input for every operation of every service: what schemathesis alone did not send.

schemathesis generates from each OpenAPI document (``test_http_fuzz.py``); a document says
"number", so it never sends ``NaN``, a 5,000-digit integer, or a body at a size limit. Here the
same operations get schemathesis's valid requests with one part made hostile:

* every numeric body field and numeric parameter: ``NaN``, ``Infinity``, ``-Infinity``,
  ``1e999`` (infinite as a double) and integers of 4,301 and more digits, written raw into the
  JSON: always 422 (not JSON, or not a valid integer), documented, nothing stored;
* every string body field and string query parameter: a personal number and a name wrapped in
  control characters (NUL, ESC, CR/LF, NEL, U+2028, U+202E): never a 5xx, documented, no
  refusal repeating the personal number;
* every body at the limits: just under and just over the HTTP limit (1 MiB) and, for
  ``POST /referrals``, the stream's 256 KiB: 413 naming the limit over it, a documented answer
  (not 413) under it.

The service log (structlog and the standard library) is captured throughout and scanned
afterwards: no traceback and none of the personal numbers or names sent. Deterministic and
bounded: ``LOTS_HOSTILE_EXAMPLES`` per operation and input class (default 2).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from events.codec import MAX_DATA_BYTES
from infra.settings import Settings
from tests.integration.test_http_fuzz import CHECKS, OWN_SOURCE, Fuzzed, _without_lifespan
from tests.support.intake import personal_number
from tests.support.logscan import ServiceLog

HOSTILE_EXAMPLES = int(os.environ.get("LOTS_HOSTILE_EXAMPLES", "2"))
#: Numbers Python's json reads and JSON (or this service) does not: written raw into the body.
NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" * 4301 + ".5")
HUGE_INTEGERS = ("1" * 4301, "-" + "9" * 5000, "4" * 20_000)
CONTROL = ("\x00", "\x1b[2J", "\r\n", "\x85", "\u2028", "\u202e", "\x7f", "\t", "\x1f")
NAMES = ("Astrid Hemligsdotter", "Oskar Sekretessén", "Märta Personuppgift")
#: Stands in a body for a raw JSON token until the body is serialised.
RAW = "\x00raw\x00"
SETTINGS = settings(
    max_examples=HOSTILE_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(params=["intake", "scheduling", "billing"])
def fuzzed(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Fuzzed]:
    service = Fuzzed(settings, request.param)
    yield service
    service.app.close()


@pytest.fixture
def service_log(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> Iterator[ServiceLog]:
    with ServiceLog.capturing(caplog, capsys) as log:
        yield log


# --- where to put hostile values ------------------------------------------------------------


def _resolve(schema: dict[str, Any], roots: list[dict[str, Any]]) -> dict[str, Any]:
    while "$ref" in schema:
        parts = schema["$ref"].removeprefix("#/").split("/")
        for root in roots:
            found: Any = root
            for part in parts:
                found = found.get(part) if isinstance(found, dict) else None
            if isinstance(found, dict):
                schema = found
                break
        else:
            raise LookupError(schema["$ref"])
    return schema


def leaves(
    schema: dict[str, Any], roots: list[dict[str, Any]], path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, "number" or "string") of every scalar field a body may hold (arrays: item 0)."""
    schema = _resolve(schema, roots)
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from leaves(alternative, roots, path)
    kind = schema.get("type")
    if kind in ("integer", "number"):
        yield path, "number"
    elif kind == "string":
        yield path, "string"
    elif kind == "array" and isinstance(schema.get("items"), dict) and len(path) < 6:
        yield from leaves(schema["items"], roots, (*path, 0))
    for name, sub in schema.get("properties", {}).items():
        if len(path) < 6:
            yield from leaves(sub, roots, (*path, name))


def body_leaves(operation: Any, spec: dict[str, Any], kind: str) -> list[tuple[Any, ...]]:
    body = operation.definition.raw.get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return []
    return sorted({p for p, k in leaves(schema, [spec, schema]) if k == kind}, key=repr)


def params_of(operation: Any, kind: str, where: tuple[str, ...]) -> list[tuple[str, str]]:
    found = []
    for param in operation.definition.raw.get("parameters", []):
        kinds = {k for _, k in leaves(param.get("schema", {}), [])}
        if param["in"] in where and kind in kinds:
            found.append((param["in"], param["name"]))
    return found


def put(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``body`` with ``value`` at ``path``, making the objects and lists on the way."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = copy.copy(body) if isinstance(body, list) and body else [None]
        items[0] = put(items[0], rest, value)
        return items
    fields = dict(body) if isinstance(body, dict) else {}
    fields[head] = put(fields.get(head), rest, value)
    return fields


def raw_json(body: Any, token: str) -> bytes:
    return json.dumps(body).replace(json.dumps(RAW), token).encode()


# --- sending ---------------------------------------------------------------------------------


def operations(fuzzed: Fuzzed) -> tuple[dict[str, Any], list[Any]]:
    api = schemathesis.openapi.from_asgi("/openapi.json", _without_lifespan(fuzzed.http))
    spec = fuzzed.http.openapi()
    return spec, [result.ok() for result in api.get_all_operations()]


def send(fuzzed: Fuzzed, case: Any, body: bytes | None = None) -> Any:
    """Send ``case`` (with ``body`` as its raw JSON if given) as the operation's usual caller;
    the answer must be documented and conform to the document, and never a 5xx."""
    if body is not None:
        case.body = body
        case.media_type = "application/json"
    response = case.call(headers=fuzzed.token_for(case.method, case.path))
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    if case.path != "/health/ready":  # its 503 is documented: the runtime is off here
        case.validate_response(response, checks=CHECKS)
    return response


def own_source(case: Any) -> None:
    if case.path == "/referrals" and isinstance(case.body, dict):
        case.body["source"] = OWN_SOURCE


def refused_as_not_a_number(case: Any, target: tuple[str, Any], response: Any) -> None:
    """422: a body is not JSON (intake: ``malformed``, not recorded); a parameter not a valid
    integer."""
    assert response.status_code == 422, (case.method, case.path, response.text[:300])
    answer, (where, at) = response.json(), target
    if where == "body" and case.path == "/referrals":
        assert answer["source"] is None and answer["reasons"][0]["code"] == "malformed"
    elif where == "body":
        assert [e["type"] for e in answer["detail"]] == ["json_invalid"], answer
    else:
        assert [e["loc"] for e in answer["detail"]] == [[where, at]], answer


# --- the tests -------------------------------------------------------------------------------


def test_non_finite_and_huge_numbers_in_every_numeric_field_are_refused_422(
    fuzzed: Fuzzed, service_log: ServiceLog
) -> None:
    spec, ops = operations(fuzzed)
    sent = 0
    for operation in ops:
        targets: list[Any] = [("body", p) for p in body_leaves(operation, spec, "number")]
        targets += params_of(operation, "number", ("path", "query"))
        if operation.definition.raw.get("requestBody") and not targets:
            targets = [("body", p) for p in body_leaves(operation, spec, "string")[:3]]
        if not targets:
            continue

        @given(
            case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            target=st.sampled_from(targets),
            non_finite=st.sampled_from(NON_FINITE),
            huge=st.sampled_from(HUGE_INTEGERS),
        )
        @SETTINGS
        def hostile(case: Any, target: tuple[str, Any], non_finite: str, huge: str) -> None:
            nonlocal sent
            own_source(case)
            before = fuzzed.stored()
            where, at = target
            for token in (non_finite, huge):
                if where == "body":
                    response = send(fuzzed, case, raw_json(put(case.body, at, RAW), token))
                else:
                    getattr(case, "path_parameters" if where == "path" else "query")[at] = token
                    response = send(fuzzed, case)
                refused_as_not_a_number(case, target, response)
                assert fuzzed.stored() == before
                sent += 1

        hostile()
    assert sent >= 2 * HOSTILE_EXAMPLES
    service_log.assert_clean([])


@st.composite
def personal_strings(draw: st.DrawFn) -> tuple[str, str, str]:
    """(text for a string field, the personal number in it, the name in it)."""
    born = draw(st.dates(date(1930, 1, 1), date(2025, 12, 31)))
    number = personal_number(born, draw(st.integers(100, 999)).__str__())
    name = draw(st.sampled_from(NAMES))
    left, right = draw(st.sampled_from(CONTROL)), draw(st.sampled_from(CONTROL))
    shape = draw(st.sampled_from(["{l}{n}{r}{m}", "{n}", "{m}{l}{n}", "{l}{n}-{m}{r}"]))
    return shape.format(l=left, r=right, n=number, m=name), number, name


def test_control_characters_and_personal_data_in_strings_never_reach_log_or_refusal(
    fuzzed: Fuzzed, service_log: ServiceLog
) -> None:
    spec, ops = operations(fuzzed)
    secrets: set[str] = set()
    for operation in ops:
        targets: list[Any] = [("body", p) for p in body_leaves(operation, spec, "string")]
        targets += params_of(operation, "string", ("query",))
        if not targets:
            continue

        @given(
            case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            target=st.sampled_from(targets),
            personal=personal_strings(),
        )
        @SETTINGS
        def hostile(case: Any, target: tuple[str, Any], personal: tuple[str, str, str]) -> None:
            text, number, name = personal
            secrets.update((number, name))
            where, at = target
            if where == "body":
                case.body = put(case.body, at, text)
            else:
                case.query = {**(case.query or {}), at: text}
            own_source(case)
            response = send(fuzzed, case)
            if response.status_code == 422 and isinstance(response.json().get("detail"), list):
                assert number not in response.text, (case.method, case.path, response.text)

        hostile()
    assert secrets
    service_log.assert_clean(secrets)


def padded(body: Any, size: int) -> bytes:
    """``body`` (an object; else wrapped in one) with an extra field making it ``size`` bytes."""
    if isinstance(body, dict):
        fields = dict(body)
    else:  # a list or a scalar is wrapped; no body at all (an optional one) is none
        json_value = isinstance(body, list | str | int | float | bool | None)
        fields = {"value": body} if json_value else {}
    fields["padding"] = ""
    empty = len(json.dumps(fields).encode())
    fields["padding"] = "x" * (size - empty)
    text = json.dumps(fields).encode()
    assert len(text) == size
    return text


def test_bodies_just_under_and_over_every_limit(fuzzed: Fuzzed, service_log: ServiceLog) -> None:
    _, ops = operations(fuzzed)
    limit = fuzzed.settings.http_max_body_bytes
    tried = 0
    for operation in ops:
        if operation.definition.raw.get("requestBody"):
            stream = [MAX_DATA_BYTES] if operation.path == "/referrals" else []
            tried += at_limits(fuzzed, operation, [limit, *stream])
    assert tried
    service_log.assert_clean([])


def at_limits(fuzzed: Fuzzed, operation: Any, limits: list[int]) -> int:
    """A valid request of ``operation`` padded to each limit and one byte over it: over a
    limit, 413 naming the first one it passes (``limits`` go from outermost, the HTTP body
    limit checked unread, inwards) and nothing stored; at a limit, not 413."""
    tried = 0

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(SETTINGS, max_examples=1)
    def padded_to_limits(case: Any) -> None:
        nonlocal tried
        own_source(case)
        base = case.body
        for size in sorted({*limits, *(n + 1 for n in limits)}):
            before = fuzzed.stored()
            response = send(fuzzed, case, padded(base, size))
            over = [n for n in limits if size > n]
            if over:
                assert response.status_code == 413, (case.path, size, response.text)
                assert str(over[0]) in response.json()["detail"]
                assert fuzzed.stored() == before
            else:
                assert response.status_code != 413, (case.path, size, response.text)
            tried += 1

    padded_to_limits()
    return tried
