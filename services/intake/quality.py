"""The quality registers of seed 003 §4.2-4.4, each entry a small state machine of its handling.

* **Lex Sarah** (SOSFS 2011:5): a staff report is *received*, *investigated*, then either
  *closed* or *reported to IVO* (an anmälan, with a copy at once to the responsible social
  worker, §4.2) and closed once IVO has decided.
* **Complaints and views** (§4.3), received through the provider or the administration:
  *received*, *investigated*, *answered*, *closed* (a view may close without an answer). One
  that also concerns the administration cannot close before the administration was informed.
* **Incidents** (tillbud, §4.3): *received*, *investigated*, *closed*.
* **Supervision by IVO** (§4.4): *opened*; the provider *informs the administration* on its own
  initiative; *concluded* only after that.

Narratives and notes are personal (they are about families and staff): they are stored sealed
(see :mod:`infra.pii`) and never leave intake; the public events carry codes, dates and ids.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.refusals import Refused

QUALITY_NAMESPACE = uuid5(NAMESPACE_URL, "https://lots.linkoping.se/quality")
REGISTERS = ("lex_sarah", "complaint", "incident", "supervision")
INITIAL = {
    "lex_sarah": "received",
    "complaint": "received",
    "incident": "received",
    "supervision": "opened",
}
#: register -> state -> step -> the state it leads to. A step that keeps the state is a fact
#: recorded once (the administration informed of a complaint that concerns it).
TRANSITIONS: dict[str, dict[str, dict[str, str]]] = {
    "lex_sarah": {
        "received": {"investigate": "investigating"},
        "investigating": {"report_to_ivo": "reported_to_ivo", "close": "closed"},
        "reported_to_ivo": {"close": "closed"},
    },
    "complaint": {
        "received": {"investigate": "investigating", "inform_administration": "received"},
        "investigating": {
            "answer": "answered",
            "close": "closed",
            "inform_administration": "investigating",
        },
        "answered": {"close": "closed", "inform_administration": "answered"},
    },
    "incident": {
        "received": {"investigate": "investigating"},
        "investigating": {"close": "closed"},
    },
    "supervision": {
        "opened": {"inform_administration": "administration_informed"},
        "administration_informed": {"conclude": "concluded"},
    },
}
STEPS = ("investigate", "report_to_ivo", "answer", "inform_administration", "close", "conclude")
SOCIAL_WORKER_COPY = ("sent", "no_responsible_social_worker")
#: The yearly summary of the previous calendar year is due on this day (003 §4.2, §4.1).
SUMMARY_DUE = (3, 31)


class QualityError(Refused):
    """A register entry or a command on it that the rules refuse; the text says why."""

    status = 422


class StepRefused(QualityError):
    """The entry's state does not allow the step (answered 409)."""

    status = 409


def summary_due(year: int) -> date:
    """When the summary of ``year`` is due: 31 March of the next year."""
    return date(year + 1, *SUMMARY_DUE)


class QualityRecord(Aggregate):
    """One entry of a quality register, followed through its handling."""

    @event("Recorded")
    def __init__(
        self,
        register: str,
        category: str | None,
        channel: str | None,
        concerns_administration: bool,
        programme: str | None,
        case_id: UUID | None,
        occurred_on: date,
        recorded_at: datetime,
        by: str,
        subject: str | None,
        description: str | None,
    ) -> None:
        self.register = register
        self.category = category
        self.channel = channel
        self.programme = programme
        self.occurred_on = occurred_on
        self.concerns_administration = concerns_administration
        self.case_id = case_id
        self.state = INITIAL[register]
        self.administration_informed = False
        self.recorded_at = recorded_at
        self.subject = subject
        self.steps: list[dict[str, Any]] = []

    def allowed(self) -> list[str]:
        """The steps the entry's state allows, in the order of :data:`STEPS`."""
        options = TRANSITIONS[self.register].get(self.state, {})
        if self.administration_informed:
            options = {s: t for s, t in options.items() if s != "inform_administration"}
        return [s for s in STEPS if s in options]

    def handle(
        self,
        step: str,
        at: datetime,
        by: str,
        note: str | None,
        social_worker_copy: str | None = None,
        has_social_worker: bool = False,
    ) -> None:
        if step not in STEPS:
            raise QualityError(f"unknown step {step!r}; known: {', '.join(STEPS)}")
        allowed = self.allowed()
        if step not in allowed:
            raise StepRefused(
                f"this {self.register.replace('_', ' ')} entry is {self.state.replace('_', ' ')}:"
                f" it cannot {step.replace('_', ' ')}; it can: {', '.join(allowed) or 'nothing'}"
            )
        if at < self.recorded_at:
            raise QualityError("a step cannot come before the entry was recorded")
        if step == "report_to_ivo":
            if social_worker_copy not in SOCIAL_WORKER_COPY:
                raise QualityError(
                    "reporting to IVO needs social_worker_copy: 'sent' (a copy goes at once to "
                    "the responsible social worker, 003 §4.2) or 'no_responsible_social_worker'"
                )
            if has_social_worker and social_worker_copy != "sent":
                raise QualityError(
                    "the case was decided by social services, so it has a responsible social "
                    "worker: the copy of the report to IVO must be sent (003 §4.2)"
                )
        elif social_worker_copy is not None:
            raise QualityError("social_worker_copy belongs to the step report_to_ivo only")
        if step == "close" and self.concerns_administration and not self.administration_informed:
            raise StepRefused(
                "this complaint also concerns the administration: inform it before closing "
                "(003 §4.3)"
            )
        self._handled(
            register=self.register,
            step=step,
            state=TRANSITIONS[self.register][self.state][step],
            at=at,
            by=by,
            note=note,
            social_worker_copy=social_worker_copy,
        )

    @event("Handled")
    def _handled(
        self,
        register: str,
        step: str,
        state: str,
        at: datetime,
        by: str,
        note: str | None,
        social_worker_copy: str | None,
    ) -> None:
        self.state = state
        if step == "inform_administration":
            self.administration_informed = True
        self.steps.append(
            {
                "step": step,
                "state": state,
                "at": at.isoformat(),
                "by": by,
                "social_worker_copy": social_worker_copy,
            }
        )


class QualitySummary(Aggregate):
    """The year's Lex Sarah summary handed to the administration (once per year), with what
    it said: the Lex Sarah reports and reports to IVO (003 §4.2) and, beside them, the
    complaints and views, incidents and IVO supervisions (003 §4.3-4.4), never added in.

    ``records`` is every register's entries received in the year (the first version's only
    figure, kept for its readers). Summaries submitted before the Lex Sarah figures were
    recorded read ``None`` for them (:mod:`services.intake.quality_summary` recomputes them).
    """

    @staticmethod
    def create_id(year: int, **_: object) -> UUID:
        return uuid5(QUALITY_NAMESPACE, f"summary/{year}")

    @event("Submitted")
    def __init__(
        self,
        year: int,
        submitted_at: datetime,
        by: str,
        records: int,
        lex_sarah_reports: int | None = None,
        reports_to_ivo: int | None = None,
        complaints_and_views: int | None = None,
        incidents: int | None = None,
        supervisions: int | None = None,
    ) -> None:
        self.year = year
        self.submitted_at = submitted_at
        self.records = records
        self.lex_sarah_reports = lex_sarah_reports
        self.reports_to_ivo = reports_to_ivo
