"""Who may do what over HTTP: every route but health needs a token of an allowed role.

The routes are taken from the apps themselves, so a route added without a role, or with roles
other than docs/security.md says, fails here.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from typer.testing import CliRunner

from infra.auth import HEALTH, Role, TokenRegistry, route_roles
from infra.dev_tokens import bearer_headers
from infra.settings import SERVICES, ServiceName, Settings, SettingsError, TokenEntry
from infra.tokens import digest, entry_for, new_token
from lots.cli import app as cli
from lots.statuspage import Sampler, build
from tests.support.auth import client, headers, served
from tests.support.intake import referral

ROOT = Path(__file__).resolve().parents[2]
#: A value for each path parameter of the services' routes.
SAMPLE_PARAMS = {
    "month": "2026-10",
    "programme": "counselling",
    "year": "2026",
    "source": "linkoping.elevhalsa",
    "referral_id": "EH-1",
    "staff_id": "anna",
}


def documented() -> dict[str, dict[tuple[str, str], frozenset[Role] | None]]:
    """The route table of docs/security.md, per service ('every service' rows in each)."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    tables: dict[str, dict[tuple[str, str], frozenset[Role] | None]] = {
        s: {} for s in (*SERVICES, "status page")
    }
    for where, method, path, who in re.findall(
        r"^\| ([a-z ]+) \| `([A-Z]+) (/[^`]*)` \| ([^|]+) \|$", text, re.MULTILINE
    ):
        words = re.sub(r"\(.*?\)", "", who).replace(",", " ").split()
        roles = None if words == ["anyone"] else frozenset(Role(w) for w in words)
        for service in SERVICES if where == "every service" else (where,):
            tables[service][(method, path)] = roles
    return tables


def concrete(path: str) -> str:
    def value(match: re.Match[str]) -> str:
        return SAMPLE_PARAMS.get(match.group(1), str(uuid.uuid4()))

    return re.sub(r"\{([a-z_]+)\}", value, path)


def status_page(settings: Settings) -> FastAPI:
    return build(Sampler(settings), TokenRegistry.from_settings(settings))


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_has_the_roles_docs_security_md_gives_it(
    settings: Settings, service: ServiceName
) -> None:
    async with served(settings, service) as (http, _):
        assert route_roles(http) == documented()[service]


def test_the_status_page_has_the_roles_docs_security_md_gives_it(settings: Settings) -> None:
    assert route_roles(status_page(settings)) == documented()["status page"]


def test_an_app_with_a_route_without_a_role_is_refused(settings: Settings) -> None:
    from infra.auth import secure

    app = FastAPI()

    @app.get("/forgotten")
    def forgotten() -> None: ...

    with pytest.raises(RuntimeError, match="GET /forgotten declares no role"):
        secure(app, TokenRegistry.from_settings(settings))


@pytest.mark.parametrize("service", SERVICES)
async def test_no_token_a_bad_token_or_a_wrong_role_is_refused_on_every_route(
    settings: Settings, service: ServiceName
) -> None:
    async with served(settings, service) as (http, app):
        before = app.recorder.max_notification_id()
        guarded = {k: v for k, v in route_roles(http).items() if v is not None}
        assert len(guarded) >= 4
        async with client(http) as anonymous:
            for (method, path), roles in guarded.items():
                url = concrete(path)
                body = b'{"source": "linkoping.elevhalsa"' if method != "GET" else None
                json_type = {"content-type": "application/json"}
                for sent in (
                    {},
                    {"Authorization": "Bearer lots_not-a-token"},
                    {"Authorization": f"Basic {headers(settings, Role.STAFF)['Authorization']}"},
                    {"Authorization": "Bearer"},
                ):
                    refused = await anonymous.request(
                        method, url, content=body, headers=sent | json_type
                    )
                    assert refused.status_code == 401, (method, path, sent, refused.text)
                    assert refused.headers["www-authenticate"].startswith("Bearer")
                for role in set(Role) - roles:
                    wrong = await anonymous.request(
                        method, url, content=body, headers=headers(settings, role) | json_type
                    )
                    assert wrong.status_code == 403, (method, path, role, wrong.text)
                    assert role in wrong.json()["detail"]
        assert app.recorder.max_notification_id() == before, "a refused request stored something"


@pytest.mark.parametrize("service", SERVICES)
async def test_health_is_open_and_metrics_and_counters_are_for_operators(
    settings: Settings, service: ServiceName
) -> None:
    async with (
        served(settings, service, start=True) as (http, _),
        client(http) as anonymous,
        client(http, settings, Role.OPERATOR) as operator,
        client(http, settings, Role.STAFF) as staff,
    ):
        assert (await anonymous.get("/health/live")).status_code == 200
        assert (await anonymous.get("/health/ready")).status_code in (200, 503)
        metrics = await operator.get("/metrics")
        assert metrics.status_code == 200 and "lots_entries_processed_total" in metrics.text
        assert (await operator.get("/counters")).json()["service"] == service
        for path in ("/metrics", "/counters"):
            assert (await anonymous.get(path)).status_code == 401
            assert (await staff.get(path)).status_code == 403


