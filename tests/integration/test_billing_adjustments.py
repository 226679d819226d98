"""Manual adjustments over billing's real store (SQLite and PostgreSQL): booked on an open month
only, shown as a line with reason and reference, published, and carried by replay and offline
compute to the closed digest (issue 14 item 2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from infra.settings import Settings
from infra.store import store_env
from services.billing.application import Billing
from services.billing.errors import BillingError, Conflict, MonthClosed
from services.billing.statement import to_csv, to_html
from tests.integration.test_billing_store import (
    CEST,
    assert_reproducible,
    billing,  # noqa: F401  (fixture)
    clock,  # noqa: F401  (fixture)
    deliver,
    held,
    of_type,
)
from tests.support.billing import Clock

CORRECTION: dict[str, Any] = {
    "programme": "counselling",
    "amount_ore": -30_250,
    "reason": "session of 2022-05-04 billed twice",
    "reference": "SON-2022-114",
    "recorded_by": "ekonom",
}


def test_an_adjustment_is_a_line_of_its_open_month_published_and_reproducible(
    billing: Billing,  # noqa: F811
) -> None:
    may = [held(1, datetime(2022, 5, 3, 13, 0, tzinfo=CEST), 80)]
    deliver(billing, may)
    billing.close_month("2022-05")
    done = billing.adjust(month="2022-06", corrects="2022-05", **CORRECTION)
    assert done["belongs_to_month"] == "2022-05"
    with pytest.raises(Conflict, match="already booked"):
        billing.adjust(month="2022-06", corrects="2022-05", **CORRECTION)
    closed = billing.close_month("2022-06")
    [line] = [x for x in closed["lines"] if x["kind"] == "adjustment"]
    assert line == {
        "programme": "counselling", "kind": "adjustment", "adjustment_id": done["adjustment_id"],
        "belongs_to_month": "2022-05", "reason": CORRECTION["reason"], "amount_ore": -30_250,
        "cause": "manual", "reference": "SON-2022-114",
    }  # fmt: skip
    assert closed["total_ore"] == sum(x["amount_ore"] for x in closed["lines"])
    assert closed["net_ore"] == closed["total_ore"] - closed["fees_ore"]
    [message] = of_type(billing, "AdjustmentRecorded")
    assert (message.cause, message.reference, message.amount_ore) == (
        "manual", "SON-2022-114", -30_250,
    )  # fmt: skip
    assert [a["adjustment_id"] for a in billing.adjustments("2022-06")] == [done["adjustment_id"]]
    assert_reproducible(billing, "2022-05", may)
    assert_reproducible(billing, "2022-06", may)
    view = billing.settlement("2022-06", "counselling")
    for shown in (to_csv(view["document"]), to_html(view)):
        assert "SON-2022-114" in shown and "billed twice" in shown


def test_a_closed_month_is_refused_naming_the_first_open_month_and_never_changes(
    billing: Billing,  # noqa: F811
) -> None:
    billing.close_month("2022-05")
    billing.close_month("2022-06")
    before = billing.closed_document("2022-05")
    with pytest.raises(MonthClosed, match="first open month, 2022-07"):
        billing.adjust(month="2022-05", **CORRECTION)
    assert billing.closed_document("2022-05") == before
    assert of_type(billing, "AdjustmentRecorded") == []


def test_an_adjustment_of_nothing_of_a_later_month_or_of_a_month_not_begun_is_refused(
    billing: Billing,  # noqa: F811
) -> None:
    with pytest.raises(BillingError, match="non-zero"):
        billing.adjust(month="2022-06", **(CORRECTION | {"amount_ore": 0}))
    with pytest.raises(BillingError, match="later month"):
        billing.adjust(month="2022-06", corrects="2022-07", **CORRECTION)
    with pytest.raises(BillingError, match="has not begun"):  # the clock is 2022-07-15
        billing.adjust(month="2022-08", **CORRECTION)
    with pytest.raises(BillingError, match="reference"):
        billing.adjust(month="2022-06", **(CORRECTION | {"reference": " "}))


def test_a_month_whose_grace_window_has_ended_is_closed_before_an_adjustment_is_refused(
    store_settings: Settings,
) -> None:
    now = Clock(datetime(2026, 4, 6, 12, tzinfo=CEST))  # March's window: 1, 2 and 7 April
    app = Billing(store_env(store_settings, "billing"), clock=now, grace_days=3)
    app.record_default_tariffs()
    try:
        deliver(app, [held(1, datetime(2026, 3, 10, 9, tzinfo=CEST), 45)])
        app.adjust(month="2026-03", **CORRECTION)  # in the window: booked on March
        now.now = datetime(2026, 4, 8, 9, tzinfo=CEST)  # the window has ended
        with pytest.raises(MonthClosed, match="first open month, 2026-04"):
            app.adjust(month="2026-03", **(CORRECTION | {"reference": "SON-2"}))
        closed = app.closed_document("2026-03", "counselling")
        assert closed is not None and closed["total_ore"] == 45_375 - 30_250
    finally:
        app.close()
