"""The soak with faults (``make soak``; not part of ``make test``).

The whole system runs as ``lots up`` runs it (``lots.supervisor``: one process per service, a
child that dies is started again) over SQLite stores in a temporary directory and a Redis of its
own (``redis-server`` on a free port), for ``--minutes`` (default 30):

- municipal sources write counselling referrals on ``intake.referrals`` at a steady ``--rate``
  (plain ``XADD``, three sources in turn); a referral not answered after ``--resend-after``
  seconds is sent again as a new message, as a source does (those unread when Redis lost its
  data are gone with it: README, "Architecture");
- staff work every couple of seconds through the services' own applications, as the benchmark
  does: answered cases are acknowledged, their first contacts booked, and the meetings booked
  are recorded held by a desk whose clock stands after the month (the services' clock is the
  month's first business day, so every meeting of the month can be held). Scheduling's relay
  publishes ``MeetingHeld``, billing logs a session for each;
- every ``--kill-every`` seconds a random service process is killed (SIGKILL) and the
  supervisor starts it again; once, half-way, Redis is stopped and started again *empty* (its
  data directory removed: a restart without persistence), and the services refill it from their
  stores (``infra/runtime.py``, the epoch).

At the end it waits until everything is drained, stops the system and checks, from the stores
(``lots export``), not Redis:

1. every referral sent was answered exactly once (``ReferralReceived`` or ``ReferralRejected``
   per ``(source, referral_id)``; ``rate_limited`` refusals are transient and counted apart);
2. every held meeting was billed exactly once (one ``SessionLogged`` per ``MeetingHeld``, or
   one ``SessionReportedApart`` for a meeting the other counselling provider held);
3. the month's settlement as billing keeps it equals the settlement of a fault-free run of the
   same input (:func:`fault_free_run`: a new billing over an empty store given what intake and
   scheduling published, in their order, in this process: no Redis, no kill, no redelivery),
   and the offline computation from billing's log (``lots settlement compute``);
4. each service's memory (RSS, sampled every few seconds) is flat after warm-up: for the
   longest-lived process of each service, the last sample is within ``--rss-growth`` (a
   fraction) plus ``--rss-slack-mb`` of the first sample after the warm-up;
5. every poison entry (``--poison-every``: one after every N referrals, each kind in turn of
   ``bench/hostile.py``, each carrying a personal number) was kept by intake as a dead letter,
   unless Redis lost it in its wipe, and the good referrals around it were answered (1.);
6. no personal number or name of any referral or poison entry sent is in the services' log.

It prints the figures as a table and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from uuid import UUID

import redis
from pydantic import SecretStr

from bench import hostile
from bench.pipeline import (
    MEETING_MINUTES,
    SESSION_KINDS,
    Calendar,
    Tail,
    free_port,
    referral,
    staff_record,
)
from infra.auth import Role
from infra.monitor import drained
from infra.redis import connect
from infra.settings import SERVICES, Settings
from infra.topology import BILLING_EVENTS, INTAKE_EVENTS, REFERRALS, SCHEDULING_EVENTS
from lots.supervisor import Supervisor

SOURCES = ("linkoping.socialtjanst", "linkoping.elevhalsa", "linkoping.familjeratt")


# --- the verdict (pure; tested in tests/unit/test_soak.py) --------------------------------------


@dataclass(frozen=True)
class Rss:
    """One process's memory over its life: (seconds since the soak began, kibibytes)."""

    service: str
    pid: int
    samples: tuple[tuple[float, int], ...]

    @property
    def lifetime(self) -> float:
        return self.samples[-1][0] - self.samples[0][0] if self.samples else 0.0


@dataclass(frozen=True)
class Flatness:
    service: str
    pid: int
    warm_kib: int
    last_kib: int
    slope_kib_per_min: float
    samples: int
    flat: bool


