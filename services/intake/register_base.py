"""What intake's register and follow-up commands share: finding an aggregate or answering 404,
changing one in a transaction, and sealing free text about people.

Free text about people (narratives, notes, goals) is sealed with the key of the person the case
is about (:func:`subject_of`: its child, else its first member), so erasing that person erases
it; a parent's occupation is sealed with that parent's own key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from infra.application import ServiceApplication
from infra.commands import Busy
from infra.pii import StagedKeys, seal, unseal
from infra.refusals import Refused
from infra.unit_of_work import UnitOfWork
from services.intake.case_refusals import CaseError
from services.intake.domain_case import Case
from services.intake.quality import QualityError

A = TypeVar("A", bound=Aggregate)


class NotFound(Refused, LookupError):
    """No such register entry, case or follow-up (answered 404)."""

    status = 404


class RegisterBase(ServiceApplication):
    """The part of Intake the register and follow-up commands stand on."""

    clock: Callable[[], datetime]
    staged_keys: StagedKeys
    case: Callable[[UUID], Case]

    def reveal_texts(self, data: dict[str, Any], case_id: UUID) -> dict[str, Any]:
        """An event's sealed free text and occupations readable (or erased), for the roles
        that may see personal data in a case's history."""
        out = dict(data)
        texts = [k for k in ("description", "note", "text") if isinstance(out.get(k), str)]
        if texts:
            subject = subject_of(self._case_or_404(case_id))
            for key in texts:
                out[key] = unseal(self.store, subject, out[key])
        if isinstance(out.get("parents"), list):
            out["parents"] = [
                {**p, "occupation": unseal(self.store, p["person_ref"], p["occupation"])}
                for p in out["parents"]
            ]
        return out

    def _changed(self, aggregate_id: UUID, kind: type[A], change: Callable[[A], None]) -> A:
        def on_aggregate(uow: UnitOfWork) -> A:
            self.staged_keys.clear()
            found = self._get(aggregate_id, kind)
            uow.add(found)
            change(found)
            return found

        return self.transact(
            on_aggregate,
            busy=lambda: Busy(f"{aggregate_id} kept changing under this command; try again"),
        )

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A:
        try:
            found: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError as exc:
            raise NotFound(f"no {kind.__name__} {aggregate_id}") from exc
        if not isinstance(found, kind):
            raise NotFound(f"{aggregate_id} is not a {kind.__name__}")
        return found

    def _case_or_404(self, case_id: UUID) -> Case:
        try:
            return self.case(case_id)
        except (AggregateNotFoundError, CaseError) as exc:
            raise NotFound(f"no case {case_id}") from exc

    def _sealed(self, subject: str | None, text: str | None) -> str | None:
        if subject is None or text is None:
            return text
        try:
            return seal(self.staged_keys, subject, text)
        except ValueError as exc:  # the person was erased: nothing new is kept about them
            raise QualityError(str(exc)) from exc


def subject_of(case: Case) -> str:
    """The person a case is about: its child, else its first member."""
    members = case.household
    child = next((m for m in members if m["role"] == "child"), members[0])
    return str(child["person_ref"])
