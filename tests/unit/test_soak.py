"""The soak's verdict (bench/soak.py), on made-up figures: what passes and what fails."""

from __future__ import annotations

from typing import Any

from bench.soak import Rss, flatness, longest_lived, parse, table, verdict

SENT = [("a", "1"), ("a", "2"), ("b", "1")]


def received(source: str, referral_id: str) -> dict[str, Any]:
    return {"type": "ReferralReceived", "data": {"source": source, "referral_id": referral_id}}


def rejected(source: str, referral_id: str, *codes: str) -> dict[str, Any]:
    reasons = [{"code": c, "field": "", "message": ""} for c in codes]
    return {
        "type": "ReferralRejected",
        "data": {"source": source, "referral_id": referral_id, "reasons": reasons},
    }


def held(meeting: str) -> dict[str, Any]:
    return {"type": "MeetingHeld", "data": {"meeting_id": meeting}}


def logged(meeting: str | None) -> dict[str, Any]:
    return {"type": "SessionLogged", "data": {"meeting_id": meeting}}


GOOD = [
    received("a", "1"),
    rejected("a", "2", "rate_limited"),  # transient: not the answer
    received("a", "2"),
    rejected("b", "1", "not_resident"),
    held("m1"),
    held("m2"),
    logged("m1"),
    logged("m2"),
    logged(None),  # logged preparation time: no meeting
]
SAME = {"billing": "d1", "fault-free": "d1"}


def test_a_clean_run_passes_and_counts_refusals_apart() -> None:
    rows = verdict(SENT, GOOD, SAME, [])
    assert [r.ok for r in rows] == [True, True, True]
    assert "3/3 once" in rows[0].figure and "1 rate_limited" in rows[0].figure
    assert "2/2 once" in rows[1].figure


def test_an_unanswered_a_twice_answered_or_an_unknown_referral_fails() -> None:
    assert not verdict(SENT, GOOD[1:], SAME, [])[0].ok  # ("a", "1") unanswered
    assert not verdict(SENT, [*GOOD, received("a", "1")], SAME, [])[0].ok
    assert not verdict(SENT, [*GOOD, received("c", "9")], SAME, [])[0].ok
    assert not verdict([], [], SAME, [])[0].ok  # nothing sent proves nothing


def test_an_answer_given_again_to_a_referral_sent_again_is_not_a_second_answer() -> None:
    again = received("a", "1")
    again["data"]["repeat_of"] = "the first answer's id"
    rows = verdict(SENT, [*GOOD, again], SAME, [])
    assert rows[0].ok and "3/3 once" in rows[0].figure


def test_a_meeting_billed_twice_or_not_at_all_fails() -> None:
    assert not verdict(SENT, [*GOOD, logged("m2")], SAME, [])[1].ok
    assert not verdict(SENT, [*GOOD, held("m3")], SAME, [])[1].ok
    assert not verdict(SENT, [*GOOD, logged("m9")], SAME, [])[1].ok


def test_a_meeting_of_the_other_provider_counts_once_reported_apart() -> None:
    apart = {"type": "SessionReportedApart", "data": {"meeting_id": "m3"}}
    rows = verdict(SENT, [*GOOD, held("m3"), apart], SAME, [])
    assert rows[1].ok and "3/3 once" in rows[1].figure
    assert not verdict(SENT, [*GOOD, held("m3"), apart, logged("m3")], SAME, [])[1].ok


def test_settlements_must_all_agree() -> None:
    assert not verdict(SENT, GOOD, {"billing": "d1", "fault-free": "d2"}, [])[2].ok
    assert not verdict(SENT, GOOD, {"billing": "d1"}, [])[2].ok  # nothing to compare with


def test_memory_is_flat_within_growth_and_slack_after_warm_up() -> None:
    steady = Rss(
        "intake",
        1,
        tuple((float(t), 100_000 + (50_000 if t < 30 else 0)) for t in range(0, 100, 5)),
    )
    growing = Rss("billing", 2, tuple((float(t), 100_000 + 1_000 * t) for t in range(0, 100, 5)))
    flat = flatness(steady, warmup=0.3, growth=0.2, slack_kib=0)
    grew = flatness(growing, warmup=0.3, growth=0.2, slack_kib=0)
    assert flat is not None and flat.flat and flat.warm_kib == 100_000  # warm-up not judged
    assert grew is not None and not grew.flat and grew.slope_kib_per_min == 60_000.0
    lenient = flatness(growing, warmup=0.3, growth=0.2, slack_kib=100_000)
    assert lenient is not None and lenient.flat  # the slack absorbs the growth
    assert flatness(Rss("x", 3, ((0.0, 1), (1.0, 2))), 0.3, 0.2, 0) is None  # too few samples
    rows = verdict(SENT, GOOD, SAME, [flat, grew])
    assert [r.ok for r in rows[3:]] == [True, False]
    assert "FAIL  billing memory flat after warm-up" in table(rows, [("minutes", "1")])


def test_the_longest_lived_process_of_each_service_is_judged() -> None:
    short = Rss("intake", 1, ((0.0, 1), (10.0, 1)))
    long = Rss("intake", 2, ((10.0, 1), (90.0, 1)))
    assert longest_lived([short, long])["intake"].pid == 2


def test_defaults_run_half_an_hour_with_a_kill_every_three_minutes() -> None:
    assert parse([]).seconds == 1800 and parse([]).kill_interval == 180
    assert parse(["--minutes", "3"]).kill_interval == 45
    assert parse(["--minutes", "3", "--kill-every", "20"]).kill_interval == 20
