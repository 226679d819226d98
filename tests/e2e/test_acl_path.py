"""The whole system on the embedded Redis with its ACL: each service logs in as its own user.

``lots up`` starts the embedded Redis (a redis-server 7 on ``PATH``) with the ACL of
infra/acl.py and development passwords under ``var/keys/redis/``, and hands each child its own
user. A referral written by a plain client as ``default`` flows through intake, scheduling and
billing and back to intake (billing.events), with a dead letter on the way, and a source with
a stream of its own sends as its own user; afterwards ``ACL LOG`` shows that Redis refused
nothing to anybody but the start-up check's ``ACL WHOAMI`` (infra/redis_guard.py).
"""

from __future__ import annotations

import json
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from infra.auth import Role
from infra.monitor import drained
from infra.redis import connect
from infra.redis_passwords import dev_password
from infra.settings import SERVICES, Settings
from lots.status import collect
from lots.supervisor import running
from tests.conftest import free_port
from tests.e2e.test_scheduling_path import COUNSELLOR, COUPLE, restart_scheduling_at
from tests.support.acl import require_redis7
from tests.support.flow import wait_until

BUP = "region.ostergotland.bup"


def test_each_service_runs_the_pipeline_as_its_own_acl_user(
    settings: Settings, tmp_path: Path
) -> None:
    require_redis7()
    ports = {f"{s}_port": free_port() for s in SERVICES}
    settings = settings.model_copy(
        update={
            **ports,
            "embedded_redis": "always",
            "embedded_redis_port": free_port(),
            "intake_sources": frozenset({BUP}),
        }
    )
    with running(settings, log_file=tmp_path / "services.log") as system:
        assert system.embedded is not None
        assert system.guard is not None and system.guard.guarded
        for service in SERVICES:
            env = system.child_env(service)
            assert env["LOTS_REDIS_USERNAME"] == service
            assert env["LOTS_REDIS_PASSWORD"] == dev_password(settings, service)
            key = settings.var_dir / "keys" / "redis" / service
            assert stat.S_IMODE(key.stat().st_mode) == 0o600
        acl = (settings.redis_dir / "users.acl").read_text()
        assert "(" in acl and all(dev_password(settings, s) not in acl for s in SERVICES)
        admin = connect(system.login("admin"), decode_responses=True)
        assert {c["user"] for c in admin.client_list()} >= set(SERVICES)
        operator = connect(system.login("operator"), decode_responses=True)

        publisher = redis.Redis.from_url(system.redis_url)  # default: no password
        fields = {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4())}
        fields["data"] = json.dumps(COUPLE | {"submitted_at": datetime.now(UTC).isoformat()})
        publisher.xadd(settings.stream("intake.referrals"), fields)  # type: ignore[arg-type]
        publisher.xadd(
            settings.stream("intake.referrals"),
            {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()), "data": "{"},
        )
        publisher.close()
        intake_events = settings.stream("intake.events")
        wait_until(lambda: operator.xlen(intake_events) >= 1)
        (_, received), *_ = operator.xrange(intake_events)
        assert received["type"] == "ReferralReceived", received
        case_id = json.loads(received["data"])["case_id"]

        api = system.client("scheduling", Role.STAFF, timeout=10)
        assert api.post("/staff", json=COUNSELLOR).status_code == 201
        wait_until(lambda: api.get(f"/queue/{case_id}").status_code == 200)
        booked = api.post("/bookings/first-contacts", json={"programme": "counselling"}).json()
        (meeting,) = booked["booked"]
        restart_scheduling_at(
            system, datetime.fromisoformat(meeting["ends_at"]) + timedelta(hours=1)
        )
        api = system.client("scheduling", Role.STAFF, timeout=10)
        held = api.post(
            f"/meetings/{meeting['meeting_id']}/held",
            json={"started_at": meeting["starts_at"], "ended_at": meeting["ends_at"],
                  "participants": 2},
        )  # fmt: skip
        assert held.status_code == 200, held.text

        billing_events = settings.stream("billing.events")

        def logged() -> list[str]:
            return [f["type"] for _, f in operator.xrange(billing_events)]

        wait_until(lambda: "SessionLogged" in logged())
        # a source with a stream of its own sends as its own user (development password)
        bup = connect(system.login(f"source.{BUP}"))
        own = COUPLE | {"source": BUP, "submitted_at": datetime.now(UTC).isoformat()}
        sent = fields | {"id": str(uuid.uuid4()), "data": json.dumps(own)}
        bup.xadd(settings.stream(f"intake.referrals.{BUP}"), sent)  # type: ignore[arg-type]
        bup.close()
        wait_until(
            lambda: any(json.loads(f["data"]).get("source") == BUP
                        for _, f in operator.xrange(intake_events))
        )  # fmt: skip
        wait_until(lambda: drained(operator, settings.stream_prefix, sources={BUP}))
        assert operator.xlen(settings.stream("intake.referrals.dead")) == 1

        report = collect(settings.model_copy(update={"redis_url": system.redis_url}))
        assert report["redis"] is True and all(r["exists"] for r in report["streams"])
        assert f"intake.referrals.{BUP}" in {r["stream"] for r in report["streams"]}
        assert report["redis_acl"] == {"guarded": True, "open": False, "warning": None}
        log = admin.acl_log(count=1000)
        probes = {e["username"] for e in log if e["object"] == "acl|whoami"}
        assert probes >= {"default", *SERVICES}, "each service checked Redis's ACL"
        assert [e for e in log if e["object"] != "acl|whoami"] == [], "Redis refused something"
        admin.close()
        operator.close()


