"""Settings from the environment, every name prefixed ``LOTS_``, with safe defaults.

The defaults are the embedded set-up (SQLite files under ``var/``, a Redis the project starts
itself under ``var/redis``), so that ``make demo`` needs no configuration at all; an external
Redis is used only when ``LOTS_REDIS_URL`` names one. Production mode
refuses the shortcuts that are only safe on a developer's machine.
"""

from __future__ import annotations

import os
import re
import socket
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from events import referrals

ServiceName = Literal["intake", "scheduling", "billing"]
SERVICES: tuple[ServiceName, ...] = ("intake", "scheduling", "billing")


class SettingsError(ValueError):
    """A setting is missing or contradicts another; the text names it."""


#: What a referral ``source`` may be (the contract's pattern): safe in a Redis key and an ACL.
SOURCE_PATTERN = re.compile(referrals.SOURCE_PATTERN)


def stream_source(value: str) -> str:
    """``value`` if it may have a referral stream of its own (``intake.referrals.<source>``).

    ``dead`` and ``*.dead`` are refused: their stream would be another one's dead-letter stream.
    """
    if not SOURCE_PATTERN.fullmatch(value):
        raise ValueError("a source is 1-100 letters, digits, '.', '_' or '-', starting alnum")
    if value == "dead" or value.endswith(".dead"):
        raise ValueError("a source named 'dead' or '*.dead' would share a dead-letter stream")
    return value


StreamSource = Annotated[str, AfterValidator(stream_source)]


class Role(StrEnum):
    """What the holder of an HTTP token may do (:mod:`infra.auth`, docs/security.md)."""

    PUBLISHER = "publisher"
    STAFF = "staff"
    AUDITOR = "auditor"
    OPERATOR = "operator"


