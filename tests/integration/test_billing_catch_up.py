"""A tariff, index or fee revision recorded after months closed reaches them: catch-ups on the
first open month, per closed month and line, over billing's real store (SQLite and
PostgreSQL), replayed and computed offline to the closed digests (issue 14 item 2)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from infra.settings import Settings
from infra.store import store_env
from services.billing.application import Billing
from services.billing.fixed import rounded_share
from services.billing.statement import to_csv
from services.billing.tariff_entries import (
    FEE_REVISION,
    UPLIFT,
    FixedPayment,
    HourlyRate,
    TariffError,
)
from tests.integration.test_billing_store import CET, assert_reproducible, deliver, held, of_type
from tests.support.billing import Clock

MONTHS = ("2023-01", "2023-02", "2023-03")
FIELD_2023 = FixedPayment(
    entry_id="field-2023-payment", contract="field-2021", amount_ore=520_000_000, per="year",
    price_level_year=2023, valid_from=date(2023, 1, 1),
)  # fmt: skip
RATE_FEB = HourlyRate(
    entry_id="counselling-rate-2023-02", programme="counselling", sek_per_hour=Decimal("640.00"),
    price_level_year=2023, valid_from=date(2023, 2, 1),
)  # fmt: skip
JANUARY = [held(1, datetime(2023, 1, 10, 9, tzinfo=CET), 80), held(2, datetime(2023, 1, 11, 9,
           tzinfo=CET), 45, client_visits=2)]  # fmt: skip
FEBRUARY = [held(3, datetime(2023, 2, 7, 13, tzinfo=CET), 60)]
LATE = held(5, datetime(2023, 1, 20, 15, tzinfo=CET), 30)  # January's, recorded after it closed
MARCH = [held(4, datetime(2023, 3, 6, 10, tzinfo=CET), 50)]


def revise(app: Billing, *, second: bool) -> list[dict[str, Any]]:
    """The uplift, the fee revision and field work's new payment; the rate of February on."""
    done = [
        app.record_indexation(series=UPLIFT, year=2023, percent=Decimal("3.5"),
                              applies_from=date(2023, 1, 1), reference="SON-2023-12"),
        app.record_indexation(series=FEE_REVISION, year=2023, percent=Decimal("10"),
                              applies_from=date(2023, 1, 1), reference="SON-2023-13"),
        app.record_price(FIELD_2023, reference="SON-2023-14"),
    ]  # fmt: skip
    if second:
        done.append(app.record_price(RATE_FEB, reference="SON-2023-20"))
    return done


@pytest.fixture
def apps(store_settings: Settings) -> Iterator[tuple[Billing, Billing, Clock]]:
    clock = Clock(datetime(2023, 3, 3, 12, tzinfo=UTC))
    other = store_settings.model_copy(
        update={
            "var_dir": store_settings.var_dir / "known",
            "postgres_schema_prefix": f"{store_settings.postgres_schema_prefix}k",
        }
    )
    late, known = (Billing(store_env(s, "billing"), clock=clock) for s in (store_settings, other))
    for app in (late, known):
        app.record_default_tariffs()
    yield late, known, clock
    late.close()
    known.close()


def owed(app: Billing) -> Counter[str]:
    """What each month was paid in öre, wherever it was paid: its own lines, and every
    adjustment booked for it (catch-ups, late sessions) on a later month; and its fees."""
    paid: Counter[str] = Counter()
    for month in MONTHS:
        document = app.closed_document(month)
        assert document is not None
        for line in document["lines"]:
            owner = line.get("belongs_to_month", month)
            paid[owner] += line["amount_ore"]
            paid[f"fees {owner}"] += line.get("fees_collected_ore", 0)
    return paid


def test_a_late_revision_reaches_closed_months_as_catch_ups_that_replay(
    apps: tuple[Billing, Billing, Clock],
) -> None:
    late, known, clock = apps
    revise(known, second=True)  # known from the start
    for app in (late, known):
        deliver(app, JANUARY + FEBRUARY)
        app.close_month("2023-01")
        deliver(app, [LATE])  # an adjustment of February's
        app.close_month("2023-02")
        deliver(app, MARCH)  # priced before the second revision in ``late``
    before = {m: late.closed_document(m) for m in MONTHS[:2]}

    done = revise(late, second=False)
    uplift = done[0]["catch_ups"]
    assert {(c["month"], c["belongs_to_month"], c["line"]) for c in uplift} == {
        ("2023-03", "2023-01", "hourly:counselling"), ("2023-03", "2023-02", "hourly:counselling"),
    }  # fmt: skip
    # 80 + 45 minutes and the late 30: 6 + 3 + 2 quarters, 605 -> 626.18 SEK/h, rounded once
    # per session
    assert uplift[0]["amount_ore"] == (93_927 + 46_964 + 31_309) - (90_750 + 45_375 + 30_250)
    fees = {c["belongs_to_month"]: c["fee_ore"] for c in done[1]["catch_ups"]}
    assert fees == {"2023-01": 4 * 2_000, "2023-02": 2_000}  # 4 visits, then 1, x 20 SEK
    fixed = {c["belongs_to_month"]: c["amount_ore"] for c in done[2]["catch_ups"]}
    assert fixed == {
        "2023-01": rounded_share(520_000_000, 12, 1) - rounded_share(500_000_000, 12, 1),
        "2023-02": rounded_share(520_000_000, 12, 2) - rounded_share(500_000_000, 12, 2)
        - rounded_share(520_000_000, 12, 1) + rounded_share(500_000_000, 12, 1),
    }  # fmt: skip
    with pytest.raises(TariffError):  # the same index twice is refused, and adds nothing
        revise(late, second=False)
    second = late.record_price(RATE_FEB, reference="SON-2023-20")["catch_ups"]
    assert [(c["belongs_to_month"], c["line"]) for c in second] == [
        ("2023-02", "hourly:counselling")
    ]  # only what is not yet paid: February's session, 626.18 -> 640 SEK/h
    assert second[0]["amount_ore"] == 64_000 - 62_618
    assert {m: late.closed_document(m) for m in MONTHS[:2]} == before  # never edited

    clock.now = datetime(2023, 4, 3, 12, tzinfo=UTC)
    march = late.close_month("2023-03")
    known.close_month("2023-03")
    catch_ups = [x for x in march["lines"] if x.get("cause") == "catch_up"]
    assert {x["belongs_to_month"] for x in catch_ups} == {"2023-01", "2023-02", "2023-03"}
    assert all(x["reference"] and x["tariff_version"] for x in catch_ups)
    assert owed(late) == owed(known)  # to the öre, each month, fees too
    published = [a for a in of_type(late, "AdjustmentRecorded") if a.cause == "catch_up"]
    assert len(published) == len(catch_ups)
    assert "SON-2023-12" in to_csv(march)
    for month in MONTHS:
        assert_reproducible(late, month, [*JANUARY, *FEBRUARY, LATE, *MARCH])


def test_a_month_closed_after_the_revision_gets_the_new_price_directly(
    apps: tuple[Billing, Billing, Clock],
) -> None:
    late, known, _ = apps
    revise(known, second=True)
    revise(late, second=True)
    for app in (late, known):
        deliver(app, JANUARY)
        app.close_month("2023-01")
    january = late.closed_document("2023-01")
    assert january is not None
    assert not [x for x in january["lines"] if x["kind"] == "adjustment"]
    assert january == known.closed_document("2023-01")
