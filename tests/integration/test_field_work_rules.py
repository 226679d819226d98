"""Field work's rules on the real stores (seed 004): the polare register, its erasure, the
attestation per walk, night-walk and deployment refusals, fees waiting for a rate.

The three applications run in this process over their SQLite stores; their public events are
carried from one outbox to the next consumer in the plain entry format, as the relay would
(the Redis path is ``tests/e2e/test_field_work.py``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from events.billing import PolareRate
from events.codec import decode, encode
from events.scheduling import Consultation
from infra.application import ServiceApplication
from infra.batches import Incoming
from infra.pii import ERASED
from infra.settings import Settings
from infra.store import store_env
from services.billing import polare_commands as fees
from services.billing.application import Billing
from services.intake import polare, polare_commands, polare_erasure
from services.intake.application import Intake
from services.scheduling import fieldwork
from services.scheduling.app import build
from services.scheduling.application import Scheduling
from services.scheduling.errors import Conflict, Invalid, NotFound, UnknownStaff
from tests.support.intake import Clock, personal_number

FIELD_STAFF = {
    "staff_id": "falt-1", "provider": "leanlink", "programmes": ["field"], "competences": [],
    "weekly_capacity_minutes": 2400, "evenings": True, "weekends": True, "absences": [],
}  # fmt: skip
ONE_RATE = [PolareRate(age_from=13, age_to=25, years_from=1, ore_per_walk=30_000)]


@dataclass
class FieldWork:
    clock: Clock
    intake: Intake
    scheduling: Scheduling
    billing: Billing
    positions: dict[str, int] = field(default_factory=dict)

    def carry(self) -> None:
        """Scheduling's events to intake, then intake's to billing, as the relay would."""
        self._carry(self.scheduling, self.intake)
        self._carry(self.intake, self.billing)

    def _carry(self, source: ServiceApplication, target: ServiceApplication) -> None:
        position, out = source.outbox(self.positions.get(source.name, 0), 10_000)
        self.positions[source.name] = position
        items = [
            Incoming(f"1-{n}", o.stream, decode(encode(o.message, id=o.id)))
            for n, o in enumerate(out)
        ]
        if items:
            assert set(target.process(target.name, items).values()) == {None}

    def enrol(self, born: date, serial: str = "301", **kw: Any) -> polare_commands.Enrolment:
        args = {"name": f"Namn {serial}", "enrolled_on": date(2026, 8, 20),
                "recorded_by": "fältledare"} | kw  # fmt: skip
        return polare_commands.enroll(
            self.intake, personal_number=personal_number(born, serial), **args
        )

    def walk(self, on: date, polare_refs: list[uuid.UUID], **kw: Any) -> fieldwork.NightWalk:
        start = datetime(on.year, on.month, on.day, 17, 0, tzinfo=UTC)
        args = {"area": "Berga", "started_at": start, "ended_at": start + timedelta(hours=4),
                "staff": ["falt-1"], "polare": polare_refs, "youths_met": 10,
                "youths_talked_with": 2, "reported_by": "falt-1"} | kw  # fmt: skip
        return fieldwork.report_walk(self.scheduling, **args)


@pytest.fixture
def work(settings: Settings) -> Iterator[FieldWork]:
    clock = Clock(datetime(2027, 7, 5, 10, 0, tzinfo=UTC))
    intake = Intake(store_env(settings, "intake", encrypted=True), clock=clock)
    scheduling = build(settings, clock=clock)
    billing = Billing(store_env(settings, "billing"), clock=clock)
    billing.record_default_tariffs()
    scheduling.register_staff(dict(FIELD_STAFF))
    yield FieldWork(clock, intake, scheduling, billing)
    for app in (intake, scheduling, billing):
        app.close()


def test_enrolment_rules_and_years_in_the_activity(work: FieldWork) -> None:
    def refused(code: str, **kw: Any) -> None:
        with pytest.raises(polare.PolareError) as caught:
            work.enrol(**({"born": date(2010, 3, 1)} | kw))
        assert caught.value.code == code, caught.value

    refused("age_out_of_range", born=date(2014, 1, 1))  # 12 on the day
    refused("age_out_of_range", born=date(2000, 1, 1))  # 26
    refused("invalid_school_year", school_year="2025/26")
    refused("invalid_school_year", school_year="2026/28")
    refused("in_the_future", enrolled_on=date(2027, 7, 6), school_year="2027/28")
    with pytest.raises(polare.PolareError, match="personal number is invalid"):
        polare_commands.enroll(work.intake, personal_number="201003012381", name="x",
                               enrolled_on=date(2026, 8, 20), recorded_by="x")  # fmt: skip

    first = work.enrol(date(2010, 3, 1), years_before=1)
    assert (first.new, first.polar.years_in("2026/27")) == (True, 2)
    again = work.enrol(date(2010, 3, 1), years_before=1)
    assert again.new is False and again.polar.id == first.polar.id
    later = work.enrol(date(2010, 3, 1), enrolled_on=date(2027, 7, 1), school_year="2027/28")
    assert later.polar.years_in("2027/28") == 3
    assert polare_commands.reveal(work.intake, later.polar) == {
        "personal_number": personal_number(date(2010, 3, 1), "301"),
        "name": "Namn 301",
        "date_of_birth": "2010-03-01",
    }


def test_the_twenty_first_polar_of_a_school_year_is_refused(work: FieldWork) -> None:
    for n in range(20):
        work.enrol(date(2009, 1 + n % 12, 1 + n), serial=f"{400 + n}")
    with pytest.raises(polare.PolareError) as caught:
        work.enrol(date(2011, 5, 5), serial="499")
    assert caught.value.code == "school_year_full"
    assert "school year 2026/27 has 20 active polare on 2026-08-20" in str(caught.value)
    # The next school year is a new roll.
    assert work.enrol(date(2011, 5, 5), serial="499", enrolled_on=date(2027, 7, 1)).new
    assert len(polare_commands.register(work.intake, "2026/27")) == 20


def test_attestation_ages_years_and_why_not(work: FieldWork) -> None:
    born = date(2010, 9, 10)  # 16 on 2026-09-04, 17 from 2027-09-10
    ref = work.enrol(born).polar.id
    stranger = uuid.uuid4()
    not_a_polar = polare.PolareYear.create_id("2026/27")  # another of intake's aggregates
    fees.record_rates(work.billing, effective_from=date(2026, 7, 1), rates=ONE_RATE, reference="r")
    walk = work.walk(date(2026, 9, 4), [ref, stranger, not_a_polar])
    work.carry()
    report = fees.month_report(work.billing, "2026-09")
    assert report["fees_ore"] == 30_000 and report["polare_walks"] == 1
    assert report["not_paid"] == [
        {"walk_id": str(walk.id), "polar_ref": str(r), "reason": "unknown_polar"}
        for r in (stranger, not_a_polar)
    ]
    # Before the enrolment, and in a school year not enrolled for: no fee.
    work.walk(date(2026, 8, 14), [ref])
    work.carry()
    assert fees.month_report(work.billing, "2026-08")["not_paid"][0]["reason"] == "not_enrolled"
    work.clock.now = datetime(2027, 9, 20, 10, tzinfo=UTC)
    work.walk(date(2027, 9, 17), [ref])
    work.carry()
    assert fees.month_report(work.billing, "2027-09")["not_paid"][0]["reason"] == "not_enrolled"


def test_an_erased_polar_reads_erased_and_is_not_attested(work: FieldWork) -> None:
    enrolled = work.enrol(date(2010, 3, 1))
    ref = enrolled.polar.id
    assert polare_erasure.erase(work.intake, ref, "the polar asked", "dataskydd") is True
    assert polare_erasure.erase(work.intake, ref, "again", "dataskydd") is False
    assert set(
        polare_commands.reveal(work.intake, polare_commands.record_of(work.intake, ref)).values()
    ) == {ERASED}
    with pytest.raises(polare.PolareError) as caught:
        work.enrol(date(2010, 3, 1), enrolled_on=date(2027, 7, 1))
    assert caught.value.code == "erased"
    fees.record_rates(work.billing, effective_from=date(2026, 7, 1), rates=ONE_RATE, reference="r")
    work.walk(date(2026, 9, 4), [ref])
    work.carry()
    assert fees.month_report(work.billing, "2026-09")["not_paid"][0]["reason"] == "erased"


def test_polare_are_erased_two_years_after_their_last_school_year(work: FieldWork) -> None:
    kept = work.enrol(date(2010, 3, 1), serial="301").polar.id
    work.enrol(date(2010, 3, 1), serial="301", enrolled_on=date(2027, 7, 1))
    gone = work.enrol(date(2011, 4, 2), serial="302").polar.id
    work.clock.now = datetime(2029, 6, 30, 12, tzinfo=UTC)
    assert polare_erasure.erase_expired(work.intake) == []
    work.clock.now = datetime(2029, 7, 1, 12, tzinfo=UTC)
    assert polare_erasure.erase_expired(work.intake) == [str(gone)]
    assert polare_erasure.erase_expired(work.intake) == []
    assert (
        polare_commands.reveal(work.intake, polare_commands.record_of(work.intake, kept))["name"]
        == "Namn 301"
    )


def test_walks_are_refused_with_a_reason(work: FieldWork) -> None:
    day = date(2026, 9, 4)
    with pytest.raises(Invalid, match="talked with"):
        work.walk(day, [], youths_met=2, youths_talked_with=3)
    with pytest.raises(Invalid, match="once it is over"):
        work.walk(date(2027, 7, 5), [])
    with pytest.raises(Invalid, match="ends after it starts"):
        work.walk(day, [], ended_at=datetime(2026, 9, 4, 16, tzinfo=UTC))
    with pytest.raises(Invalid, match="each polar once"):
        ref = uuid.uuid4()
        work.walk(day, [ref, ref])
    with pytest.raises(UnknownStaff):
        work.walk(day, [], staff=["nobody"])
    work.scheduling.register_staff(FIELD_STAFF | {"staff_id": "kurator", "programmes": ["network"],
                                                  "competences": ["network_work"]})  # fmt: skip
    with pytest.raises(Invalid, match="does not work in field work"):
        work.walk(day, [], staff=["kurator"])
    with pytest.raises(NotFound):
        work.walk(day, [], meeting_id=uuid.uuid4())
    walk_id = uuid.uuid4()
    first = work.walk(day, [], walk_id=walk_id)
    assert work.walk(day, [], walk_id=walk_id).id == first.id
    with pytest.raises(Conflict, match="differently"):
        work.walk(day, [], walk_id=walk_id, youths_met=11)


def test_deployments_run_1_to_12_weeks_and_extend_after_consultation(work: FieldWork) -> None:
    def consulted(on: date) -> Consultation:
        return Consultation(consulted_with="omsorgskontoret", consulted_on=on)

    def deploy(first: date, weeks: int, on: date) -> fieldwork.AreaDeployment:
        return fieldwork.start_deployment(
            work.scheduling, area="Ryd", reason="oro", first_day=first, weeks=weeks,
            consultation=consulted(on), recorded_by="chef",
        )  # fmt: skip

    for weeks in (-1, 0, 13, 52):
        with pytest.raises(Invalid, match="1 to 12 weeks"):
            deploy(date(2027, 7, 1), weeks, date(2027, 6, 28))
    with pytest.raises(Invalid, match="before the deployment starts"):
        deploy(date(2027, 7, 1), 2, date(2027, 7, 2))
    with pytest.raises(Invalid, match="must have taken place"):
        deploy(date(2027, 7, 12), 2, date(2027, 7, 8))
    twelve = deploy(date(2027, 4, 12), 12, date(2027, 4, 9))
    assert twelve.last_day == date(2027, 7, 4)  # 84 days: the day before has passed
    with pytest.raises(Conflict, match="ended on 2027-07-04"):
        fieldwork.extend_deployment(
            work.scheduling,
            twelve.id,
            weeks=1,
            reason="r",
            consultation=consulted(date(2027, 7, 5)),
            recorded_by="c",
        )
    one = deploy(date(2027, 7, 5), 1, date(2027, 7, 5))
    with pytest.raises(Invalid, match="1 to 12 weeks"):
        fieldwork.extend_deployment(
            work.scheduling,
            one.id,
            weeks=13,
            reason="r",
            consultation=consulted(date(2027, 7, 5)),
            recorded_by="c",
        )
    extended = fieldwork.extend_deployment(
        work.scheduling, one.id, weeks=12, reason="still", consultation=consulted(
            date(2027, 7, 5)), recorded_by="c",
    )  # fmt: skip
    assert (extended.weeks, extended.last_day) == (13, date(2027, 10, 3))
    assert extended.extensions[0]["consultation"]["consulted_with"] == "omsorgskontoret"


def test_a_walk_waits_for_a_rate_and_fees_are_never_repriced(work: FieldWork) -> None:
    ref = work.enrol(date(2008, 1, 15)).polar.id  # 18 on the walk
    fees.record_rates(
        work.billing, effective_from=date(2026, 7, 1), reference="r",
        rates=[PolareRate(age_from=13, age_to=17, years_from=1, ore_per_walk=25_000)],
    )  # fmt: skip
    walk = work.walk(date(2026, 9, 4), [ref])
    work.carry()
    waiting = fees.month_report(work.billing, "2026-09")
    assert waiting["fees_ore"] == 0
    assert waiting["waiting"] == [{"walk_id": str(walk.id), "walked_on": "2026-09-04",
                                   "reason": "table polare-2026-07-01 has no rate for age 18 "
                                             "in year 1 of the activity"}]  # fmt: skip
    priced = fees.record_rates(
        work.billing, effective_from=date(2026, 8, 1), reference="r2",
        rates=[PolareRate(age_from=13, age_to=25, years_from=1, ore_per_walk=35_000)],
    )  # fmt: skip
    assert priced["walks_priced"] == 1
    fees.record_rates(work.billing, effective_from=date(2026, 9, 1), rates=ONE_RATE,
                      reference="r3")  # fmt: skip
    report = fees.month_report(work.billing, "2026-09")
    assert (report["fees_ore"], report["waiting"]) == (35_000, [])
    assert report["walk_fees"][0]["table_id"] == "polare-2026-08-01"
    with pytest.raises(Exception, match="recorded already"):
        fees.record_rates(work.billing, effective_from=date(2026, 9, 1), rates=ONE_RATE,
                          reference="r4")  # fmt: skip


def test_the_monthly_polare_cost_on_the_command_line(work: FieldWork, settings: Settings) -> None:
    from typer.testing import CliRunner

    from lots.cli import app

    ref = work.enrol(date(2010, 3, 1)).polar.id
    fees.record_rates(work.billing, effective_from=date(2026, 7, 1), rates=ONE_RATE, reference="r")
    work.walk(date(2026, 12, 4), [ref])
    work.carry()
    env = {"LOTS_VAR_DIR": str(settings.var_dir), "LOTS_EMBEDDED_REDIS": "never"}
    shown = CliRunner().invoke(app, ["polare", "fees", "2026-12", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert (report["fees_ore"], report["budget"]["month_share_ore"]) == (30_000, 41_666_667)
    assert report["budget"]["year_to_date_share_ore"] == 500_000_000
    text = CliRunner().invoke(app, ["polare", "fees", "2026-12"], env=env)
    assert text.exit_code == 0 and "300,00\u00a0kr" in text.stdout
    bad = CliRunner().invoke(app, ["polare", "fees", "2026-13"], env=env)
    assert bad.exit_code == 2