def flatness(rss: Rss, warmup: float, growth: float, slack_kib: int) -> Flatness | None:
    """Whether ``rss`` stayed flat after the first ``warmup`` fraction of its life: the last
    sample at most ``growth`` (a fraction) plus ``slack_kib`` above the first one after warm-up.
    The slope (least squares over the samples after warm-up) is reported, not judged: a few
    samples of a noisy allocator give a slope that says little on its own."""
    if len(rss.samples) < 3:
        return None
    start = rss.samples[0][0] + warmup * rss.lifetime
    after = [s for s in rss.samples if s[0] >= start]
    if len(after) < 2:
        return None
    warm, last = after[0][1], after[-1][1]
    n = len(after)
    mean_t = sum(t for t, _ in after) / n
    mean_k = sum(k for _, k in after) / n
    var = sum((t - mean_t) ** 2 for t, _ in after)
    slope = sum((t - mean_t) * (k - mean_k) for t, k in after) / var * 60 if var else 0.0
    flat = last <= warm * (1 + growth) + slack_kib
    return Flatness(rss.service, rss.pid, warm, last, round(slope, 1), n, flat)


def longest_lived(processes: Iterable[Rss]) -> dict[str, Rss]:
    best: dict[str, Rss] = {}
    for rss in processes:
        if rss.service not in best or rss.lifetime > best[rss.service].lifetime:
            best[rss.service] = rss
    return best


def answers_per_referral(
    lines: Iterable[dict[str, Any]],
) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """(answers, rate-limit refusals) per (source, referral_id), from export lines. A referral
    sent again gets its answer again (``repeat_of``): no second answer, and not counted."""
    answers: Counter[tuple[str, str]] = Counter()
    refusals: Counter[tuple[str, str]] = Counter()
    for line in lines:
        if line["type"] not in ("ReferralReceived", "ReferralRejected"):
            continue
        data = line["data"]
        if data.get("repeat_of"):
            continue
        key = (data["source"], data["referral_id"])
        codes = [r["code"] for r in data.get("reasons", [])]
        if codes == ["rate_limited"]:
            refusals[key] += 1
        else:
            answers[key] += 1
    return answers, refusals


def billed_per_meeting(lines: Iterable[dict[str, Any]]) -> tuple[set[str], Counter[str]]:
    """(meetings held, sessions logged or reported apart per meeting), from export lines."""
    held: set[str] = set()
    sessions: Counter[str] = Counter()
    for line in lines:
        if line["type"] == "MeetingHeld":
            held.add(line["data"]["meeting_id"])
        elif line["type"] in SESSION_KINDS and line["data"].get("meeting_id"):
            sessions[line["data"]["meeting_id"]] += 1
    return held, sessions


@dataclass(frozen=True)
class Row:
    check: str
    figure: str
    ok: bool


def verdict(
    sent: Sequence[tuple[str, str]],
    lines: Sequence[dict[str, Any]],
    settlements: dict[str, str],
    memory: Sequence[Flatness],
) -> list[Row]:
    """Every check with its figure: answers, billing, settlements, memory."""
    answers, refusals = answers_per_referral(lines)
    expected = set(sent)
    once = sum(1 for k in expected if answers[k] == 1)
    missing = sum(1 for k in expected if answers[k] == 0)
    twice = sum(1 for k in expected if answers[k] > 1)
    strangers = sum(1 for k in answers if k not in expected)
    held, sessions = billed_per_meeting(lines)
    billed_once = sum(1 for m in held if sessions[m] == 1)
    unbilled = sum(1 for m in held if sessions[m] == 0)
    billed_twice = sum(1 for m in held if sessions[m] > 1)
    unheld = sum(1 for m in sessions if m not in held)
    digests = set(settlements.values())
    rows = [
        Row(
            "every referral answered exactly once",
            f"{once}/{len(expected)} once, {missing} unanswered, {twice} more than once, "
            f"{strangers} unknown; {sum(refusals.values())} rate_limited refusals",
            bool(expected) and once == len(expected) and strangers == 0,
        ),
        Row(
            "every held meeting billed exactly once",
            f"{billed_once}/{len(held)} once, {unbilled} not billed, {billed_twice} more than "
            f"once, {unheld} sessions of no meeting held",
            bool(held) and billed_once == len(held) and unheld == 0,
        ),
        Row(
            "settlement equals a fault-free run",
            ", ".join(f"{name} {digest[:16]}" for name, digest in settlements.items()),
            len(settlements) >= 2 and len(digests) == 1,
        ),
    ]
    for m in memory:
        rows.append(
            Row(
                f"{m.service} memory flat after warm-up",
                f"pid {m.pid}: {m.warm_kib / 1024:.1f} -> {m.last_kib / 1024:.1f} MiB over "
                f"{m.samples} samples, slope {m.slope_kib_per_min / 1024:+.2f} MiB/min",
                m.flat,
            )
        )
    return rows


