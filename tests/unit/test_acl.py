"""The ACL file is rendered from the topology: the committed one cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.acl import (
    COMPOSE_PASSWORD,
    COMPOSE_SOURCES,
    USERS,
    compose_file,
    compose_hashes,
    main,
    password_hash,
    render,
    user_selectors,
)
from infra.settings import SERVICES
from infra.topology import CONSUMES, PUBLISHES, REFERRALS, is_referral_stream

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_acl_is_the_one_the_topology_renders() -> None:
    committed = (ROOT / "infra" / "redis.acl").read_text()
    assert committed == compose_file(), (
        "infra/redis.acl is out of date: python -m infra.acl --compose > infra/redis.acl"
    )


def test_passwords_are_stored_as_sha256_only() -> None:
    text = render(compose_hashes())
    for user in USERS:
        plain = COMPOSE_PASSWORD.format(user=user)
        assert plain not in text
        assert f"user {user} on {password_hash(plain)} " in text
    assert password_hash("password") == (
        "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
    )


def test_default_has_the_publishers_rights_and_no_password() -> None:
    lines = render(compose_hashes(), "p.").splitlines()
    default = next(line for line in lines if line.startswith("user default "))
    publisher = next(line for line in lines if line.startswith("user publisher "))
    assert default.startswith("user default on nopass resetchannels -@all ")
    assert default.split(" nopass ")[1] == publisher.split(" ", 4)[4]
    assert default.endswith(" +xadd ~p.intake.referrals")


def test_a_service_writes_only_its_own_stream_and_its_dead_letters() -> None:
    for service in SERVICES:
        writes = {
            key for s in user_selectors(service, "x.") if "xadd" in s.commands for key in s.keys
        }
        assert writes == {f"x.{PUBLISHES[service]}"} | {f"x.{s}.dead" for s in CONSUMES[service]}
        consumed = [s for s in user_selectors(service, "x.") if "xreadgroup" in s.commands]
        assert [set(s.keys) for s in consumed] == [{f"x.{s}" for s in CONSUMES[service]}]
        assert "xadd" not in consumed[0].commands


def test_the_operator_never_reads_referrals() -> None:
    sources = ["a.b", "c"]
    keys = {k for s in user_selectors("operator", "", sources) for k in s.keys}
    assert {"intake.referrals.a.b", "intake.referrals.c", "intake.referrals.c.dead"} <= keys
    for selector in user_selectors("operator", "", sources):
        if {"xrange", "xrevrange", "xinfo|stream"} & set(selector.commands):
            assert REFERRALS not in selector.keys
            assert not [k for k in selector.keys if is_referral_stream(k)], selector.keys
            assert "intake.referrals.a.b.dead" in selector.keys  # dead letters are redacted
        assert not {"xadd", "xdel", "xtrim", "del", "set"} & set(selector.commands)


def test_a_source_with_its_own_stream_may_only_add_to_it() -> None:
    text = render(compose_hashes(["a.b", "c-d"]), "p.", sources=["a.b", "c-d"])
    line = next(x for x in text.splitlines() if x.startswith("user source.a.b "))
    assert line.endswith(" +discard +xadd ~p.intake.referrals.a.b")
    assert line.count("~") == 1 and "(" not in line
    assert "user source.c-d on " in text


def test_intake_consumes_deletes_and_dead_letters_each_sources_stream_alone() -> None:
    mine = user_selectors("intake", "", ["a.b"])
    consumed = next(s for s in mine if "xreadgroup" in s.commands)
    assert "intake.referrals.a.b" in consumed.keys and "xadd" not in consumed.commands
    writes = {k for s in mine if "xadd" in s.commands for k in s.keys}
    assert "intake.referrals.a.b.dead" in writes and "intake.referrals.a.b" not in writes
    deleted = next(s for s in mine if "xdel" in s.commands)
    assert set(deleted.keys) == {REFERRALS, "intake.referrals.a.b"}
    for service in ("scheduling", "billing"):  # only intake creates a source's group
        keys = {k for s in user_selectors(service, "", ["a.b"]) for k in s.keys}
        assert not {k for k in keys if k.startswith("intake.referrals.a.b")}


def test_a_closed_shared_stream_leaves_publisher_and_default_nothing_to_write() -> None:
    text = render(compose_hashes(["a"]), sources=["a"], shared=False)
    for user in ("default", "publisher"):
        line = next(x for x in text.splitlines() if x.startswith(f"user {user} "))
        assert line.endswith(" +exec +discard") and "~" not in line
    assert "+xadd ~intake.referrals.a" in text  # the source's own stays open
    consumed = next(s for s in user_selectors("intake", "", ["a"]) if "xreadgroup" in s.commands)
    assert REFERRALS in consumed.keys  # intake still reads (and refuses) what is left there


@pytest.mark.parametrize("source", ["dead", "x.dead", "a b", "*", ".a", "a" * 101])
def test_a_source_whose_stream_would_clash_or_widen_a_pattern_is_refused(source: str) -> None:
    with pytest.raises(ValueError, match="source"):
        render(compose_hashes(), sources=[source])


def test_coarse_has_no_selectors_and_the_same_rights_merged() -> None:
    fine = render(compose_hashes(), "p.").splitlines()
    coarse = render(compose_hashes(), "p.", coarse=True).splitlines()
    assert all("(" not in line for line in coarse)
    assert any("(" in line for line in fine)
    for a, b in zip(fine, coarse, strict=True):
        words = lambda line: set(line.replace("(", " ").replace(")", " ").split())  # noqa: E731
        assert words(a) == words(b)


def test_a_user_may_have_two_passwords_while_rotating() -> None:
    hashes = compose_hashes() | {"intake": [password_hash("old"), password_hash("new")]}
    line = next(x for x in render(hashes).splitlines() if x.startswith("user intake "))
    assert line.startswith(f"user intake on {password_hash('old')} {password_hash('new')} ")


@pytest.mark.parametrize("prefix", ["a b", "x*", "t\n", "p]"])
def test_a_prefix_that_would_change_the_file_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="stream prefix"):
        render(compose_hashes(), prefix)


def test_missing_or_malformed_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="no password for Redis user"):
        render({u: h for u, h in compose_hashes().items() if u != "billing"})
    with pytest.raises(ValueError, match="not a #<sha256>"):
        render(compose_hashes() | {"admin": ["secret"]})
    with pytest.raises(ValueError, match="unknown Redis user"):
        render(compose_hashes() | {"root": [password_hash("x")]})


def test_the_command_renders_from_passwords_and_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "admin"
    secret.write_text("from-a-file\n")
    args = [f"--password={u}={u}-pw" for u in USERS if u != "admin"]
    assert main(["--prefix", "env1.", *args, f"--password=admin=@{secret}"]) == 0
    out = capsys.readouterr().out
    assert f"user admin on {password_hash('from-a-file')} " in out
    assert f"user intake on {password_hash('intake-pw')} " in out
    assert "~env1.intake.events" in out
    with pytest.raises(SystemExit) as exc:
        main(["--password=intake"])
    assert exc.value.code == 2


def test_the_command_renders_sources_and_a_closed_shared_stream(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [f"--password={u}={u}-pw" for u in USERS]
    with pytest.raises(SystemExit):  # a source's user needs a password too
        main([*args, "--source", "a.b"])
    assert "no password for Redis user(s): source.a.b" in capsys.readouterr().err
    assert main([*args, "--source", "a.b", "--password=source.a.b=s", "--no-shared-stream"]) == 0
    out = capsys.readouterr().out
    assert f"user source.a.b on {password_hash('s')} " in out
    assert "user default on nopass resetchannels -@all " in out
    assert "~intake.referrals\n" not in out and "~intake.referrals " in out
    assert main(["--compose"]) == 0
    assert capsys.readouterr().out == compose_file()
    assert [u for u in compose_hashes(COMPOSE_SOURCES) if u not in USERS] == [
        f"source.{s}" for s in COMPOSE_SOURCES
    ]
