"""The case file's words: times in Stockholm time with the zone named (CET in winter, CEST in
summer), events in words, fields as key: value, and no line forged by a stored string."""

from __future__ import annotations

from typing import Any

from lots.case_file import render

CASE = "5d292868-18f2-421a-9a39-127cfa8df7ce"


def _report(*events: dict[str, Any]) -> dict[str, Any]:
    return {"case_id": CASE, "as_of": None, "personal_data_shown": False,
            "records_shown": False, "events": list(events)}  # fmt: skip


def test_a_summer_booking_reads_in_cest_with_words_and_fields() -> None:
    booked = {
        "at": "2026-06-01T06:30:00+00:00", "service": "scheduling", "event": "Meeting.Booked",
        "aggregate": CASE, "version": 1,
        "data": {"kind": "counselling", "format": "couple", "provider": "leanlink",
                 "staff": ["anna", "bertil"], "starts_at": "2026-06-03T06:00:00+00:00",
                 "ends_at": "2026-06-03T07:00:00+00:00", "first_contact": True, "note": None},
    }  # fmt: skip
    lines = render(_report(booked), None)
    assert lines[2:] == [
        "",
        "2026-06-01 08:30:00 CEST (Europe/Stockholm) · scheduling · Meeting.Booked",
        "Meeting booked with anna, bertil (leanlink): counselling, couple, 2026-06-03 08:00 CEST "
        "to 2026-06-03 09:00 CEST",
        "  kind: counselling",
        "  format: couple",
        "  provider: leanlink",
        "  staff: anna, bertil",
        "  starts_at: 2026-06-03 08:00:00 CEST",
        "  ends_at: 2026-06-03 09:00:00 CEST",
        "  first_contact: yes",
    ]


def test_an_event_without_a_phrase_is_still_words_and_a_stored_line_feed_forges_nothing() -> None:
    odd = {
        "at": "2026-01-10T12:00:00+00:00", "service": "billing", "event": "Session.PriceResolved",
        "aggregate": CASE, "version": 3,
        "data": {"reason": "tariff\n2026-01-10 13:00:00 CET (Europe/Stockholm) · forged",
                 "session": {"minutes": 45, "rate": "605"}},
    }  # fmt: skip
    lines = render(_report(odd), "2026-02-01T00:00:00+01:00")
    assert lines[0] == f"Case {CASE} as it stood at 2026-02-01 00:00:00 CET (Europe/Stockholm)"
    assert lines[4] == "Session: price resolved"
    assert "  reason: tariff\\n2026-01-10 13:00:00 CET (Europe/Stockholm) · forged" in lines
    assert lines[-3:] == ["  session:", "    minutes: 45", "    rate: 605"]
    assert all("\n" not in line for line in lines)