def hostile_rows(soak: Soak, log: Path) -> list[Row]:
    """Every poison entry dead-lettered (unless Redis lost it), and a log with no personal
    number or name of any referral or poison entry sent."""
    kept = hostile.dead_letters_kept(soak.settings)
    wiped = max(soak.redis_restarts, default=-1.0)
    lost = [p for p in soak.poisons if p.message_id not in kept]
    unexplained = [p for p in lost if p.sent_at > wiped]
    words = hostile.private_words((r.fields for r in soak.referrals), soak.poisons)
    lines, found = hostile.leaks(log, words)
    return [
        Row(
            "every poison entry dead-lettered, none stalling",
            f"{len(soak.poisons) - len(lost)}/{len(soak.poisons)} kept by intake as dead "
            f"letters, {len(lost) - len(unexplained)} lost with Redis's wipe, "
            f"{len(unexplained)} lost otherwise",
            not unexplained,
        ),
        Row(
            "no personal number or name in the services' log",
            f"{lines} lines scanned for {len(words)} numbers and names: {len(found)} found",
            not found,
        ),
    ]


def table(rows: Sequence[Row], facts: Sequence[tuple[str, str]]) -> str:
    width = max(len(r.check) for r in rows)
    out = [f"{name:<{width}}  {value}" for name, value in facts]
    out.append("")
    out += [f"{'PASS' if r.ok else 'FAIL'}  {r.check:<{width}}  {r.figure}" for r in rows]
    return "\n".join(out)


# --- running the soak ----------------------------------------------------------------------------


@dataclass
class Options:
    minutes: float = 30.0
    rate: float = 2.0
    kill_every: float | None = None
    redis_at: float = 0.5
    resend_after: float = 30.0
    warmup: float = 0.3
    rss_growth: float = 0.2
    rss_slack_mb: float = 16.0
    rss_every: float = 5.0
    drain_timeout: float = 900.0
    seed: int = 2026
    keep: bool = False
    #: A poison entry after every this many referrals (0: none).
    poison_every: int = 20

    @property
    def seconds(self) -> float:
        return self.minutes * 60

    @property
    def kill_interval(self) -> float:
        """Every three minutes, or four kills in a shorter run."""
        return self.kill_every if self.kill_every is not None else min(180.0, self.seconds / 4)


@dataclass
class Referral:
    source: str
    referral_id: str
    fields: dict[str, str]
    sent_at: float
    sends: int = 1
    case_id: UUID | None = None