async def test_a_publisher_submits_and_reads_only_as_its_own_sources(
    settings: Settings, redis_client: redis.Redis
) -> None:
    elevhalsa, socialtjanst, staff = new_token(), new_token(), new_token()
    settings = settings.model_copy(
        update={
            "api_tokens": (
                entry_for(elevhalsa, Role.PUBLISHER, ["linkoping.elevhalsa"]),
                entry_for(socialtjanst, Role.PUBLISHER, ["linkoping.socialtjanst"]),
                entry_for(staff, Role.STAFF),
            )
        }
    )
    async with served(settings, "intake", start=True) as (http, app), client(http) as api:
        as_elevhalsa = bearer_headers(elevhalsa)
        body = referral(source="linkoping.socialtjanst")
        for claimed in ("linkoping.socialtjanst", "", 7, ["linkoping.elevhalsa"]):
            refused = await api.post(
                "/referrals", json=body | {"source": claimed}, headers=as_elevhalsa
            )
            assert refused.status_code == 403, refused.text
        assert app.recorder.max_notification_id() in (None, 0), "a refused referral was stored"
        assert redis_client.xlen(settings.stream("intake.events")) == 0

        own = await api.post("/referrals", json=body, headers=bearer_headers(socialtjanst))
        assert own.status_code == 202, own.text
        answer = f"/referrals/linkoping.socialtjanst/{body['referral_id']}"
        assert (await api.get(answer, headers=bearer_headers(socialtjanst))).status_code == 202
        assert (await api.get(answer, headers=as_elevhalsa)).status_code == 403
        assert (await api.get(answer, headers=bearer_headers(staff))).status_code == 202
        case = f"/cases/{own.json()['case_id']}"
        assert (await api.get(case, headers=bearer_headers(socialtjanst))).status_code == 403
        assert (await api.get(case, headers=bearer_headers(staff))).status_code == 200
        # the development tokens are not accepted once tokens are configured
        dev = headers(settings.model_copy(update={"api_tokens": ()}), Role.STAFF)
        assert (await api.get(case, headers=dev)).status_code == 401


async def test_a_body_too_large_is_refused_before_it_is_read(settings: Settings) -> None:
    settings = settings.model_copy(update={"http_max_body_bytes": 4096})
    async with served(settings, "intake") as (http, app), client(http) as anonymous:
        huge = json.dumps(referral(note="x" * 10_000)).encode()
        publisher = headers(settings, Role.PUBLISHER)
        assert (await anonymous.post("/referrals", content=huge)).status_code == 401
        too_large = await anonymous.post("/referrals", content=huge, headers=publisher)
        assert too_large.status_code == 413 and "4096" in too_large.json()["detail"]

        async def chunks() -> Any:  # no Content-Length: counted as it arrives
            for start in range(0, len(huge), 1000):
                yield huge[start : start + 1000]

        streamed = await anonymous.post("/referrals", content=chunks(), headers=publisher)
        assert streamed.status_code == 413
        assert app.recorder.max_notification_id() in (None, 0)


async def test_malformed_referral_bodies_are_answered_422_and_store_nothing(
    settings: Settings,
) -> None:
    async with served(settings, "intake") as (http, app):
        async with client(http, settings, Role.PUBLISHER) as publisher:
            for body in (
                json.dumps(referral()).encode("utf-16"),
                b"[" * 200_000,
                b'{"source": "linkoping.elevhalsa", "referral_id": "\xff"}',
                b"",
            ):
                answer = await publisher.post(
                    "/referrals", content=body, headers={"content-type": "application/json"}
                )
                assert answer.status_code == 422, (body[:40], answer.text)
                assert answer.json()["reasons"][0]["code"] == "malformed"
        assert app.recorder.max_notification_id() in (None, 0)


