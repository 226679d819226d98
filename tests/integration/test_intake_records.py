"""What a referral says beside its persons is kept with its case (issue 14, item 10): sealed in
intake's store, shown in ``lots audit case`` by role, erased with the person, and only its
existence in the export."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from infra.pii import ERASED
from infra.settings import Settings
from lots.export import export_lines
from tests.support.cli import lots
from tests.support.intake import Clock, make_intake, referral

DECISION, FORM, NOTE = "BESLUT-2026-0077", "SAMTYCKE-88", "Familjen önskar kvällstider."


def decided(**fields: Any) -> dict[str, Any]:
    return referral(
        basis="decision",
        decision_ref=DECISION,
        consent={"given": True, "form_ref": FORM, "given_at": "2026-11-01"},
        note=NOTE,
        **fields,
    )


def _opened(settings: Settings, case_id: UUID, role: str) -> dict[str, Any]:
    code, out = lots(settings, "audit", "case", str(case_id), "--reason", "r", "--role", role,
                     "--json")  # fmt: skip
    assert code == 0, out
    report = json.loads(out)
    [opened] = [e for e in report["events"] if e["event"] == "Case.Opened"]
    return {**opened["data"], "_records_shown": report["records_shown"]}


def test_a_case_keeps_its_referrals_references_and_note_sealed(store_settings: Settings) -> None:
    intake = make_intake(store_settings, Clock())
    try:
        case_id = intake.submit(json.dumps(decided()).encode()).case_id
        plain = intake.submit(json.dumps(referral()).encode()).case_id
        assert case_id is not None and plain is not None
        [opened] = [e for e in intake.case_events(case_id) if type(e).__name__ == "Opened"]
        [bare] = [e for e in intake.case_events(plain) if type(e).__name__ == "Opened"]
        export = list(export_lines(intake))
    finally:
        intake.close()
    for name in ("decision_ref", "consent_form_ref", "consent_given_at", "note"):
        assert getattr(opened, name).startswith("pii:v1:"), name
        assert getattr(bare, name) is None
    # The export (and intake.events) says only whether each exists, never its text.
    received = [json.loads(line)["data"] for line in export]
    assert [
        (r["has_decision_ref"], r["has_consent_form_ref"], r["has_consent_given_at"], r["has_note"])
        for r in received
    ] == [(True, True, True, True), (False, False, False, False)]
    text = "\n".join(export)
    assert not any(value in text for value in (DECISION, FORM, "2026-11-01", "kvällstider"))


def test_audit_shows_the_references_to_auditors_and_the_note_to_case_officers_only(
    store_settings: Settings,
) -> None:
    intake = make_intake(store_settings, Clock())
    case_id = intake.submit(json.dumps(decided()).encode()).case_id
    intake.close()
    assert case_id is not None
    officer = _opened(store_settings, case_id, "case_officer")
    auditor = _opened(store_settings, case_id, "auditor")
    other = _opened(store_settings, case_id, "operator")
    assert (officer["decision_ref"], officer["consent_form_ref"]) == (DECISION, FORM)
    assert (officer["consent_given_at"], officer["note"]) == ("2026-11-01", NOTE)
    assert officer["household"][0]["name"] == "Alva Exempel"
    assert (auditor["decision_ref"], auditor["consent_form_ref"]) == (DECISION, FORM)
    assert auditor["consent_given_at"] == "2026-11-01"
    assert auditor["note"] == "(hidden)" and auditor["household"][0]["name"] == "(hidden)"
    hidden = ("decision_ref", "consent_form_ref", "consent_given_at", "note")
    assert {other[name] for name in hidden} == {"(hidden)"}
    assert (officer["_records_shown"], auditor["_records_shown"], other["_records_shown"]) == (
        True,
        True,
        False,
    )
    _, out = lots(store_settings, "audit", "access", "--case", str(case_id), "--json")
    assert [(look["role"], look["records_shown"]) for look in json.loads(out)] == [
        ("case_officer", True),
        ("auditor", True),
        ("operator", False),
    ]


def test_the_records_are_erased_with_the_person_the_case_is_about(
    store_settings: Settings,
) -> None:
    clock = Clock()
    intake = make_intake(store_settings, clock)
    case_id = intake.submit(json.dumps(decided()).encode()).case_id
    clock.advance(days=5 * 366)
    assert len(intake.erase_expired(5)) == 2
    intake.close()
    assert case_id is not None
    officer = _opened(store_settings, case_id, "case_officer")
    assert {officer[n] for n in ("decision_ref", "consent_form_ref", "consent_given_at")} == {
        ERASED
    }
    assert officer["note"] == ERASED


def test_a_closure_note_is_sealed_and_erased_like_the_referrals(store_settings: Settings) -> None:
    clock = Clock()
    intake = make_intake(store_settings, clock)
    case_id = intake.submit(json.dumps(referral()).encode()).case_id
    assert case_id is not None
    intake.close_case(case_id, "goals_met", "anna", note="Familjen flyttar till Malmö.")
    [closed] = [e for e in intake.case_events(case_id) if type(e).__name__ == "Closed"]
    intake.close()
    assert closed.note.startswith("pii:v1:")  # type: ignore[attr-defined]

    def note(role: str) -> str:
        _, out = lots(store_settings, "audit", "case", str(case_id), "--reason", "r", "--role",
                      role, "--json")  # fmt: skip
        [event] = [e for e in json.loads(out)["events"] if e["event"] == "Case.Closed"]
        return str(event["data"]["note"])

    assert note("case_officer") == "Familjen flyttar till Malmö."
    assert note("auditor") == "(hidden)"
    intake = make_intake(store_settings, clock)
    clock.advance(days=5 * 366)
    assert len(intake.erase_expired(5)) == 2
    intake.close()
    assert note("case_officer") == ERASED