@dataclass
class Soak:
    """The running soak: the system, the sources, the staff, the faults, the samples."""

    options: Options
    work: Path
    echo: Callable[[str], None] = print
    calendar: Calendar = field(default_factory=Calendar.last_month)
    referrals: list[Referral] = field(default_factory=list)
    answered: list[Referral] = field(default_factory=list)
    acknowledged: list[UUID] = field(default_factory=list)
    booked: list[tuple[UUID, UUID]] = field(default_factory=list)  # (case, meeting)
    held: list[UUID] = field(default_factory=list)
    #: Per staff member, when the last meeting they held ended.
    free_from: dict[str, datetime] = field(default_factory=dict)
    kills: list[tuple[float, str]] = field(default_factory=list)
    redis_restarts: list[float] = field(default_factory=list)
    resends: int = 0
    poisons: list[hostile.Poison] = field(default_factory=list)
    rss: dict[tuple[str, int], list[tuple[float, int]]] = field(default_factory=dict)
    began: float = 0.0

    def __post_init__(self) -> None:
        ports = {f"{s}_port": free_port() for s in SERVICES}
        self.settings = Settings(
            var_dir=self.work,
            embedded_redis="always",
            embedded_redis_port=free_port(),
            cipher_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
            log_level="WARNING",
            reclaim_idle_ms=5_000,
            simulated_start=self.calendar.phase1,
            **ports,  # type: ignore[arg-type]
        )
        self.desk_settings = self.settings.model_copy(
            update={"simulated_start": self.calendar.phase2}
        )
        self.rng = random.Random(self.options.seed)
        self.run = uuid.uuid4().hex[:8]
        self.supervisor = Supervisor(self.settings, log_file=self.work / "services.log")
        self.expected = int(self.options.rate * self.options.seconds) + 1

    @property
    def now(self) -> float:
        return time.monotonic() - self.began

    # --- the system --------------------------------------------------------------------------

    def start(self) -> None:
        self.supervisor.start()
        self.supervisor.wait_ready(timeout=120)
        assert self.supervisor.embedded is not None  # "always": ours, to restart
        # As on a deployment: the sources write as ``publisher``, the soak watches as ``operator``.
        self.source = connect(self.supervisor.login("publisher"), socket_timeout=5)
        self.client = connect(self.supervisor.login("operator"), socket_timeout=5)
        staff = self.calendar.staff_needed(self.expected * 2)
        with self.supervisor.client("scheduling", Role.STAFF) as http:  # as staff would
            for n in range(staff):
                http.post("/staff", json=staff_record(n)).raise_for_status()
        from services.intake.app import make_app as intake_app
        from services.scheduling.app import build

        self.intake = intake_app(self.settings)
        self.scheduling = build(self.settings)
        self.desk = build(self.desk_settings)
        self.began = time.monotonic()

    def stop(self) -> None:
        for app in (getattr(self, "intake", None), getattr(self, "scheduling", None),
                    getattr(self, "desk", None)):  # fmt: skip
            if app is not None:
                app.close()
        self.supervisor.stop()

    def kill_one(self) -> None:
        service = self.rng.choice(sorted(self.supervisor.children))
        child = self.supervisor.children[service]
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            child.wait()
            self.kills.append((round(self.now, 1), service))
            self.echo(f"  {self.now:6.0f} s  killed {service} (pid {child.pid})")
        self.supervisor.restart_exited()

    def restart_redis(self) -> None:
        embedded = self.supervisor.embedded
        assert embedded is not None
        embedded.stop()
        shutil.rmtree(embedded.directory, ignore_errors=True)  # nothing persists
        embedded.start()
        self.redis_restarts.append(round(self.now, 1))
        self.echo(f"  {self.now:6.0f} s  Redis restarted empty")

    def sample_rss(self) -> None:
        for service, child in self.supervisor.children.items():
            kib = _rss_kib(child.pid)
            if kib is not None and child.poll() is None:
                self.rss.setdefault((service, child.pid), []).append((round(self.now, 1), kib))

    # --- the sources -------------------------------------------------------------------------

    def publish_due(self) -> None:
        due = min(self.expected, int(self.now * self.options.rate))
        while len(self.referrals) < due:
            n = len(self.referrals)
            fields = referral(n, self.run, self.calendar.opening, self.rng)
            body = json.loads(fields["data"])
            body["source"] = SOURCES[n % len(SOURCES)]
            for k, person in enumerate(body["persons"]):
                person["name"] = hostile.name(3 * n + k)
            fields["data"] = json.dumps(body, ensure_ascii=False)
            sent = Referral(body["source"], body["referral_id"], fields, self.now)
            if not self._xadd(fields):
                return  # Redis is away: the source tries again
            self.referrals.append(sent)
            every = self.options.poison_every
            if every and n % every == every - 1:
                self._poison(body["persons"][0]["personal_number"])

    def _poison(self, personal_number: str) -> None:
        entry = hostile.poison(len(self.poisons), personal_number, self.now)
        if self._xadd(entry.fields):  # type: ignore[arg-type]
            self.poisons.append(entry)

    def _xadd(self, fields: dict[str, str] | dict[str, str | bytes]) -> bool:
        try:
            self.source.xadd(self.settings.stream(REFERRALS), fields)  # type: ignore[arg-type]
        except (redis.ConnectionError, redis.TimeoutError):
            return False
        return True

    # --- the staff -----------------------------------------------------------------------------

    def staff_pass(self) -> None:
        self._collect_answers()
        self._acknowledge()
        self._book()
        self._hold()

    def _collect_answers(self) -> None:
        for sent in [r for r in self.referrals if r.case_id is None]:
            answer = self.intake.answer(sent.source, sent.referral_id)
            if answer is not None and answer.case_id is not None:
                sent.case_id = answer.case_id
                self.answered.append(sent)
            elif answer is None and self.now - sent.sent_at > self.options.resend_after:
                again = {**sent.fields, "id": str(uuid.uuid4())}  # a new message, same referral
                if self._xadd(again):
                    sent.sent_at, sent.sends = self.now, sent.sends + 1
                    self.resends += 1

    def _acknowledge(self) -> None:
        todo = [r.case_id for r in self.answered[len(self.acknowledged) :] if r.case_id]
        for case_id in todo:
            try:
                self.intake.acknowledge(case_id, "reception")
            except Exception:
                return  # another time, in order
            self.acknowledged.append(case_id)

    def _book(self) -> None:
        from services.scheduling.booking import MeetingRequest, book_meeting
        from services.scheduling.desk import Desk
        from services.scheduling.domain_meeting import Meeting

        plan = list(self.calendar.plan(self.acknowledged))
        for case_id, staff, at in plan[len(self.booked) :]:
            meeting_id = uuid.uuid5(case_id, "soak-first-contact")
            request = MeetingRequest(case_id=case_id, kind="counselling", format="couple",
                                     minutes=MEETING_MINUTES, staff=(staff,), starts_at=at,
                                     meeting_id=meeting_id)  # fmt: skip

            def book(desk: Desk, r: MeetingRequest = request) -> Meeting:
                return book_meeting(desk, r)

            try:
                self.scheduling.transact(book)
            except Exception:
                if not self._exists(meeting_id):
                    return  # scheduling has not seen the case yet: next pass, in order
            self.booked.append((case_id, meeting_id))

    def _exists(self, meeting_id: UUID) -> bool:
        try:
            self.scheduling.transact(lambda desk: desk.meeting(meeting_id))
        except Exception:
            return False
        return True

    def _hold(self) -> None:
        from services.scheduling.held import when_free
        from services.scheduling.outcomes import record_held

        for _, meeting_id in self.booked[len(self.held) :]:
            extra = random.Random(str(meeting_id)).choice((0, 0, 0, 15, 30))

            def held(desk: Any, m: UUID = meeting_id, more: int = extra) -> Any:
                # One meeting at a time: one a longer meeting ran into started late.
                meeting = desk.meeting(m)
                if meeting.status != "held":
                    starts = when_free(meeting.starts_at, meeting.staff, self.free_from)
                    ends = starts + (meeting.ends_at - meeting.starts_at)
                    ends += timedelta(minutes=more)
                    record_held(desk, m, starts, ends, participants=2)
                return meeting

            try:
                meeting = self.desk.transact(held)
            except Exception:
                return
            self.held.append(meeting_id)
            if meeting.status == "held":
                ended = meeting.outcome["ended_at"]
                self.free_from.update(dict.fromkeys(meeting.outcome["staff"], ended))

    # --- the run -------------------------------------------------------------------------------

    def run_faulty(self) -> None:
        o = self.options
        next_kill = o.kill_interval / 2
        redis_at = o.seconds * o.redis_at
        next_staff = next_rss = 0.0
        while self.now < o.seconds:
            self.publish_due()
            self.supervisor.restart_exited()
            if self.now >= next_kill:
                self.kill_one()
                next_kill += o.kill_interval
            if not self.redis_restarts and self.now >= redis_at:
                self.restart_redis()
            if self.now >= next_staff:
                self.staff_pass()
                next_staff = self.now + 2.0
            if self.now >= next_rss:
                self.sample_rss()
                next_rss = self.now + o.rss_every
            time.sleep(0.05)

    def drain(self) -> None:
        """Until every referral is answered, every meeting held and billed, every group empty."""
        deadline = time.monotonic() + self.options.drain_timeout
        logged = Tail(self.client, self.settings.stream(BILLING_EVENTS), SESSION_KINDS)
        quiet = 0
        while time.monotonic() < deadline:
            self.supervisor.restart_exited()
            self.staff_pass()
            self.sample_rss()
            done = (
                len(self.held) == len(self.booked) == len(self.acknowledged) == len(self.answered)
                == len(self.referrals)
            )  # fmt: skip
            try:
                done = done and logged.poll() >= len(self.held) and drained(self.client)
            except (redis.ConnectionError, redis.TimeoutError):
                done = False
            quiet = quiet + 1 if done else 0
            if quiet >= 3:  # settled for three passes in a row
                return
            time.sleep(1.0)
        raise TimeoutError(f"not drained within {self.options.drain_timeout:.0f} s")

    def memory(self) -> list[Flatness]:
        o = self.options
        processes = [Rss(s, pid, tuple(v)) for (s, pid), v in self.rss.items()]
        out = []
        for service in SERVICES:
            chosen = longest_lived(processes).get(service)
            found = chosen and flatness(chosen, o.warmup, o.rss_growth, int(o.rss_slack_mb * 1024))
            if found:
                out.append(found)
        return out


