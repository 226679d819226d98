"""The pipeline benchmark: referrals through intake → scheduling → billing, as deployed.

The three services run as processes (one or more per service, each its own consumer in its
service's group) over SQLite stores in a temporary directory and the shared Redis, exactly as
``lots up`` runs them. A month is lived through in two phases on the services' simulated clock,
as ``lots demo`` does, and two segments of it are timed:

1. **referrals → cases**: N counselling referrals are written on ``intake.referrals`` with
   plain pipelined ``XADD`` (as a municipal system does); the segment ends when intake has
   answered every one and scheduling and billing have consumed every ``ReferralReceived``
   (every group acknowledged everything).
2. **held meetings → sessions**: the meetings held are published by scheduling's relay as
   ``MeetingHeld`` and consumed by billing (and intake); the segment runs from the first
   ``MeetingHeld`` on ``scheduling.events`` to the N-th session on ``billing.events``: a
   ``SessionLogged``, or a ``SessionReportedApart`` for a meeting the other counselling provider
   held (both read from the entries' ids, i.e. Redis's clock).

What people do between them is not timed (the roster is recorded over HTTP; acknowledgements,
first contacts and the meetings held are recorded in bulk through the services' own
applications and domain code, in units of work of a few hundred, because doing 3 x N HTTP calls
would measure the HTTP layer and take minutes; ``docs/performance.md`` explains the choice).
Afterwards the effects are checked: exactly N cases, N sessions logged (or reported apart) in
billing's store, N distinct such messages on the stream, no dead letters, every group drained.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import httpx
import redis
from psycopg.sql import SQL, Identifier
from pydantic import SecretStr

from infra.auth import Role
from infra.calendar import STOCKHOLM, is_business_day
from infra.dev_tokens import bearer_headers, client_token
from infra.monitor import drained
from infra.postgres_recorder import PostgresRecorder
from infra.settings import SERVICES, ServiceName, Settings
from infra.topology import (
    BILLING_EVENTS,
    INTAKE_EVENTS,
    REFERRALS,
    SCHEDULING_EVENTS,
    dead_letter_stream,
    groups,
)
from lots.demo import personal_number
from lots.supervisor import Supervisor
from services.intake.domain import referral_key
from services.intake.settings import IntakeSettings

SOURCE = "linkoping.socialtjanst"
#: A first contact per staff member and business day: 08:00 to 15:00, an hour each.
SLOTS = tuple(clock_time(hour) for hour in range(8, 16))
MEETING_MINUTES = 60
#: Meetings held are recorded, and first contacts booked, this many per unit of work.
CHUNK = 250


@dataclass
class Fleet:
    """``instances`` processes per service: the bench's own spawner.

    ``lots.supervisor`` runs one process per service on the configured ports; here every
    process gets a free port of its own and its own consumer name (host and pid), so that two
    instances of a service share its consumer group as two deployments' replicas would.
    """

    settings: Settings
    redis_url: str
    instances: int
    log_file: Path
    procs: list[tuple[ServiceName, int, subprocess.Popen[bytes]]] = field(default_factory=list)

    def env(self, service: ServiceName, port: int) -> dict[str, str]:
        base = Supervisor(self.settings, redis_url=self.redis_url).child_env()
        base[f"LOTS_{service.upper()}_PORT"] = str(port)
        base["LOTS_CONSUMER_NAME"] = f"bench-{service}-{port}"
        return base

    def cli_env(self) -> dict[str, str]:
        """The command line's environment (``lots status``): the settings, and the port of
        every service running."""
        env = Supervisor(self.settings, redis_url=self.redis_url).child_env()
        for service, port, _ in self.procs:
            env[f"LOTS_{service.upper()}_PORT"] = str(port)
        return env

    def start(self, services: Sequence[ServiceName] = SERVICES) -> None:
        with self.log_file.open("ab") as out:
            for service in services:
                for _ in range(self.instances):
                    port = free_port()
                    proc = subprocess.Popen(
                        [sys.executable, "-m", f"services.{service}"],
                        env=self.env(service, port),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                    self.procs.append((service, port, proc))
        self.wait_ready([s for s in services])

    def url(self, service: ServiceName) -> str:
        port = next(p for s, p, _ in self.procs if s == service)
        return f"http://{self.settings.http_host}:{port}"

    def wait_ready(self, services: Sequence[ServiceName], timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        pending = [(s, p, c) for s, p, c in self.procs if s in services]
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout:.0f} s: {pending}")
            for item in list(pending):
                service, port, child = item
                if child.poll() is not None:
                    raise RuntimeError(
                        f"{service} on {port} exited with {child.returncode}; the end of "
                        f"{self.log_file}:\n{self.log_tail()}"
                    )
                try:
                    response = httpx.get(
                        f"http://{self.settings.http_host}:{port}/health/ready", timeout=1
                    )
                except httpx.HTTPError:
                    continue
                if response.status_code == 200:
                    pending.remove(item)
            time.sleep(0.05)

    def log_tail(self, lines: int = 25) -> str:
        """The services' last lines: why one of them stopped, in a failed run's message."""
        text = self.log_file.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each service's processes have used so far (Linux)."""
        tick = os.sysconf("SC_CLK_TCK")
        used: dict[str, float] = {}
        for service, _, child in self.procs:
            try:
                stat = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used[service] = used.get(service, 0.0) + (int(stat[11]) + int(stat[12])) / tick
        return used

    def profile(self, into: Path | None, label: str) -> list[subprocess.Popen[bytes]]:
        """Start py-spy on every process (``--profile``); stop it with :func:`end_profile`."""
        if into is None:
            return []
        into.mkdir(parents=True, exist_ok=True)
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        spies = []
        for service, port, child in self.procs:
            out = into / f"{label}-{service}-{port}.txt"
            command = [spy, "record", "--pid", str(child.pid), "--rate", "200", "--format",
                       "raw", "--output", str(out), "--nonblocking"]  # fmt: skip
            spies.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        return spies

    def stop(self, grace: float = 20.0) -> None:
        for _, _, child in self.procs:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + grace
        for _, _, child in self.procs:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.procs.clear()


