"""compose.yaml cannot run here (no Docker): it is parsed and checked against the code instead."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.settings import SERVICES, Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())  # type: ignore[no-any-return]


def test_compose_runs_redis_postgres_the_three_services_and_monitoring() -> None:
    always = {name for name, spec in compose()["services"].items() if "profiles" not in spec}
    assert always == {"redis", "postgres", *SERVICES, "prometheus", "grafana"}


def test_the_failover_profile_adds_a_replica_and_three_sentinels_of_the_services_master() -> None:
    from infra.acl import password_hash

    services = compose()["services"]
    profiled = {name for name, spec in services.items() if "failover" in spec.get("profiles", ())}
    assert profiled == {"redis-replica", "sentinel-1", "sentinel-2", "sentinel-3"}
    replica = services["redis-replica"]["command"]
    assert replica[replica.index("--replicaof") + 1 :][:2] == ["redis", "6379"]
    env = services["billing"]["environment"]
    assert env["LOTS_REDIS_SENTINELS"] == "${LOTS_REDIS_SENTINELS:-}"  # none unless asked
    master = env["LOTS_REDIS_SENTINEL_MASTER"]
    acl = (ROOT / "infra" / "redis.acl").read_text().splitlines()
    for name in ("sentinel-1", "sentinel-2", "sentinel-3"):
        script = services[name]["command"][-1]
        assert f"'sentinel monitor {master} redis 6379 2'" in script
        user = script.split(f"'sentinel auth-user {master} ")[1].split("'")[0]
        secret = script.split(f"'sentinel auth-pass {master} ")[1].split("'")[0]
        (line,) = [x for x in acl if x.startswith(f"user {user} ")]
        assert line.split()[3] == password_hash(secret)


def test_prometheus_scrapes_every_service_on_its_port() -> None:
    config = yaml.safe_load((ROOT / "infra" / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    targets = set(job["static_configs"][0]["targets"])
    assert targets == {f"{s}:{Settings().port_of(s)}" for s in SERVICES}
    mounts = compose()["services"]["prometheus"]["volumes"]
    assert "./infra/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts


def test_prometheus_presents_the_operator_token_that_compose_gives_it() -> None:
    config = yaml.safe_load((ROOT / "infra" / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["authorization"]["type"] == "Bearer"
    secret = job["authorization"]["credentials_file"].removeprefix("/run/secrets/")
    assert secret in compose()["services"]["prometheus"]["secrets"]
    assert compose()["secrets"][secret] == {"environment": "LOTS_OPERATOR_TOKEN"}


def test_the_services_require_api_tokens() -> None:
    for name in SERVICES:
        env = compose()["services"][name]["environment"]
        assert env["LOTS_API_TOKENS"].startswith("${LOTS_API_TOKENS:?")


def test_the_dashboard_only_uses_metrics_the_services_export() -> None:
    import json
    import re

    from infra.metrics import Metrics

    exported = set()
    for metric in Metrics("intake").registry.collect():
        exported.add(metric.name)
        exported.update(sample.name for sample in metric.samples)
    dashboard = json.loads((ROOT / "infra" / "grafana" / "dashboards" / "lots.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"lots_[a-z_]+", target["expr"])
    }
    assert used and used <= exported, used - exported


def test_each_service_runs_its_own_module_on_its_own_port() -> None:
    services = compose()["services"]
    defaults = Settings()
    for name in SERVICES:
        spec = services[name]
        assert spec["command"] == ["python", "-m", f"services.{name}"]
        assert importlib.util.find_spec(f"services.{name}.__main__") is not None
        port = int(spec["environment"][f"LOTS_{name.upper()}_PORT"])
        assert port == defaults.port_of(name)
        assert spec["ports"] == [f"{port}:{port}"]
        assert f":{port}/health/ready" in " ".join(spec["healthcheck"]["test"])
        assert set(spec["depends_on"]) == {"redis", "postgres"}


def as_read_from(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a service reads from compose's ``env`` (its ``${...}`` left out)."""
    with monkeypatch.context() as patch:
        for key, value in env.items():
            if not str(value).startswith("${"):
                patch.setenv(key, str(value))
        return Settings()


def test_every_lots_variable_in_compose_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    fields = {f"LOTS_{name.upper()}" for name in Settings.model_fields}
    for name in SERVICES:
        env = compose()["services"][name]["environment"]
        unknown = {k for k in env if k.startswith("LOTS_")} - fields
        assert not unknown, f"{name}: {unknown}"
        assert env["LOTS_STORE"] == "postgres" and env["LOTS_EMBEDDED_REDIS"] == "never"
        assert as_read_from(env, monkeypatch).env == "production"