def _rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def settlements(
    settings: Settings, month: str, lines: Sequence[str], rerun: Path
) -> dict[str, str]:
    """The month's digest as billing keeps it, from its log offline, and in a fault-free run."""
    from services.billing.app import make_app
    from services.billing.offline import compute_from_export
    from services.billing.tariff_seeds import default_catalogue

    billing = make_app(settings)
    try:
        live = billing.settlement(month)["document"]["digest"]
    finally:
        billing.close()
    offline = compute_from_export(lines, month, None, default_catalogue())["digest"]
    return {
        "billing": live,
        "billing's log offline": offline,
        "fault-free run": fault_free_run(settings, month, lines, rerun),
    }


def fault_free_run(settings: Settings, month: str, lines: Sequence[str], work: Path) -> str:
    """The month's digest of a billing that gets the same input with nothing failing: a new
    billing over an empty store is given what intake and scheduling published (their stores'
    export), in their order, in batches as its consumer reads them, in this process, with no
    Redis, no kill and no redelivery."""
    from infra.batches import Incoming
    from services.billing.app import make_app

    work.mkdir(parents=True, exist_ok=True)
    billing = make_app(settings.model_copy(update={"var_dir": work}))
    try:
        items = []
        for n, text in enumerate(lines):
            line = json.loads(text)
            if line["stream"] not in (INTAKE_EVENTS, SCHEDULING_EVENTS):
                continue  # billing's own events are what is being recomputed
            fields = {
                "type": line["type"],
                "version": str(line["version"]),
                "id": line["id"],
                "data": json.dumps(line["data"]),
            }
            for extra in ("correlation_id", "causation_id"):
                if line.get(extra):
                    fields[extra] = line[extra]
            envelope = billing.decode(line["stream"], fields)
            items.append(Incoming(f"{n + 1}-0", line["stream"], envelope))
        for start in range(0, len(items), settings.batch_size):
            results = billing.process("billing", items[start : start + settings.batch_size])
            failed = {entry: error for entry, error in results.items() if error}
            if failed:
                raise RuntimeError(f"the fault-free run failed: {failed}")
        digest: str = billing.settlement(month)["document"]["digest"]
        return digest
    finally:
        billing.close()