def end_profile(spies: list[subprocess.Popen[bytes]]) -> None:
    for spy in spies:
        spy.send_signal(signal.SIGINT)
    for spy in spies:
        spy.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the month ----------------------------------------------------------------------------------


def first_business_day(year: int, month: int) -> date:
    day = date(year, month, 1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Calendar:
    """The month lived through: referrals arrive on its first business day, meetings are held
    on the business days before their first-contact deadline, the month is over in phase 2."""

    opening: date
    closing: date

    @classmethod
    def last_month(cls) -> Calendar:
        first = date.today().replace(day=1)
        previous = first - timedelta(days=1)
        return cls(first_business_day(previous.year, previous.month),
                   first_business_day(first.year, first.month))  # fmt: skip

    @property
    def phase1(self) -> datetime:
        return datetime.combine(self.opening, clock_time(7, 30), STOCKHOLM)

    @property
    def phase2(self) -> datetime:
        return datetime.combine(self.closing, clock_time(7, 30), STOCKHOLM)

    def meeting_days(self) -> list[date]:
        """Business days after the notice and before the 14-day first-contact deadline."""
        days = []
        day = self.opening + timedelta(days=1)
        while day < self.opening + timedelta(days=14):
            if is_business_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def staff_needed(self, count: int) -> int:
        per_staff = len(self.meeting_days()) * len(SLOTS)
        return -(-count // per_staff)

    def plan(self, cases: Sequence[UUID]) -> Iterator[tuple[UUID, str, datetime]]:
        """(case, staff, start): every staff member's days filled in turn, an hour each."""
        days = self.meeting_days()
        per_staff = len(days) * len(SLOTS)
        for n, case_id in enumerate(cases):
            staff, place = divmod(n, per_staff)
            day, slot = divmod(place, len(SLOTS))
            yield case_id, staff_id(staff), datetime.combine(days[day], SLOTS[slot], STOCKHOLM)


def staff_id(n: int) -> str:
    return f"bench-{n:04d}"


def staff_record(n: int) -> dict[str, Any]:
    provider = "leanlink" if n % 3 else "other_provider"
    return {"staff_id": staff_id(n), "provider": provider, "programmes": ["counselling"],
            "competences": [], "weekly_capacity_hours": 45}  # fmt: skip


def referral(n: int, run: str, on: date, rng: random.Random) -> dict[str, str]:
    """A counselling referral (a child and two partners, residents of Linköping), plain fields."""
    child_born = on - timedelta(days=365 * rng.randint(1, 17) + rng.randint(1, 300))
    persons = [{"role": "child", "personal_number": personal_number(child_born, rng),
                "municipality_code": "0580"}]  # fmt: skip
    for _ in range(2):
        born = on - timedelta(days=365 * rng.randint(25, 55) + rng.randint(1, 300))
        persons.append({"role": "partner", "personal_number": personal_number(born, rng),
                        "municipality_code": "0580"})  # fmt: skip
    body = {
        "source": SOURCE,
        "referral_id": f"BENCH-{run}-{n:07d}",
        "programme": "counselling",
        "basis": "service",
        "urgency": "normal",
        "submitted_at": datetime.combine(on, clock_time(7, 0), STOCKHOLM).isoformat(),
        "persons": persons,
    }
    return {"type": "SubmitReferral", "version": "1", "id": str(uuid.uuid4()),
            "data": json.dumps(body, ensure_ascii=False)}  # fmt: skip


# --- staff actions, in bulk through the services' own applications -----------------------------


def record_roster(fleet: Fleet, settings: Settings, calendar: Calendar, count: int) -> None:
    """The staff ``count`` first contacts of the month need, recorded over HTTP
    (``POST /staff``)."""
    staff = bearer_headers(client_token(settings, Role.STAFF))
    with httpx.Client(base_url=fleet.url("scheduling"), headers=staff, timeout=60) as http:
        for n in range(calendar.staff_needed(count)):
            http.post("/staff", json=staff_record(n)).raise_for_status()


def acknowledge(settings: Settings, case_ids: Sequence[UUID]) -> None:
    """Reception acknowledges every case (``POST /cases/{id}/acknowledgement``, in bulk)."""
    from services.intake.app import make_app

    app = make_app(settings)
    try:
        for start in range(0, len(case_ids), CHUNK):
            with app.lock:
                cases = [app.case(c) for c in case_ids[start : start + CHUNK]]
                for case in cases:
                    case.acknowledge(app.clock(), "reception")
                app.save(*cases)
    finally:
        app.close()


def book(settings: Settings, calendar: Calendar, case_ids: Sequence[UUID]) -> list[UUID]:
    """Book every case's first contact at the planned time with its staff member
    (``POST /meetings``, in bulk); return the meeting ids."""
    from services.scheduling.app import build
    from services.scheduling.booking import MeetingRequest, book_meeting
    from services.scheduling.desk import Desk
    from services.scheduling.domain_meeting import Meeting

    app = build(settings)
    plan = list(calendar.plan(case_ids))
    meetings: list[UUID] = []
    try:
        for start in range(0, len(plan), CHUNK):
            chunk = plan[start : start + CHUNK]
            requests = [
                MeetingRequest(case_id=case_id, kind="counselling", format="couple",
                               minutes=MEETING_MINUTES, staff=(staff,), starts_at=at,
                               meeting_id=uuid.uuid5(case_id, "bench-first-contact"))
                for case_id, staff, at in chunk
            ]  # fmt: skip

            def book_all(desk: Desk, rs: list[MeetingRequest] = requests) -> list[Meeting]:
                return [book_meeting(desk, r) for r in rs]

            meetings.extend(m.id for m in app.transact(book_all))
    finally:
        app.close()
    return meetings


def hold(settings: Settings, meeting_ids: Sequence[UUID], seed: int) -> None:
    """Record every meeting held, some longer than booked (``POST /meetings/{id}/held``), and
    run the deadline check the service would have run on the days that passed. ``meeting_ids``
    are in booking order, each staff member's in time order: a meeting a longer one ran into
    started late, once its staff member was free (one meeting at a time)."""
    from services.scheduling.app import build
    from services.scheduling.held import when_free
    from services.scheduling.outcomes import record_held

    rng = random.Random(seed)
    app = build(settings)
    free: dict[str, datetime] = {}
    try:
        for start in range(0, len(meeting_ids), CHUNK):
            chunk = meeting_ids[start : start + CHUNK]
            extra = [rng.choice((0, 0, 0, 15, 30)) for _ in chunk]

            def held(
                desk: Any,
                ids: Sequence[UUID] = chunk,
                more: list[int] = extra,
                before: dict[str, datetime] = free,
            ) -> dict[str, datetime]:
                ended = dict(before)  # a fresh copy on each attempt of the unit of work
                for meeting_id, minutes in zip(ids, more, strict=True):
                    meeting = desk.meeting(meeting_id)
                    starts = when_free(meeting.starts_at, meeting.staff, ended)
                    ends = starts + (meeting.ends_at - meeting.starts_at)
                    ends += timedelta(minutes=minutes)
                    record_held(desk, meeting_id, starts, ends, participants=2)
                    ended.update(dict.fromkeys(meeting.staff, ends))
                return ended

            free = app.transact(held)
        app.check_deadlines()
    finally:
        app.close()


# --- watching the streams ----------------------------------------------------------------------


def xadd_all(client: redis.Redis, stream: str, entries: Sequence[dict[str, str]]) -> None:
    """Write ``entries`` on ``stream`` with plain pipelined ``XADD`` (as a municipal system
    does), a thousand a round trip."""
    pipe = client.pipeline(transaction=False)
    for n, fields in enumerate(entries):
        pipe.xadd(stream, fields)  # type: ignore[arg-type]  # redis-py's stubs want a wider dict
        if n % 1000 == 999:
            pipe.execute()
    pipe.execute()


def enough(client: redis.Redis, tail: Tail, count: int) -> Callable[[], bool]:
    """Whether ``tail``'s stream has ``count`` of its entries yet: a cheap length first, the
    entries read (their ids time a segment) only when there can be enough, so that the
    benchmark takes little from the services."""

    def check() -> bool:
        if client.xlen(tail.stream) < count:
            return False
        tail.poll()
        return len(tail.ids) >= count

    return check


def entry_ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def wait(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done within {timeout:.0f} s")
        time.sleep(every)


SESSION_KINDS = ("SessionLogged", "SessionReportedApart")
"""What billing publishes for a meeting held: a session logged, or, for a meeting the other
counselling provider held, reported apart (services/billing/providers.py)."""


@dataclass
class Tail:
    """Reads a stream as it grows and counts the entries of one type (or of any of several),
    remembering the n-th."""

    client: redis.Redis
    stream: str
    kind: str | tuple[str, ...]
    after: str = "0-0"
    count: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    ids: set[str] = field(default_factory=set)

    def poll(self) -> int:
        while True:
            entries = cast(
                list[tuple[bytes, dict[bytes, bytes]]],
                self.client.xrange(self.stream, min=f"({self.after}", count=5000),
            )
            if not entries:
                return self.count
            for entry_id, fields in entries:
                self.after = entry_id.decode()
                if self.first_ms is None:
                    self.first_ms = entry_ms(entry_id)
                kind = fields.get(b"type", b"").decode()
                if kind == self.kind or (isinstance(self.kind, tuple) and kind in self.kind):
                    self.count += 1
                    self.last_ms = entry_ms(entry_id)
                    self.ids.add(fields[b"id"].decode())


def last_id(client: redis.Redis, stream: str) -> str:
    found = cast(list[tuple[bytes, Any]], client.xrevrange(stream, count=1))
    return found[0][0].decode() if found else "0-0"


# --- one run -----------------------------------------------------------------------------------


@dataclass
class PipelineResult:
    instances: int
    referrals: int
    segment1_seconds: float
    segment2_seconds: float
    staff_seconds: float
    checks: dict[str, Any]

    @property
    def seconds(self) -> float:
        return self.segment1_seconds + self.segment2_seconds

    @property
    def per_second(self) -> float:
        return self.referrals / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "instances_per_service": self.instances,
            "referrals": self.referrals,
            "seconds": round(self.seconds, 2),
            "referrals_per_second": round(self.per_second, 1),
            "segment1_referrals_to_cases_seconds": round(self.segment1_seconds, 2),
            "segment1_per_second": round(self.referrals / self.segment1_seconds, 1),
            "segment2_held_to_sessions_seconds": round(self.segment2_seconds, 2),
            "segment2_per_second": round(self.referrals / self.segment2_seconds, 1),
            "staff_actions_seconds_untimed": round(self.staff_seconds, 1),
            "checks": self.checks,
        }


def run_pipeline(
    redis_url: str,
    count: int,
    work: Path,
    *,
    instances: int = 1,
    seed: int = 2026,
    timeout: float = 900.0,
    profile: Path | None = None,
    keep: bool = False,
    echo: Callable[[str], None] = print,
    store: dict[str, Any] | None = None,
    label: str | None = None,
) -> PipelineResult:
    """Live through a month of ``count`` counselling referrals; time the two segments.

    ``store``: settings of the services' stores (PostgreSQL: ``bench/scale_out.py``), SQLite
    files in the run's directory otherwise; ``label``: the referrals' ids are ``BENCH-<label>-n``
    (default: the run's own), so that two runs with one label settle the same month."""
    run = uuid.uuid4().hex[:8]
    prefix = f"bench-{run}."
    var = work / f"pipeline-{instances}x-{run}"
    var.mkdir(parents=True)
    calendar = Calendar.last_month()
    base = bench_settings(var, redis_url, prefix).model_copy(update=store or {})
    phase1 = base.model_copy(update={"simulated_start": calendar.phase1})
    phase2 = base.model_copy(update={"simulated_start": calendar.phase2})
    client = redis.Redis.from_url(redis_url)
    rng = random.Random(seed)
    entries = [referral(n, label or run, calendar.opening, rng) for n in range(count)]
    cases = [referral_key(SOURCE, json.loads(e["data"])["referral_id"]) for e in entries]
    log = var / "services.log"
    staff_seconds = 0.0
    fleet = Fleet(phase1, redis_url, instances, log)
    try:
        # Phase 1, the month's first business day: the roster, then the referrals (timed).
        fleet.start()
        record_roster(fleet, phase1, calendar, count)
        echo(f"  pipeline {instances}x: {count} referrals through intake → scheduling, billing")
        timing = Timing(timeout, profile, f"{instances}x", echo)
        segment1, cpu1, answered = referrals_to_cases(client, fleet, phase1, entries, timing)

        staff_seconds = staff_month(client, fleet, (phase1, phase2), calendar, cases, seed,
                                    timing)  # fmt: skip
        fleet = Fleet(phase2, redis_url, instances, log)
        segment2, cpu2, held, logged = held_to_sessions(client, fleet, phase2, count, timing)
        wait(lambda: drained(client, prefix), timeout, "everything consumed", every=0.2)
        checks = verify(client, phase2, count, answered, held, logged)
        checks["digest"] = month_digest(phase2, calendar.opening.strftime("%Y-%m"))
        checks["cpu_seconds_segment1"] = cpu1
        checks["cpu_seconds_segment2"] = cpu2
    finally:
        fleet.stop()
        forget(client, prefix)
        client.close()
    if not keep:
        shutil.rmtree(var, ignore_errors=True)
    return PipelineResult(instances, count, segment1, segment2, staff_seconds, checks)


@dataclass(frozen=True)
class Timing:
    """How a timed segment runs: its timeout, py-spy's directory (or none), the run's label
    (``1x``) and where progress is said."""

    timeout: float
    profile: Path | None
    label: str
    echo: Callable[[str], None]


def referrals_to_cases(
    client: redis.Redis,
    fleet: Fleet,
    settings: Settings,
    entries: Sequence[dict[str, str]],
    timing: Timing,
) -> tuple[float, dict[str, float], Tail]:
    """Segment 1: the referrals written with pipelined ``XADD``, until intake has answered
    every one and every group is drained; its seconds, CPU per service and the answers."""
    count, timeout = len(entries), timing.timeout
    cpu = fleet.cpu_seconds()
    spies = fleet.profile(timing.profile, f"{timing.label}-segment1")
    started = time.time()
    xadd_all(client, settings.stream(REFERRALS), entries)
    answered = Tail(client, settings.stream(INTAKE_EVENTS), "ReferralReceived")
    # Cheap polls first (every answer is out), then every group drained.
    wait(lambda: client.xlen(settings.stream(INTAKE_EVENTS)) >= count, timeout, "answers")
    wait(lambda: drained(client, settings.stream_prefix), timeout, "referrals to cases")
    answered.poll()
    segment1 = time.time() - started
    end_profile(spies)
    cpu1 = spent(cpu, fleet.cpu_seconds())
    timing.echo(f"    segment 1 (referrals → cases): {segment1:.1f} s, {count / segment1:.0f}/s")
    return segment1, cpu1, answered


def staff_month(
    client: redis.Redis,
    fleet: Fleet,
    phases: tuple[Settings, Settings],
    calendar: Calendar,
    cases: Sequence[UUID],
    seed: int,
    timing: Timing,
) -> float:
    """The staff's month (not timed): in phase 1 the acknowledgements and the first contacts
    booked, relayed, and ``fleet`` stopped; in phase 2, after the month, the meetings held
    recorded. Its seconds."""
    phase1, phase2 = phases
    began = time.monotonic()
    acknowledge(phase1, cases)
    meetings = book(phase1, calendar, cases)
    wait(lambda: drained(client, phase1.stream_prefix), timing.timeout, "bookings relayed",
         every=0.2)  # fmt: skip
    fleet.stop()
    hold(phase2, meetings, seed)
    staff_seconds = time.monotonic() - began
    timing.echo(f"    staff actions (untimed): {staff_seconds:.0f} s")
    return staff_seconds


def held_to_sessions(
    client: redis.Redis, fleet: Fleet, settings: Settings, count: int, timing: Timing
) -> tuple[float, dict[str, float], Tail, Tail]:
    """Segment 2: consumers first, then scheduling, whose relay publishes the meetings held;
    from the first ``MeetingHeld`` to the ``count``-th session (Redis's clock). Its seconds,
    CPU per service and the two tails."""
    mark = last_id(client, settings.stream(SCHEDULING_EVENTS))
    fleet.start(("intake", "billing"))
    spies = fleet.profile(timing.profile, f"{timing.label}-segment2")
    fleet.start(("scheduling",))
    cpu = fleet.cpu_seconds()
    held = Tail(client, settings.stream(SCHEDULING_EVENTS), "MeetingHeld", after=mark)
    # Every meeting held gives one session: logged, or reported apart when the other
    # counselling provider held it (only Leanlink's own time is billed).
    logged = Tail(client, settings.stream(BILLING_EVENTS), SESSION_KINDS)
    sessions_logged = enough(client, logged, count)
    wait(sessions_logged, timing.timeout, "held meetings to sessions", every=0.1)
    held.poll()
    assert held.first_ms is not None and logged.last_ms is not None
    segment2 = (logged.last_ms - held.first_ms) / 1000
    cpu2 = spent(cpu, fleet.cpu_seconds())
    end_profile(spies)
    timing.echo(f"    segment 2 (held → sessions): {segment2:.1f} s, {count / segment2:.0f}/s")
    return segment2, cpu2, held, logged


def bench_settings(var: Path, redis_url: str, prefix: str) -> IntakeSettings:
    """The services' settings for a benchmark run: its own stores, prefix and key."""
    return IntakeSettings(
        var_dir=var,
        redis_url=redis_url,
        embedded_redis="never",
        stream_prefix=prefix,
        cipher_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
        log_level="WARNING",
        stream_retention_hours=0,
        batch_size=int(os.environ.get("BENCH_BATCH", "200")),
        # One source sends every referral here, as fast as Redis takes them: the benchmark
        # measures throughput, so the per-source rate limit (a guard against floods) is off.
        intake_rate_per_minute=0,
    )


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per service between two readings."""
    return {s: round(after[s] - before.get(s, 0.0), 1) for s in after}


def verify(
    client: redis.Redis, settings: Settings, count: int, answered: Tail, held: Tail, logged: Tail
) -> dict[str, Any]:
    """Exactly-once effects: one case, one meeting held, one session per referral."""
    from services.billing.app import make_app

    dead = {
        stream: int(client.xlen(dead_letter_stream(settings.stream(stream))))
        for stream, _ in groups()
    }
    app = make_app(settings)
    try:
        stored_sessions = count_events(
            app,
            ("services.billing.domain:Session.Logged",
             "services.billing.domain:Session.ReportedApart"),
        )  # fmt: skip
    finally:
        app.close()
    checks: dict[str, Any] = {
        "referrals_received": len(answered.ids),
        # Distinct messages: publishing is at least once (a relay lease that changes hands
        # mid-batch republishes it, with the same message ids, which consumers skip), so
        # entries published again are counted apart, as transport, not as effects.
        "meetings_held_published": len(held.ids),
        "entries_published_again": (answered.count - len(answered.ids))
        + (held.count - len(held.ids))
        + (logged.count - len(logged.ids)),
        "sessions_logged_published": len(logged.ids),
        "distinct_session_messages": len(logged.ids),
        "sessions_logged_in_billing_store": stored_sessions,
        "dead_letters": sum(dead.values()),
        "referrals_left_on_redis": int(client.xlen(settings.stream(REFERRALS))),
    }
    expected = {
        "referrals_received": count,
        "meetings_held_published": count,
        "sessions_logged_published": count,
        "distinct_session_messages": count,
        "sessions_logged_in_billing_store": count,
        "dead_letters": 0,
        "referrals_left_on_redis": 0,
    }
    checks["exactly_once"] = all(checks[k] == v for k, v in expected.items())
    if not checks["exactly_once"]:
        raise AssertionError(f"the pipeline's effects are wrong: {checks} (expected {expected})")
    checks["events_stored_per_referral"] = stored_per_referral(settings, count)
    return checks


def stored_per_referral(settings: Settings, count: int) -> dict[str, float]:
    """How many events each service stored per referral over the whole month."""
    from lots.stores import open_reader

    out: dict[str, float] = {}
    for service in SERVICES:
        app = open_reader(settings, service)
        try:
            out[service] = round(count_events(app) / count, 1)
        finally:
            app.close()
    return out


def count_events(app: Any, topics: Sequence[str] = ()) -> int:
    """Events in ``app``'s store (of ``topics`` only, if given), on SQLite or PostgreSQL."""
    store = app.store
    if isinstance(store, PostgresRecorder):
        table = SQL("{}.{}").format(
            Identifier(store.datastore.schema), Identifier(store.events_table_name)
        )
        query = SQL("SELECT COUNT(*) AS n FROM {}").format(table)
        if topics:
            query += SQL(" WHERE topic = ANY(%s)")
        with store.datastore.transaction(commit=False) as curs:
            curs.execute(query, (list(topics),) if topics else None)
            row = curs.fetchone()
    else:
        where = f" WHERE topic IN ({', '.join('?' for _ in topics)})" if topics else ""
        with store.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) AS n FROM stored_events{where}", tuple(topics))
            row = c.fetchone()
    return int(row["n"]) if row is not None else 0


def month_digest(settings: Settings, month: str) -> str:
    """The digest of ``month``'s settlement as billing's store has it after the run."""
    from services.billing.app import make_app

    billing = make_app(settings)
    try:
        return str(billing.settlement(month)["document"]["digest"])
    finally:
        billing.close()


def forget(client: redis.Redis, prefix: str) -> None:
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
