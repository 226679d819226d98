"""``lots dead-letters`` on a Redis with the project's ACL: each step logs in as the user whose
rights it needs; and the README's ``redis-cli`` example, run as written, sends a message id."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

from typer.testing import CliRunner

from events.codec import encode
from infra.redis import connect
from infra.redis_passwords import dev_password, login
from infra.redis_server import resolve_redis
from infra.settings import Settings
from lots.cli import app
from tests.conftest import free_port
from tests.e2e.test_referral_path import redis_cli
from tests.support.acl import acl_server, as_user, require_redis7
from tests.support.cli import cli_env
from tests.support.flow import meeting


def test_on_the_embedded_redis_each_step_logs_in_as_a_user_allowed_to_take_it(
    settings: Settings,
) -> None:
    """The operator lists and shows; the stream's own writer (here intake) sends it back; the
    project's ACL refuses nothing (``ACL LOG`` stays empty)."""
    require_redis7()
    mine = settings.model_copy(
        update={"embedded_redis": "always", "embedded_redis_port": free_port()}
    )
    url, started = resolve_redis(mine)
    assert started is not None
    env = cli_env(mine) | {
        "LOTS_REDIS_URL": url,
        "LOTS_EMBEDDED_REDIS_PORT": str(mine.embedded_redis_port),
    }
    admin = connect(login(mine, url, "admin"), decode_responses=True)
    try:
        sent = encode(meeting(7))
        admin.xadd(  # as billing's runtime writes it, with its rights (docs/redis-acl.md)
            mine.stream("intake.events.dead"),
            {
                **sent,
                "error": "boom",
                "attempts": "5",
                "failed_at": "2026-12-01T08:00:00+00:00",
                "entry_id": "1-1",
                "group": "billing",
            },
        )

        def run(*args: str) -> str:
            result = CliRunner().invoke(app, ["dead-letters", *args], env=env)
            assert result.exit_code == 0, result.output
            return result.stdout

        [row] = json.loads(run("list", "--json"))["dead_letters"]
        assert row["failed_at"] == "2026-12-01 09:00:00 CET"
        run("show", row["id"])
        run("retry", row["id"], "--by", "ops", "--reason", "billing fixed")
        [(_, resent)] = admin.xrange(mine.stream("intake.events"))
        assert resent == sent
        assert admin.acl_log(count=100) == []
        # configured as the operator, a retry is refused by Redis and says whose rights it needs
        env |= {
            "LOTS_REDIS_USERNAME": "operator",
            "LOTS_REDIS_PASSWORD": dev_password(mine, "operator"),
        }
        admin.xadd(
            mine.stream("intake.events.dead"), {**sent, "error": "again", "group": "billing"}
        )
        [*_, last] = json.loads(run("list", "--json"))["dead_letters"]
        result = CliRunner().invoke(
            app, ["dead-letters", "retry", last["id"], "--reason", "x"], env=env
        )
        assert result.exit_code == 1
        assert "refuses user operator" in result.stderr and "intake's rights" in result.stderr
        assert json.loads(run("list", "--json"))["dead_letters"][-1]["state"] == "open"
    finally:
        admin.close()
        started.stop()


def test_the_readmes_redis_cli_example_sends_a_message_id_without_uuidgen(tmp_path: Path) -> None:
    """The README's own command, run by bash as written (redis-cli pointed at a server of the
    test's own, with the project's ACL): its entry has a UUID for ``id``, where ``uuidgen``,
    missing on Debian, left it empty and the entry dead."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
    [example] = [b for b in blocks if b.startswith("redis-cli XADD intake.referrals '*'")]
    assert "uuidgen" not in example
    with acl_server(tmp_path / "redis", "") as server:
        cli = redis_cli()
        script = f'redis-cli() {{ "{cli}" -p {server.port} "$@"; }}\n{example}'
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "ERR" not in done.stdout, done
        admin = as_user(server.url, "admin", decode_responses=True)
        [(_, fields)] = admin.xrange("intake.referrals")
        admin.close()
    assert str(uuid.UUID(fields["id"])) == fields["id"]
    assert json.loads(fields["data"])["referral_id"] == "EH-2026-000123"