def test_what_the_services_wrote_survives_a_restart_of_the_embedded_redis(
    settings: Settings, tmp_path: Path
) -> None:
    """The embedded Redis keeps its data in an append-only file and replays it when it starts.
    Redis 7 replays a MULTI/EXEC from that file as the ``default`` user, which our ACL limits to
    adding referrals, and drops the whole transaction (redis/redis#14541). The services write
    none, but Redis 7.0 writes one itself for every ``XREADGROUP`` that reads more than one
    entry (its ``XCLAIM``s): after a restart those reads' bookkeeping is gone, the entries are
    read again and skipped as processed. What the services wrote must survive all the same:
    the answer once, the dead letter once, no referral left."""
    require_redis7()
    ports = {f"{s}_port": free_port() for s in SERVICES}
    settings = settings.model_copy(
        update={**ports, "embedded_redis": "always", "embedded_redis_port": free_port()}
    )
    referrals = settings.stream("intake.referrals")
    dead = settings.stream("intake.referrals.dead")
    events = settings.stream("intake.events")
    letters: list[str] = []
    for round_ in range(2):
        with running(settings, log_file=tmp_path / f"services-{round_}.log") as system:
            operator = connect(system.login("operator"), decode_responses=True)
            if round_ == 0:
                publisher = redis.Redis.from_url(system.redis_url)
                fields = {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4())}
                fields["data"] = json.dumps(
                    COUPLE | {"submitted_at": datetime.now(UTC).isoformat()}
                )
                publisher.xadd(referrals, fields)  # type: ignore[arg-type]
                publisher.xadd(
                    referrals,
                    {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()),
                     "data": "{"},
                )  # fmt: skip
                publisher.close()
                wait_until(lambda op=operator: op.xlen(events) == 1 and op.xlen(dead) == 1)
            wait_until(lambda op=operator: drained(op, settings.stream_prefix))
            # After the restart: the same dead letter is still there, once; its entry is gone.
            letters += [entry_id for entry_id, _ in operator.xrange(dead)]
            assert len(set(letters)) == 1 and len(letters) == round_ + 1, letters
            assert operator.xlen(referrals) == 0, round_
            assert operator.xlen(events) == 1, round_
            operator.close()
    log = (settings.redis_dir / "redis.log").read_text()
    dropped = [line for line in log.splitlines() if "AOF-loading-client" in line]
    assert all("after processing the command 'exec'" in line for line in dropped), dropped