def test_the_sources_with_their_own_stream_are_those_of_the_committed_acl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.acl import COMPOSE_SOURCES

    for name in SERVICES:  # lots status run in any of them reports their streams too
        env = compose()["services"][name]["environment"]
        assert as_read_from(env, monkeypatch).intake_sources == set(COMPOSE_SOURCES)
    acl = (ROOT / "infra" / "redis.acl").read_text()
    assert all(f"user source.{s} on " in acl for s in COMPOSE_SOURCES)


def test_intake_requires_the_cipher_key() -> None:
    env = compose()["services"]["intake"]["environment"]
    assert env["LOTS_CIPHER_KEY"].startswith("${LOTS_CIPHER_KEY:?")


def test_the_image_copies_every_package_the_services_import() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("events", "infra", "services", "lots"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_intake_rules_come_from_named_settings() -> None:
    from services.intake.app import policy
    from services.intake.settings import IntakeSettings

    chosen = policy(IntakeSettings(first_contact_days_network=10, de_facto_days_off=False))
    assert chosen.min_indicators == 5, "all five, unless the administration's decision is recorded"
    assert chosen.first_contact_days == {"network": 10, "coordinated": 14, "counselling": 14}
    assert chosen.calendar.de_facto_days_off is False


def test_the_supervisor_hands_its_settings_to_the_services_readably(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lots.supervisor import Supervisor

    settings = Settings(
        audit_personal_data_roles=frozenset({"a", "b"}),
        batch_size=17,
        intake_sources=frozenset({"x.y", "z"}),
        intake_shared_stream=False,
        allow_open_redis=True,
    )
    for name, value in Supervisor(settings).child_env().items():
        if name.startswith("LOTS_"):
            monkeypatch.setenv(name, value)
    again = Settings()  # as a child process reads them
    assert again.audit_personal_data_roles == {"a", "b"} and again.batch_size == 17
    assert again.intake_sources == {"x.y", "z"} and again.intake_shared_stream is False
    assert again.allow_open_redis is True


def test_a_simulated_clock_starts_where_told_and_runs_and_production_refuses_it() -> None:
    from datetime import UTC, datetime

    from infra.clock import make_clock, real_clock

    start = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    clock = make_clock(Settings(simulated_start=start))
    first, second = clock(), clock()
    assert start <= first <= second < datetime(2026, 10, 1, 8, 1, tzinfo=UTC)
    assert make_clock(Settings()) is real_clock
    with pytest.raises(ValueError, match="development only"):
        Settings(env="production", simulated_start=start)


def test_redis_loads_the_committed_acl_and_each_service_logs_in_as_itself() -> None:
    from infra.acl import password_hash

    services = compose()["services"]
    redis_spec = services["redis"]
    assert "./infra/redis.acl:/etc/redis/users.acl:ro" in redis_spec["volumes"]
    command = redis_spec["command"]
    assert command[command.index("--aclfile") + 1] == "/etc/redis/users.acl"
    assert redis_spec["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]  # default may PING
    acl = (ROOT / "infra" / "redis.acl").read_text().splitlines()
    for name in SERVICES:
        env = services[name]["environment"]
        assert env["LOTS_REDIS_USERNAME"] == name
        (line,) = [x for x in acl if x.startswith(f"user {name} ")]
        assert line.split()[3] == password_hash(env["LOTS_REDIS_PASSWORD"])


def test_intake_reads_its_own_settings_beside_the_shared_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lots.supervisor import Supervisor
    from services.intake.settings import IntakeSettings

    monkeypatch.setenv("LOTS_RETENTION_YEARS", "7")
    shared = Settings(batch_size=17, intake_shared_stream=False)
    intake = IntakeSettings.of(shared)  # as intake's make_app reads them
    assert (intake.batch_size, intake.intake_shared_stream) == (17, False)
    assert intake.consumer_name == shared.consumer_name and intake.retention_years == 7
    assert IntakeSettings.of(intake) is intake
    monkeypatch.delenv("LOTS_RETENTION_YEARS")
    handed = IntakeSettings(intake_rate_per_minute=0, first_contact_days_network=9)
    for name, value in Supervisor(handed).child_env("intake").items():
        if name.startswith("LOTS_"):
            monkeypatch.setenv(name, value)
    again = IntakeSettings()  # as the intake child reads them
    assert (again.intake_rate_per_minute, again.first_contact_days_network) == (0, 9)
