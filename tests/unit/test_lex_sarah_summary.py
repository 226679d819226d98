"""The yearly lex Sarah summary (seed 003 §4.2): it counts lex Sarah reports and reports to IVO,
accounts for each report's handling on 31 December, and gives complaints and views, incidents
and IVO supervision beside it, labelled, never counted into it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.quality import INITIAL, REGISTERS, TRANSITIONS
from services.intake.quality_summary import HANDLING, Entry, Step, describe, year_summary


def lex(record_id: str, received: date, *steps: tuple[str, date], copy: str = "sent") -> Entry:
    return _entry("lex_sarah", record_id, received, steps, copy)


def _entry(
    register: str,
    record_id: str,
    received: date,
    steps: tuple[tuple[str, date], ...],
    copy: str = "sent",
    **extra: Any,
) -> Entry:
    state = INITIAL[register]
    taken = []
    for name, on in steps:
        state = TRANSITIONS[register][state][name]
        taken.append(Step(name, state, on, copy if name == "report_to_ivo" else None))
    return Entry(record_id, register, received, received, None, steps=tuple(taken), **extra)


D = date


def a_year_of_every_register() -> list[Entry]:
    return [
        # Reported to IVO in the year and closed after IVO decided.
        lex(
            "lex-a",
            D(2026, 3, 2),
            ("investigate", D(2026, 3, 9)),
            ("report_to_ivo", D(2026, 3, 9)),
            ("close", D(2026, 4, 20)),
        ),
        # Investigated and closed without a report to IVO.
        lex("lex-b", D(2026, 3, 1), ("investigate", D(2026, 3, 9)), ("close", D(2026, 3, 9))),
        # Received, nothing done yet.
        lex("lex-c", D(2026, 3, 2)),
        # Received in 2025, reported to IVO in January 2026: a report to IVO of 2026.
        lex(
            "lex-d",
            D(2025, 12, 20),
            ("investigate", D(2025, 12, 22)),
            ("report_to_ivo", D(2026, 1, 10)),
            copy="no_responsible_social_worker",
        ),
        # Received in December 2026, reported to IVO in 2027: a report of 2026, IVO of 2027.
        lex(
            "lex-e",
            D(2026, 12, 28),
            ("investigate", D(2026, 12, 30)),
            ("report_to_ivo", D(2027, 1, 5)),
        ),
        # Reported to IVO in the year, IVO's decision still awaited on 31 December.
        lex(
            "lex-f", D(2026, 6, 1), ("investigate", D(2026, 6, 2)), ("report_to_ivo", D(2026, 6, 3))
        ),
        _entry(
            "complaint",
            "c-1",
            D(2026, 3, 1),
            (
                ("investigate", D(2026, 3, 9)),
                ("answer", D(2026, 3, 9)),
                ("inform_administration", D(2026, 3, 9)),
                ("close", D(2026, 3, 10)),
            ),
            category="complaint",
            channel="administration",
            concerns_administration=True,
        ),
        _entry(
            "complaint",
            "c-2",
            D(2026, 3, 1),
            (("investigate", D(2026, 3, 9)),),
            category="view",
            channel="provider",
        ),
        _entry(
            "incident",
            "i-1",
            D(2026, 3, 2),
            (("investigate", D(2026, 3, 9)), ("close", D(2026, 3, 9))),
        ),
        _entry("incident", "i-2", D(2026, 3, 2), ()),
        _entry("incident", "i-3", D(2025, 5, 2), ()),
        _entry(
            "supervision",
            "s-1",
            D(2026, 3, 2),
            (("inform_administration", D(2026, 3, 9)), ("conclude", D(2026, 3, 9))),
        ),
    ]


def test_a_year_with_every_register_counts_lex_sarah_reports_and_reports_to_ivo_exactly() -> None:
    summary = year_summary(a_year_of_every_register(), 2026)
    lex_sarah = summary["lex_sarah"]
    assert lex_sarah["reports"] == 5  # a, b, c, e, f: received in 2026; d was received in 2025
    assert lex_sarah["reports_to_ivo"] == 3  # a, d, f: made in 2026; e's was made in 2027
    assert lex_sarah["reports_to_ivo_of_earlier_years"] == 1  # d
    assert lex_sarah["copies_to_social_worker"] == 2
    assert lex_sarah["no_responsible_social_worker"] == 1
    assert lex_sarah["handling"] == {
        "received": 1,
        "investigating": 1,
        "reported_to_ivo": 1,
        "closed_after_report_to_ivo": 1,
        "closed_without_report_to_ivo": 1,
    }
    assert [r["record_id"] for r in lex_sarah["reports_listed"]] == [
        "lex-b",
        "lex-a",
        "lex-c",
        "lex-f",
        "lex-e",
    ]
    assert [m["record_id"] for m in lex_sarah["reports_to_ivo_listed"]] == [
        "lex-d",
        "lex-a",
        "lex-f",
    ]
    # e's report to IVO in 2027 is not part of its 2026 account.
    e = lex_sarah["reports_listed"][-1]
    assert [s["step"] for s in e["steps"]] == ["investigate"] and e["handling"] == "investigating"
    assert "not lex Sarah" not in lex_sarah["label"] and "003 §4.2" in lex_sarah["label"]


def test_complaints_incidents_and_supervision_are_beside_the_summary_labelled() -> None:
    summary = year_summary(a_year_of_every_register(), 2026)
    assert summary["complaints_and_views"] == {
        "label": "complaints and views (003 §4.3): not lex Sarah",
        "received": 2,
        "states": {"closed": 1, "investigating": 1},
        "complaints": 1,
        "views": 1,
        "through_provider": 1,
        "through_administration": 1,
        "concerning_administration": 1,
        "administration_informed": 1,
    }
    assert summary["incidents"] == {
        "label": "incidents, tillbud (003 §4.3): not lex Sarah",
        "received": 2,
        "states": {"closed": 1, "received": 1},
    }
    assert summary["ivo_supervision"] == {
        "label": "IVO supervision (003 §4.4): not lex Sarah",
        "received": 1,
        "states": {"concluded": 1},
        "administration_informed": 1,
    }


def test_the_next_year_counts_the_report_to_ivo_made_in_it() -> None:
    lex_sarah = year_summary(a_year_of_every_register(), 2027)["lex_sarah"]
    assert (lex_sarah["reports"], lex_sarah["reports_to_ivo"]) == (0, 1)
    assert lex_sarah["reports_to_ivo_of_earlier_years"] == 1
    assert lex_sarah["handling"] == dict.fromkeys(HANDLING, 0)


def test_each_report_is_accounted_for_in_words() -> None:
    listed = year_summary(a_year_of_every_register(), 2026)["lex_sarah"]["reports_listed"]
    assert describe(listed[1]) == (
        "report lex-a received 2026-03-02, occurred 2026-03-02: investigated 2026-03-09, "
        "reported to IVO 2026-03-09 (copy to the social worker: sent), closed 2026-04-20; on 31 "
        "December closed after a report to IVO"
    )
    assert describe(listed[2]).endswith("no step taken; on 31 December received")


@st.composite
def entries(draw: st.DrawFn) -> list[Entry]:
    """Entries of every register over 2024-2027, each handled along a path its table allows."""
    out = []
    for n in range(draw(st.integers(0, 25))):
        register = draw(st.sampled_from(REGISTERS))
        received = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 4 * 365)))
        state, on = INITIAL[register], received
        steps: list[tuple[str, date]] = []
        for _ in range(draw(st.integers(0, 4))):
            options = TRANSITIONS[register].get(state, {})
            if not options:
                break
            name = draw(st.sampled_from(sorted(options)))
            if name == "inform_administration" and any(s[0] == name for s in steps):
                break
            on += timedelta(days=draw(st.integers(0, 90)))
            steps.append((name, on))
            state = options[name]
        copy = draw(st.sampled_from(["sent", "no_responsible_social_worker"]))
        extra = (
            {
                "category": draw(st.sampled_from(["complaint", "view"])),
                "channel": draw(st.sampled_from(["provider", "administration"])),
            }
            if register == "complaint"
            else {}
        )
        out.append(_entry(register, f"r{n}", received, tuple(steps), copy, **extra))
    return out


@settings(max_examples=200, deadline=None)
@given(entries())
def test_every_report_and_every_report_to_ivo_is_counted_once_over_the_years(
    every: list[Entry],
) -> None:
    years = range(2024, 2029)
    summaries = [year_summary(every, y)["lex_sarah"] for y in years]
    lex_sarah = [e for e in every if e.register == "lex_sarah"]
    made = [s for e in lex_sarah for s in e.steps if s.step == "report_to_ivo"]
    assert sum(s["reports"] for s in summaries) == len(lex_sarah)
    assert sum(s["reports_to_ivo"] for s in summaries) == len(made)
    for s in summaries:
        assert sum(s["handling"].values()) == s["reports"] == len(s["reports_listed"])
        assert (
            s["copies_to_social_worker"] + s["no_responsible_social_worker"] == s["reports_to_ivo"]
        )


@settings(max_examples=200, deadline=None)
@given(entries(), entries())
def test_other_registers_never_change_the_lex_sarah_counts(
    every: list[Entry], more: list[Entry]
) -> None:
    others = [e for e in more if e.register != "lex_sarah"]
    for year in (2025, 2026):
        alone = year_summary(every, year)
        mixed = year_summary(every + others, year)
        assert mixed["lex_sarah"] == alone["lex_sarah"]
        added = sum(e.received_on.year == year for e in others)
        beside = ("complaints_and_views", "incidents", "ivo_supervision")
        assert sum(mixed[k]["received"] - alone[k]["received"] for k in beside) == added