@pytest.mark.parametrize("service", SERVICES)
async def test_openapi_declares_the_bearer_scheme_and_the_refusals(
    settings: Settings, service: ServiceName
) -> None:
    async with served(settings, service) as (http, _), client(http) as anonymous:
        spec = (await anonymous.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if path in HEALTH:
                assert "security" not in operation and "401" not in operation["responses"]
                continue
            assert operation["security"] == [{"bearer": []}], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_the_status_page_is_open_and_its_data_is_for_operators(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    page = TestClient(status_page(settings))
    assert page.get("/").status_code == 200
    assert page.get("/status.json").status_code == 401
    assert page.get("/status.json", headers=headers(settings, Role.STAFF)).status_code == 403
    shown = page.get("/status.json", headers=headers(settings, Role.OPERATOR))
    assert shown.status_code == 200 and set(shown.json()) == {"latest", "series"}


def test_development_tokens_are_made_once_kept_private_and_stored_hashed(
    settings: Settings,
) -> None:
    registry = TokenRegistry.from_settings(settings)
    path = settings.var_dir / "keys" / "api-tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = json.loads(path.read_text())
    assert TokenRegistry.from_settings(settings).entries == registry.entries  # made once
    for role in Role:
        token = tokens[role]
        assert token.startswith("lots_") and len(token) >= 45
        principal = registry.identify(token)
        assert principal is not None and principal.role is role
        assert all(token not in entry.model_dump_json() for entry in registry.entries)
    assert registry.identify(tokens["staff"] + "x") is None
    assert registry.identify("") is None


def test_services_starting_together_make_and_read_one_set_of_development_tokens(
    settings: Settings,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from infra.dev_tokens import dev_tokens

    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda _: dev_tokens(settings), range(16)))
    assert all(tokens == seen[0] for tokens in seen)
    assert [p.name for p in (settings.var_dir / "keys").iterdir()] == ["api-tokens.json"]


def test_the_same_token_listed_twice_is_a_settings_error() -> None:
    token = new_token()
    with pytest.raises(SettingsError, match="twice"):
        TokenRegistry([entry_for(token, Role.STAFF), entry_for(token, Role.OPERATOR)])


def test_production_without_tokens_refuses_to_start_and_says_what_to_set(
    settings: Settings, tmp_path: Path
) -> None:
    production = Settings(env="production", var_dir=tmp_path / "var")
    with pytest.raises(SettingsError, match="LOTS_API_TOKENS"):
        TokenRegistry.from_settings(production)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTS_")}
    env |= {"LOTS_ENV": "production", "LOTS_VAR_DIR": str(tmp_path / "var")}
    env |= {"LOTS_EMBEDDED_REDIS": "never", "LOTS_CIPHER_KEY": "A" * 44}
    done = subprocess.run(
        [sys.executable, "-m", "services.billing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode != 0 and "LOTS_API_TOKENS is not set" in done.stderr
    assert not (tmp_path / "var" / "keys" / "api-tokens.json").exists()


def test_configured_tokens_are_read_from_the_environment_as_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = new_token()
    entry = {"sha256": digest(token), "role": "publisher", "sources": ["a.b"], "name": "A"}
    monkeypatch.setenv("LOTS_API_TOKENS", json.dumps([entry]))
    settings = Settings()
    assert settings.api_tokens == (TokenEntry.model_validate(entry),)
    principal = TokenRegistry.from_settings(settings).identify(token)
    assert principal is not None and principal.may_publish_as("a.b")
    assert not principal.may_publish_as("c.d")
    for bad in (
        [{"sha256": "00", "role": "staff"}],
        [{"sha256": digest(token), "role": "publisher"}],
        [{"sha256": digest(token), "role": "staff", "sources": ["a.b"]}],
        [{"sha256": digest(token), "role": "root"}],
    ):
        monkeypatch.setenv("LOTS_API_TOKENS", json.dumps(bad))
        with pytest.raises(ValueError):
            Settings()


def test_the_supervisor_hands_configured_tokens_to_the_services(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lots.supervisor import Supervisor

    entries = (
        entry_for(new_token(), Role.PUBLISHER, ["a.b", "c.d"], "A"),
        entry_for(new_token(), Role.OPERATOR),
    )
    for name, value in Supervisor(Settings(api_tokens=entries)).child_env().items():
        if name.startswith("LOTS_"):
            monkeypatch.setenv(name, value)
    assert Settings().api_tokens == entries


def test_lots_token_new_prints_a_token_once_and_the_entry_that_admits_it() -> None:
    runner = CliRunner()
    made = runner.invoke(
        cli, ["token", "new", "--role", "publisher", "--source", "a.b", "--source", "c.d"]
    )
    assert made.exit_code == 0, made.output
    token = re.search(r"(lots_[A-Za-z0-9_-]{43})", made.output)
    assert token is not None
    entry = TokenEntry.model_validate_json(made.output.strip().splitlines()[-1])
    assert entry.sha256 == digest(token.group(1)) and entry.sources == {"a.b", "c.d"}
    principal = TokenRegistry([entry]).identify(token.group(1))
    assert principal is not None and principal.role is Role.PUBLISHER

    as_json = runner.invoke(cli, ["token", "new", "--role", "operator", "--json"])
    shown = json.loads(as_json.output)
    assert shown["entry"] == {"sha256": digest(shown["token"]), "role": "operator"}
    assert runner.invoke(cli, ["token", "new", "--role", "staff"]).output.count("lots_") == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--role", "root"], "choose publisher, staff, auditor, operator"),
        (["--role", "publisher"], "needs the sources"),
        (["--role", "staff", "--source", "a.b"], "only publishers"),
        (["--role", "publisher", "--source", " "], "must not be empty"),
    ],
)
def test_lots_token_new_refuses_bad_arguments(args: list[str], says: str) -> None:
    done = CliRunner().invoke(cli, ["token", "new", *args])
    assert done.exit_code == 2 and says in done.output, done.output
    assert "lots_" not in done.output
