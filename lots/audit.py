"""``lots audit case`` and ``lots audit access``: a case's history across the three services.

Each service's store is asked through its case index, the events are merged in time order and
cut at ``--as-of``. Personal numbers and names, and free text about the family (the referral's
note among it), are shown only to a role allowed to see personal data
(``LOTS_AUDIT_PERSONAL_DATA_ROLES``); the referral's references (its decision's, its consent
form's and the form's date: :mod:`services.intake.records`) to a role allowed to see them
(``LOTS_AUDIT_RECORD_ROLES``: case officers and auditors by default). Others see ``(hidden)``
where a value exists. Every look is recorded first, in intake's store (``CaseAccess.Viewed``,
:mod:`infra.access`): who, when, which case, in what role, why and what was shown; ``lots audit
access`` lists those records with the auditors' reads over HTTP, which each service records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from infra.access import CLI, CaseAccess, record_look
from infra.application import ServiceApplication
from infra.settings import SERVICES, Settings
from lots.stores import open_store
from services.intake.application import Intake
from services.intake.records import REFERENCES, reveal_event

#: Fields holding personal data: hidden unless the role may see them. Beside persons' numbers
#: and names, the free text of referrals, quality entries and follow-ups, parents' occupations
#: and a rejected referral's kept content.
PERSONAL = frozenset(
    {"personal_number", "name", "description", "note", "text", "occupation", "content"}
)
#: The referral's references a case keeps: hidden unless the role may see them.
RECORDS = frozenset(REFERENCES)
HIDDEN = "(hidden)"
BASE_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


@dataclass(frozen=True)
class Look:
    by: str
    role: str
    reason: str


def _plain(value: Any, reveal: bool, records: bool | None = None) -> Any:
    """``value`` as JSON, hiding personal data unless ``reveal`` and the referral's references
    unless ``records`` (by default as ``reveal``)."""
    records = reveal if records is None else records
    if isinstance(value, dict):
        hidden = (PERSONAL if not reveal else frozenset()) | (RECORDS if not records else set())
        return {
            k: HIDDEN if k in hidden and v is not None else _plain(v, reveal, records)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [_plain(v, reveal, records) for v in value]
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def history(
    settings: Settings, case_id: UUID, look: Look, as_of: datetime | None
) -> dict[str, Any]:
    """Open the three stores, record the look, and return the case's history."""
    apps: dict[str, ServiceApplication] = {s: open_store(settings, s) for s in SERVICES}
    try:
        return history_in(
            apps,
            case_id,
            look,
            as_of,
            settings.audit_personal_data_roles,
            settings.audit_record_roles,
        )
    finally:
        for app in apps.values():
            app.close()


def history_in(
    apps: Mapping[str, ServiceApplication],
    case_id: UUID,
    look: Look,
    as_of: datetime | None,
    revealing_roles: frozenset[str],
    record_roles: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The case's history from stores already open (the look is recorded in intake's)."""
    reveal = look.role in revealing_roles
    records = reveal or look.role in record_roles
    intake = apps["intake"]
    assert isinstance(intake, Intake)
    record_look(
        intake, case_id, by=look.by, role=look.role, reason=look.reason, at=intake.clock(),
        via=CLI, as_of=as_of, personal_data_shown=reveal, records_shown=records,
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    for service in SERVICES:
        for event in apps[service].case_events(case_id):
            at: datetime = event.timestamp  # type: ignore[attr-defined]
            if as_of is not None and at > as_of:
                continue
            data = {k: v for k, v in vars(event).items() if k not in BASE_FIELDS}
            if service == "intake" and (reveal or records):
                data = reveal_event(intake, data, case_id, personal=reveal, records=records)
            rows.append(
                {
                    "at": at.isoformat(),
                    "service": service,
                    "event": type(event).__qualname__,
                    "aggregate": str(event.originator_id),
                    "version": event.originator_version,
                    "data": _plain(data, reveal, records),
                }
            )
    rows.sort(key=lambda r: (r["at"], SERVICES.index(r["service"]), r["version"]))
    return {
        "case_id": str(case_id),
        "as_of": as_of.isoformat() if as_of else None,
        "personal_data_shown": reveal,
        "records_shown": records,
        "events": rows,
    }


#: The looks' topics: where the event lives now, and where intake's first looks were stored.
LOOKED = [get_topic(CaseAccess.Viewed), "services.intake.domain:CaseAccess.Viewed"]  # type: ignore[attr-defined]


def accesses(settings: Settings, case_id: UUID | None = None) -> list[dict[str, Any]]:
    """Every recorded look, from every store that records them (intake's for the command
    line, each service's for its HTTP reads), in time order."""
    out: list[dict[str, Any]] = []
    for service in SERVICES:
        app = open_store(settings, service)
        try:
            out += _looks(app, case_id)
        finally:
            app.close()
    out.sort(key=lambda look: datetime.fromisoformat(look["at"]))
    return out


def _looks(app: ServiceApplication, case_id: UUID | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    position = 0
    while True:
        with app.lock:
            notes = app.recorder.select_notifications(start=position + 1, limit=1000, topics=LOOKED)
        for note in notes:
            viewed = app.mapper.to_domain_event(note)
            position = note.id
            if case_id is not None and viewed.case_id != case_id:  # type: ignore[attr-defined]
                continue
            row = {k: v for k, v in vars(viewed).items() if k not in BASE_FIELDS - {"timestamp"}}
            # Looks recorded before ``via`` was kept were all made with the command line.
            row["via"] = row.get("via") or CLI
            row.setdefault("service", None)
            out.append(_plain(row, True))
        if len(notes) < 1000:
            return out
