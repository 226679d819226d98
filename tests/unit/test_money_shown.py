"""Money shown to people outside the statement (``lots audit verify``) is infra.money.kronor."""

from __future__ import annotations

from lots.verify import render


def test_an_unmatched_sessions_amount_is_shown_in_kronor() -> None:
    unmatched = {
        "store": "billing", "position": 7, "event": "Session.Logged", "aggregate": "s",
        "meeting_id": "m", "case_id": "c", "billed": True, "problem": "no such meeting",
    }  # fmt: skip
    report = {
        "stores": {},
        "reconciled": False,
        "reconciliation": {
            "sessions_checked": 2, "cases_checked": 1,
            "unmatched": [{**unmatched, "amount_ore": -1_234_567},
                          {**unmatched, "amount_ore": 45_375}],
        },
    }  # fmt: skip
    shown = "\n".join(render(report))
    assert "billed -12\u00a0345,67\u00a0kr" in shown and "billed 453,75\u00a0kr" in shown