def run_soak(options: Options, echo: Callable[[str], None] = print) -> tuple[list[Row], int]:
    """Run the soak; return the verdict's rows and the exit code."""
    from lots.export import export

    work = Path(tempfile.mkdtemp(prefix="lots-soak-"))
    soak = Soak(options, work, echo)
    echo(f"soak: {options.minutes:g} min at {options.rate:g} referrals/s, a kill every "
         f"{soak.options.kill_interval:.0f} s, Redis restarted empty at "
         f"{options.redis_at * options.seconds:.0f} s; stores under {work}")  # fmt: skip
    month = soak.calendar.opening.strftime("%Y-%m")
    try:
        soak.start()
        soak.run_faulty()
        echo(f"  {soak.now:6.0f} s  sources stop; draining")
        soak.drain()
        echo(f"  {soak.now:6.0f} s  drained")
        restarts = soak.supervisor.restarts
        memory = soak.memory()
    finally:
        soak.stop()
    buffer = StringIO()
    export(soak.settings, buffer)
    raw = buffer.getvalue().splitlines()
    lines = [json.loads(line) for line in raw]
    digests = settlements(soak.settings, month, raw, work / "fault-free")
    rows = verdict([(r.source, r.referral_id) for r in soak.referrals], lines, digests, memory)
    rows += hostile_rows(soak, work / "services.log")
    facts = [
        ("minutes", f"{options.minutes:g} (drained {soak.now / 60:.1f} min after start)"),
        ("referrals sent", f"{len(soak.referrals)} ({soak.resends} sent again)"),
        ("poison entries sent", ", ".join(_kinds(soak.poisons)) or "none"),
        ("cases / meetings held", f"{len(soak.answered)} / {len(soak.held)}"),
        ("kills (SIGKILL)", ", ".join(f"{s} at {t:.0f} s" for t, s in soak.kills) or "none"),
        ("restarts by the supervisor", str(restarts)),
        ("Redis restarted empty", ", ".join(f"at {t:.0f} s" for t in soak.redis_restarts)),
        ("settlement month", month),
    ]
    echo(table(rows, facts))
    if options.keep:
        echo(f"kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return rows, 0 if all(r.ok for r in rows) else 1


def _kinds(poisons: Sequence[hostile.Poison]) -> list[str]:
    return [f"{n} {kind}" for kind, n in sorted(Counter(p.kind for p in poisons).items())]


def parse(argv: Sequence[str]) -> Options:
    a = parser(Options()).parse_args(argv)
    return Options(
        minutes=a.minutes,
        rate=a.rate,
        kill_every=a.kill_every,
        redis_at=a.redis_at,
        resend_after=a.resend_after,
        warmup=a.warmup,
        rss_growth=a.rss_growth,
        rss_slack_mb=a.rss_slack_mb,
        drain_timeout=a.drain_timeout,
        seed=a.seed,
        keep=a.keep,
        poison_every=a.poison_every,
    )


def parser(d: Options) -> argparse.ArgumentParser:
    """The soak's options, ``d``'s values their defaults."""
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=d.minutes, help="how long referrals arrive")
    p.add_argument("--rate", type=float, default=d.rate, help="referrals a second")
    p.add_argument(
        "--kill-every",
        type=float,
        default=None,
        help="seconds between kills (default: 180, or a quarter of a shorter run)",
    )
    p.add_argument(
        "--redis-at",
        type=float,
        default=d.redis_at,
        help="when Redis is restarted empty, as a fraction of the run",
    )
    p.add_argument(
        "--resend-after",
        type=float,
        default=d.resend_after,
        help="seconds after which a source sends an unanswered referral again",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=d.warmup,
        help="fraction of a process's life that is warm-up for the memory check",
    )
    p.add_argument(
        "--rss-growth",
        type=float,
        default=d.rss_growth,
        help="allowed RSS growth after warm-up, as a fraction",
    )
    p.add_argument(
        "--rss-slack-mb",
        type=float,
        default=d.rss_slack_mb,
        help="allowed RSS growth after warm-up, in MiB, on top",
    )
    p.add_argument("--drain-timeout", type=float, default=d.drain_timeout)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--keep", action="store_true", help="keep the stores and the services' log")
    p.add_argument(
        "--poison-every",
        type=int,
        default=d.poison_every,
        help="a poison entry after every N referrals (0: none)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    _, code = run_soak(parse(sys.argv[1:] if argv is None else argv))
    return code


if __name__ == "__main__":
    sys.exit(main())
