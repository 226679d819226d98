"""Is Redis guarded by the project's ACL? Production refuses to run on one that is not.

On a Redis without the project's users (docs/redis-acl.md) whoever reaches it may write any
stream: a ``MeetingHeld`` added by hand is billed. Two things are checked, each with
``ACL WHOAMI``, which no user of the project's ACL may run (infra/acl.py):

* a connection that does not log in (Redis's ``default`` user) may run it, or Redis has no
  ACL at all: **open** — anyone who can reach it can forge events;
* this process's own login may run it: it is not one of the project's users, and may do more
  than its service needs (an ``admin``, or ``default`` behind a ``requirepass`` password).

``LOTS_ENV=production`` refuses to start on either unless ``LOTS_ALLOW_OPEN_REDIS`` is set;
development (and production so told) logs a warning once at start. ``lots status`` names the
risk in its report (``redis_acl``).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
import structlog

from infra.redis import auth, client, origin, where
from infra.settings import Settings, SettingsError

log = structlog.get_logger(__name__)

#: What ``lots status`` and the start-up warning say of an open Redis.
OPEN_REDIS = "Redis has no access control: anyone who can reach it can forge events"
FIX = (
    "load the project's ACL (python -m infra.acl; docs/redis-acl.md) and give each process "
    "its user (LOTS_REDIS_USERNAME, LOTS_REDIS_PASSWORD)"
)


@dataclass(frozen=True)
class Guard:
    """What a look at Redis found: ``open`` (no password needed to do anything) and whether
    this process's login is ``unrestricted`` (not one of the project's users)."""

    open: bool
    unrestricted: bool
    user: str

    @property
    def guarded(self) -> bool:
        return not self.open and not self.unrestricted

    def problem(self) -> str | None:
        """One sentence on what is wrong, or None when Redis is guarded."""
        if self.open:
            return f"{OPEN_REDIS} (its default user, without a password, may run any command)"
        if self.unrestricted:
            return (
                f"this process logs in to Redis as {self.user}, which may run commands no user "
                "of the project's ACL may: the project's users are missing"
            )
        return None


def _whoami_allowed(client: redis.Redis) -> bool:
    """The client's user may run ``ACL WHOAMI`` (or Redis knows no ACL at all)."""
    try:
        client.acl_whoami()
    except (redis.AuthenticationError, redis.exceptions.NoPermissionError):
        return False  # `default` is off (NOAUTH), or restricted (NOPERM)
    except redis.ResponseError as exc:
        return "unknown command" in str(exc).lower()  # Redis before 6: no users at all
    return True


def inspect(settings: Settings, url: str, timeout: float = 2.0) -> Guard:
    """Look at the Redis at ``url`` anonymously and as ``settings`` log in (:func:`auth`).

    Raises ``redis.RedisError`` when Redis does not answer."""
    credentials = auth(settings)
    anonymous = client(  # a URL's credentials would log it in
        where(url), socket_connect_timeout=timeout, socket_timeout=timeout, driver_info=None
    )
    own = client(url, socket_connect_timeout=timeout, socket_timeout=timeout, **credentials)
    try:
        is_open = _whoami_allowed(anonymous)
        logged_in = credentials["username"] is not None or credentials["password"] is not None
        unrestricted = is_open if not logged_in else _whoami_allowed(own)
    finally:
        anonymous.close()
        own.close()
    return Guard(is_open, unrestricted, settings.redis_username or "default")


def describe(settings: Settings, url: str, found: Guard) -> str:
    """The line every start says of its Redis: which one (embedded or named), where (without
    a password), and whether it has the project's ACL users."""
    users = "has" if found.guarded else "does NOT have"
    return f"Redis: {origin(settings, url)}, at {where(url)}; it {users} the project's ACL users"


def check(settings: Settings, url: str, *, warn: bool = True) -> Guard:
    """Refuse an unguarded Redis in production (unless ``LOTS_ALLOW_OPEN_REDIS``); else warn
    (``warn``: in the log, once, loudly) and go on. Return what was found."""
    found = inspect(settings, url)
    problem = found.problem()
    if problem is None:
        return found
    if settings.env == "production" and not settings.allow_open_redis:
        raise SettingsError(
            f"refusing to start: {problem} at {where(url)}. To fix it, {FIX}; or set "
            "LOTS_ALLOW_OPEN_REDIS=1 to run on it anyway"
        )
    if warn:
        announce(settings, url, found)
    return found


def announce(settings: Settings, url: str, found: Guard) -> None:
    """Say in the log, in one line, which Redis this process uses (:func:`describe`): as a
    warning, loudly, when it is not guarded."""
    problem = found.problem()
    if problem is None:
        log.info(describe(settings, url, found))
        return
    log.warning(
        "REDIS IS NOT GUARDED: events can be forged",
        redis=describe(settings, url, found),
        problem=problem,
        fix=FIX,
        allowed="LOTS_ALLOW_OPEN_REDIS" if settings.allow_open_redis else "development",
    )