class TokenEntry(BaseModel):
    """One HTTP token: its SHA-256 (hex), its role and, for a publisher, its sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    role: Role
    sources: frozenset[Annotated[str, Field(min_length=1, max_length=200)]] = frozenset()
    #: Who holds the token (for people reading the settings; never checked).
    name: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _sources_belong_to_publishers(self) -> TokenEntry:
        if self.role is Role.PUBLISHER and not self.sources:
            raise ValueError("a publisher token needs the sources it may submit as")
        if self.role is not Role.PUBLISHER and self.sources:
            raise ValueError(f"a {self.role} token has no sources; only publishers do")
        return self


class Settings(BaseSettings):
    """Everything a service or the command line can be told from outside."""

    model_config = SettingsConfigDict(env_prefix="LOTS_", extra="ignore", frozen=True)

    env: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")

    # --- Redis -------------------------------------------------------------------------------
    #: The external Redis to use. Unset: the embedded one (started by the project, data under
    #: ``var/redis``), never whatever answers on 6379. Named but not answering: an error.
    redis_url: str | None = None
    #: auto: ``redis_url`` when it is set, else the embedded server (started, or reused);
    #: always: the embedded server even when ``redis_url`` is set; never: ``redis_url`` only.
    embedded_redis: Literal["auto", "always", "never"] = "auto"
    embedded_redis_port: int = 6390
    #: Prepended to every stream and key name, for several environments on one Redis.
    stream_prefix: str = ""
    #: The ACL user this process logs in as (infra/acl.py, docs/redis-acl.md); unset: the
    #: embedded Redis's development password of the process's own user, else ``default``.
    redis_username: str | None = None
    redis_password: SecretStr | None = None
    #: Run on a Redis without the project's ACL (anyone who reaches it may forge events):
    #: production refuses to start on one unless this is set; development warns.
    allow_open_redis: bool = False
    #: Redis Sentinel (docs/operations.md): the sentinels as ``host:port,host:port,...``; set,
    #: every client follows the master they name (``redis_sentinel_master``) instead of
    #: ``redis_url`` (only its database number is used): an external Redis, named.
    redis_sentinels: str = ""
    redis_sentinel_master: str = "lots"

    # --- event stores ------------------------------------------------------------------------
    store: Literal["sqlite", "postgres"] = "sqlite"
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "postgres"
    postgres_password: SecretStr = SecretStr("")
    postgres_dbname: str = "lots"
    #: Each service keeps its tables in its own schema: ``<prefix><service>``.
    postgres_schema_prefix: str = "lots_"
    #: Key of intake's at-rest encryption (base64 of 16, 24 or 32 bytes).
    cipher_key: SecretStr | None = None

    # --- consuming and relaying ----------------------------------------------------------------
    consumer_name: str = Field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    batch_size: int = Field(default=500, ge=1, le=10_000)
    block_ms: int = Field(default=1000, ge=1)
    #: An entry pending this long with a consumer is taken over by another one.
    reclaim_idle_ms: int = Field(default=30_000, ge=1)
    reclaim_interval_ms: int = Field(default=1_000, ge=10)
    #: Deliveries after which an entry that keeps failing goes to ``<stream>.dead``.
    max_deliveries: int = Field(default=5, ge=1)
    relay_interval_ms: int = Field(default=50, ge=1)
    relay_batch_size: int = Field(default=500, ge=1)
    #: A service trims its own stream of entries every group has acknowledged and that are
    #: older than this; the stores keep everything (``lots export``). 0: never trim.
    stream_retention_hours: float = Field(default=168, ge=0)
    trim_interval_ms: int = Field(default=60_000, ge=100)
    #: A group forgets a processed message id once no entry can carry it again, by this safety
    #: margin (``infra/watermarks.py``); it must exceed the longest time a service may be
    #: down. 0: never forget.
    processed_retention_hours: float = Field(default=168, ge=0)

    # --- HTTP ----------------------------------------------------------------------------------
    http_host: str = "127.0.0.1"
    intake_port: int = 8101
    scheduling_port: int = 8102
    billing_port: int = 8103
    #: The status page that ``lots up`` serves.
    status_port: int = 8100
    #: The HTTP tokens (JSON list of ``lots token new``'s entries: SHA-256, role, sources).
    #: Unset in development: tokens of its own under var/keys/; production refuses to start.
    api_tokens: tuple[TokenEntry, ...] = ()
    #: A request body larger than this is answered 413 without being read further.
    http_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # --- read by more than one service or by the command line ----------------------------------
    # (Each service's own rules are in its own ``services/<service>/settings.py``.)
    #: Midsummer Eve, Christmas Eve and New Year's Eve count as days off in deadlines.
    de_facto_days_off: bool = True
    #: Sources that send referrals on Redis on a stream of their own, ``intake.referrals.<source>``,
    #: written only by their own ACL user (JSON list; docs/redis-acl.md). Intake reads these
    #: streams besides the shared one, and refuses such a source on the shared one.
    intake_sources: frozenset[StreamSource] = frozenset()
    #: Whether ``intake.referrals`` takes referrals of sources without a stream of their own;
    #: false (recommended in production once every source has its own): every entry is refused.
    intake_shared_stream: bool = True

    #: Roles shown personal numbers and names by ``lots audit case``; other roles see them hidden.
    audit_personal_data_roles: frozenset[str] = frozenset({"case_officer"})
    #: Roles shown a referral's references (its decision's, its consent form's and the form's
    #: date) by ``lots audit case``, besides those shown personal data (services/intake/records).
    audit_record_roles: frozenset[str] = frozenset({"case_officer", "auditor"})

    #: Development only: the services' clock starts at this moment (ISO 8601 with offset) and
    #: runs at the normal pace, so that the demo can live through a past month.
    simulated_start: AwareDatetime | None = None

    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels_are_hosts_and_ports(cls, value: str) -> str:
        for sentinel in filter(None, (s.strip() for s in value.split(","))):
            host, _, port = sentinel.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"{sentinel!r}: a sentinel is host:port")
        return value

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.env == "production" and self.embedded_redis == "always":
            raise SettingsError("LOTS_EMBEDDED_REDIS=always is not allowed in production")
        if self.env == "production" and self.simulated_start is not None:
            raise SettingsError("LOTS_SIMULATED_START is for development only")
        return self

    @property
    def redis_address(self) -> str | None:
        """The Redis these settings name (:func:`infra.redis.client` makes clients of it):
        ``redis_url``, or with sentinels ``redis+sentinel://host:port,.../<master>/<db>`` (the
        database number of ``redis_url``, else 0); None: none named (the embedded one)."""
        if not self.redis_sentinels.strip():
            return self.redis_url
        hosts = ",".join(s.strip() for s in self.redis_sentinels.split(",") if s.strip())
        url = self.redis_url or ""
        db = url.rsplit("/", 1)[-1] if url.count("/") > 2 else "0"
        return f"redis+sentinel://{hosts}/{self.redis_sentinel_master}/{db if db.isdigit() else 0}"

    def port_of(self, service: ServiceName) -> int:
        return int(getattr(self, f"{service}_port"))

    def stream(self, name: str) -> str:
        return f"{self.stream_prefix}{name}"

    def key(self, name: str) -> str:
        return f"{self.stream_prefix}lots:{name}"

    @cached_property
    def redis_dir(self) -> Path:
        return self.var_dir / "redis"

    def embedded_allowed(self) -> bool:
        if self.embedded_redis == "never":
            return False
        return self.env != "production" or self.embedded_redis == "always"
