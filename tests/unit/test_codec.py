"""The entry codec: every public message round-trips, plain entries are read, bad ones explained."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import MESSAGES, DecodeError, decode, encode
from events.referrals import SubmitReferral
from events.schema import render, schemas
from events.types import Message

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)

SAMPLES: dict[str, dict[str, Any]] = {
    "SubmitReferral": {
        "source": "linkoping.elevhalsa",
        "referral_id": "EH-1",
        "programme": "network",
        "basis": "decision",
        "decision_ref": "B-1",
        "urgency": "acute",
        "submitted_at": NOW,
        "persons": [
            {
                "role": "child",
                "personal_number": "201407142395",
                "name": "A",
                "municipality_code": "0580",
            }
        ],
        "consent": {"given": True, "form_ref": "S-1", "given_at": date(2026, 3, 1)},
        "indicators": ["uncoordinated_actors"],
        "note": "x",
    },
    "ReferralReceived": {
        "case_id": uuid.uuid4(),
        "source": "s",
        "referral_id": "r",
        "programme": "coordinated",
        "basis": "service",
        "urgency": "normal",
        "priority": 3,
        "received_at": NOW,
        "first_contact_due": date(2026, 4, 12),
        "household": [{"person_ref": uuid.uuid4(), "role": "child", "age": 9}],
        "consent": True,
    },
    "ReferralRejected": {
        "source": "s",
        "referral_id": "r",
        "received_at": NOW,
        "reasons": [{"code": "missing_child", "field": "persons", "message": "no child"}],
    },
    "CaseClosed": {"case_id": uuid.uuid4(), "outcome": "goals_met", "closed_at": NOW},
    "CaseAcknowledged": {
        "case_id": uuid.uuid4(),
        "acknowledged_at": NOW,
        "ack_due": NOW,
        "within_deadline": True,
    },
    "AcknowledgementOverdue": {"case_id": uuid.uuid4(), "ack_due": NOW, "detected_at": NOW},
    "MeetingScheduled": {
        "meeting_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "programme": "network",
        "kind": "network_meeting",
        "format": "group",
        "provider": "leanlink",
        "staff": ["s1"],
        "starts_at": NOW,
        "ends_at": NOW,
    },
    "MeetingHeld": {
        "meeting_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "programme": "counselling",
        "kind": "group_session",
        "format": "group",
        "provider": "leanlink",
        "staff": ["s1"],
        "started_at": NOW,
        "ended_at": NOW,
        "participants": 7,
        "client_visits": 7,
    },
    "MeetingCancelled": {
        "meeting_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "cancelled_by": "family",
        "reason": "ill",
        "cancelled_at": NOW,
    },
    "MeetingRescheduled": {
        "meeting_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "programme": "counselling",
        "kind": "counselling",
        "format": "couple",
        "provider": "other_provider",
        "staff": ["s1"],
        "starts_at": NOW,
        "ends_at": NOW,
        "previous_starts_at": NOW,
        "previous_ends_at": NOW,
        "requested_by": "family",
        "reason": "work",
        "rescheduled_at": NOW,
    },
    "MeetingNoShow": {
        "meeting_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "programme": "network",
        "kind": "pre_meeting",
        "format": "couple",
        "provider": "leanlink",
        "staff": ["s1", "s2"],
        "starts_at": NOW,
        "ends_at": NOW,
        "recorded_at": NOW,
    },
    "FirstContactOverdue": {
        "case_id": uuid.uuid4(),
        "programme": "counselling",
        "first_contact_due": date(2026, 4, 1),
        "detected_at": NOW,
    },
    "WaitTimeReportDue": {
        "programme": "counselling",
        "median_wait_days": 17,
        "window_days": 28,
        "detected_at": NOW,
    },
    "SessionLogged": {
        "session_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "meeting_id": None,
        "programme": "counselling",
        "provider": "leanlink",
        "performed_on": date(2022, 5, 3),
        "minutes": 80,
        "billable_quarters": 6,
        "client_hours": Decimal("1.50"),
        "rate": Decimal("605"),
        "amount_ore": 90750,
        "fee_ore": 20000,
        "tariff_version": "counselling-2022",
        "settlement_month": "2022-05",
    },
    "SettlementClosed": {
        "month": "2022-05",
        "total_ore": 680625,
        "fees_ore": 220000,
        "net_ore": 460625,
        "billable_hours": Decimal("11.25"),
        "digest": "a" * 64,
        "closed_at": NOW,
    },
    "AdjustmentRecorded": {
        "adjustment_id": uuid.uuid4(),
        "month": "2022-06",
        "belongs_to_month": "2022-05",
        "programme": "counselling",
        "amount_ore": 30250,
        "reason": "late session",
    },
    "TariffRecorded": {
        "entries": [
            {
                "kind": "indexation",
                "entry_id": "linkoping-uplift-2023",
                "ref": "linkoping-uplift-2023#0a1b2c3d",
                "fields": {"series": "linkoping-uplift", "year": 2023, "percent": "3.1"},
            }
        ],
        "book_version": 2,
        "reason": "linkoping-uplift indexation for 2023",
        "reference": "KF 2023-12",
        "recorded_by": "ekonom",
        "recorded_at": NOW,
    },
    "CallOffRecorded": {
        "reference": "AVROP-2022-1",
        "programme": "counselling",
        "year": 2022,
        "hours": Decimal("100"),
        "effective_from": date(2022, 10, 1),
        "book_version": 3,
        "recorded_by": None,
        "recorded_at": NOW,
    },
    "SessionFlagged": {
        "session_id": uuid.uuid4(),
        "meeting_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "programme": "counselling",
        "performed_on": date(2022, 5, 4),
        "settlement_month": "2022-05",
        "minutes": 90,
        "participants": 4,
        "reason": "4 participants; the group rule needs at least 5",
        "options": ["bill_as_ordinary_time", "not_billable"],
    },
    "SessionRecut": {
        "session_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "meeting_id": uuid.uuid4(),
        "programme": "counselling",
        "provider": "leanlink",
        "performed_on": date(2022, 10, 20),
        "minutes": 120,
        "billable_quarters": 8,
        "client_hours": Decimal("3.00"),
        "rate": Decimal("605.00"),
        "amount_ore": 181_500,
        "fee_ore": 140_000,
        "tariff_version": "counselling-rate-2022#a;counselling-fee-2022#b;counselling-cap-2022#c",
        "settlement_month": "2022-10",
        "given_to": uuid.uuid4(),
        "reason": "gives way to a session performed on 2022-10-10, recorded after it",
    },
    "SessionReportedApart": {
        "session_id": uuid.uuid4(),
        "meeting_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "programme": "counselling",
        "provider": "other_provider",
        "performed_on": date(2022, 5, 4),
        "settlement_month": "2022-05",
        "minutes": 80,
        "billable_quarters": 6,
        "participants": 2,
        "client_visits": 1,
        "reason": "held by other_provider: only Leanlink's own time is Leanlink's to bill",
    },
    "SeparateAmountRecorded": {
        "item_id": uuid.uuid4(),
        "kind": "premises_share",
        "programme": "counselling",
        "amount_ore": 12_000_000,
        "period_from": date(2022, 1, 1),
        "period_to": date(2022, 12, 31),
        "settlement_month": "2023-01",
        "reference": "Leanlink lokalkostnad 2022",
        "note": None,
        "recorded_by": "ekonom",
    },
    "SessionDecided": {
        "session_id": uuid.uuid4(),
        "meeting_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "decision": "bill_as_group",
        "decided_by": "chef",
        "note": None,
        "decided_at": NOW,
    },
    "SessionDismissed": {
        "session_id": uuid.uuid4(),
        "meeting_id": None,
        "case_id": uuid.uuid4(),
        "reason": "held before the contract began",
        "decided_by": "ekonom",
        "decided_at": NOW,
    },
    "YearlyCapWarning": {
        "programme": "counselling",
        "year": 2022,
        "percent": 80,
        "billed_hours": Decimal("2072.00"),
        "limit_hours": Decimal("2590"),
        "session_id": uuid.uuid4(),
        "performed_on": date(2022, 10, 3),
    },
    "PolarEnrolled": {
        "polar_ref": uuid.uuid4(),
        "school_year": "2026/27",
        "enrolled_on": date(2026, 8, 20),
        "years_in_activity": 2,
        "enrolled_in_school_year": 7,
    },
    "PolarLeft": {
        "polar_ref": uuid.uuid4(),
        "school_year": "2026/27",
        "left_on": date(2026, 10, 1),
        "active_in_school_year": 19,
    },
    "PolareWalkAttested": {
        "walk_id": uuid.uuid4(),
        "walked_on": date(2026, 9, 4),
        "attested": [{"polar_ref": uuid.uuid4(), "age": 16, "years_in_activity": 1}],
        "not_attested": [{"polar_ref": uuid.uuid4(), "reason": "not_enrolled"}],
    },
    "NightWalkReported": {
        "walk_id": uuid.uuid4(),
        "meeting_id": None,
        "area": "Berga",
        "walked_on": date(2026, 9, 4),
        "started_at": NOW,
        "ended_at": NOW,
        "staff": ["falt-1"],
        "polare": [uuid.uuid4()],
        "youths_met": 31,
        "youths_talked_with": 6,
        "reported_at": NOW,
    },
    "AreaDeploymentStarted": {
        "deployment_id": uuid.uuid4(),
        "area": "Skäggetorp",
        "reason": "unrest after a shooting",
        "first_day": date(2026, 10, 5),
        "weeks": 4,
        "last_day": date(2026, 11, 1),
        "consultation": {"consulted_with": "omsorgskontoret", "consulted_on": date(2026, 10, 1)},
        "recorded_by": "chef",
        "recorded_at": NOW,
    },
    "AreaDeploymentExtended": {
        "deployment_id": uuid.uuid4(),
        "area": "Skäggetorp",
        "reason": "still unrest",
        "weeks_added": 2,
        "weeks_total": 6,
        "last_day": date(2026, 11, 15),
        "consultation": {
            "consulted_with": "omsorgskontoret",
            "consulted_on": date(2026, 10, 28),
            "reference": "SOF-2026-1",
        },
        "recorded_by": "chef",
        "recorded_at": NOW,
    },
    "PolareRatesRecorded": {
        "table_id": "polare-2026-07-01",
        "effective_from": date(2026, 7, 1),
        "rates": [{"age_from": 13, "age_to": 17, "years_from": 1, "ore_per_walk": 30000}],
        "reference": "beslut",
        "recorded_by": None,
        "recorded_at": NOW,
    },
    "PolareFeesLogged": {
        "walk_id": uuid.uuid4(),
        "walked_on": date(2026, 9, 4),
        "month": "2026-09",
        "fees": [{"polar_ref": uuid.uuid4(), "age": 16, "years_in_activity": 1, "ore": 30000}],
        "total_ore": 30000,
        "table_id": "polare-2026-07-01",
        "not_paid": [],
    },
    "QualityEventRecorded": {
        "record_id": uuid.uuid4(),
        "kind": "complaint",
        "state": "received",
        "category": "view",
        "channel": "administration",
        "concerns_administration": True,
        "programme": "counselling",
        "case_id": uuid.uuid4(),
        "occurred_on": date(2026, 3, 1),
        "recorded_at": NOW,
    },
    "QualityEventHandled": {
        "record_id": uuid.uuid4(),
        "kind": "lex_sarah",
        "step": "report_to_ivo",
        "state": "reported_to_ivo",
        "social_worker_copy": "sent",
        "at": NOW,
    },
    "QualitySummarySubmitted": {"year": 2025, "submitted_at": NOW, "records": 7},
    "FamilyAssessed": {
        "case_id": uuid.uuid4(),
        "stage": "start",
        "assessed_on": date(2026, 3, 2),
        "kasam": 48,
        "sips": 1,
        "parents": 2,
        "parents_with_occupation": 0,
        "economy": "income_support",
    },
    "FamilyGoalSet": {
        "case_id": uuid.uuid4(),
        "goal_id": uuid.uuid4(),
        "area": "school_eligibility",
        "set_on": date(2026, 3, 2),
    },
    "FamilyGoalFollowedUp": {
        "case_id": uuid.uuid4(),
        "goal_id": uuid.uuid4(),
        "status": "achieved",
        "followed_up_on": date(2026, 9, 2),
    },
    "PhaseOutPlanned": {
        "case_id": uuid.uuid4(),
        "planned_end": date(2026, 12, 1),
        "planned_on": date(2026, 9, 1),
    },
    "SteeringMeetingPlanned": {
        "meeting_id": uuid.uuid4(),
        "starts_at": NOW,
        "ends_at": NOW,
        "planned_at": NOW,
    },
    "SteeringMeetingHeld": {
        "meeting_id": uuid.uuid4(),
        "started_at": NOW,
        "ended_at": NOW,
        "organisations": ["provider", "education", "social_services"],
        "recorded_at": NOW,
    },
    "SteeringMeetingCancelled": {"meeting_id": uuid.uuid4(), "starts_at": NOW, "cancelled_at": NOW},
}


def test_every_public_message_has_a_sample() -> None:
    assert set(SAMPLES) == set(MESSAGES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_public_message_round_trips_through_plain_fields(name: str) -> None:
    message = MESSAGES[name].model_validate(SAMPLES[name])
    message_id = uuid.uuid4()
    fields = encode(message, id=message_id, correlation_id="corr", causation_id="cause")
    assert all(isinstance(v, str) for v in fields.values())
    assert fields["type"] == name and fields["version"] == "1"
    assert isinstance(json.loads(fields["data"]), dict)
    as_redis_returns_it = {k.encode(): v.encode() for k, v in fields.items()}
    envelope = decode(as_redis_returns_it)
    assert envelope.message == message
    assert (envelope.id, envelope.correlation_id, envelope.causation_id) == (
        message_id,
        "corr",
        "cause",
    )


def test_decimals_travel_as_strings() -> None:
    fields = encode(MESSAGES["SessionLogged"].model_validate(SAMPLES["SessionLogged"]))
    data = json.loads(fields["data"])
    assert data["client_hours"] == "1.50" and data["rate"] == "605"


def test_a_plain_entry_as_redis_cli_writes_it_is_read() -> None:
    data = (
        '{"source": "linkoping.elevhalsa", "referral_id": "EH-2026-000123", "programme": '
        '"network", "basis": "service", "urgency": "normal", "submitted_at": '
        '"2026-11-02T09:14:00+01:00", "persons": [{"role": "child", "personal_number": '
        '"201407142395", "municipality_code": "0580"}]}'
    )
    entry = {
        b"type": b"SubmitReferral",
        b"version": b"1",
        b"id": b"5b0a3c1e-33a4-4b7e-9d55-1f4c1b2a9e10",
        b"data": data.encode(),
    }
    envelope = decode(entry, expect=SubmitReferral)
    assert envelope.message.referral_id == "EH-2026-000123"
    assert envelope.message.persons[0].municipality_code == "0580"
    assert envelope.correlation_id is None


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ({"version": "1", "id": str(uuid.uuid4()), "data": "{}"}, "missing field 'type'"),
        (
            {"type": "Nope", "version": "1", "id": str(uuid.uuid4()), "data": "{}"},
            "unknown message type 'Nope'",
        ),
        (
            {"type": "CaseClosed", "version": "x", "id": str(uuid.uuid4()), "data": "{}"},
            "field 'version' is not an integer",
        ),
        (
            {"type": "CaseClosed", "version": "2", "id": str(uuid.uuid4()), "data": "{}"},
            "CaseClosed version 2 is not supported",
        ),
        (
            {"type": "CaseClosed", "version": "1", "id": "not-a-uuid", "data": "{}"},
            "field 'id' is not a UUID",
        ),
        (
            {"type": "CaseClosed", "version": "1", "id": str(uuid.uuid4()), "data": "{oops"},
            "field 'data' is not JSON",
        ),
        (
            {"type": "CaseClosed", "version": "1", "id": str(uuid.uuid4()), "data": "[1]"},
            "field 'data' is not a JSON object",
        ),
        (
            {
                "type": "CaseClosed",
                "version": "1",
                "id": str(uuid.uuid4()),
                "data": '{"case_id": "x", "outcome": "won"}',
            },
            "invalid CaseClosed: case_id",
        ),
        (
            {b"type": b"\xff", b"version": b"1", b"id": b"x", b"data": b"{}"},
            "field 'type' is not UTF-8",
        ),
    ],
)
def test_a_bad_entry_is_a_decode_error_that_says_what_is_wrong(
    entry: dict[Any, Any], error: str
) -> None:
    with pytest.raises(DecodeError, match=error.replace("(", r"\(")):
        decode(entry)


def test_validation_errors_do_not_echo_input_values() -> None:
    entry = {
        "type": "ReferralReceived",
        "version": "1",
        "id": str(uuid.uuid4()),
        "data": json.dumps({"case_id": "199001011234"}),
    }
    with pytest.raises(DecodeError) as caught:
        decode(entry)
    assert "199001011234" not in str(caught.value)


@given(st.dictionaries(st.one_of(st.text(), st.binary()), st.one_of(st.text(), st.binary())))
def test_any_entry_either_decodes_or_raises_decode_error(entry: dict[Any, Any]) -> None:
    try:
        envelope = decode(entry)
    except DecodeError:
        return
    assert isinstance(envelope.message, Message)


def test_committed_json_schemas_match_the_code() -> None:
    directory = Path(__file__).resolve().parents[2] / "docs" / "schemas"
    committed = {p.stem: p.read_text(encoding="utf-8") for p in directory.glob("*.json")}
    generated = {key: render(schema) for key, schema in schemas().items()}
    assert committed == generated, "run `lots contracts schema` and commit docs/schemas"


def test_committed_asyncapi_document_of_intake_matches_the_code() -> None:
    from services.intake.asyncapi import specification

    committed = Path(__file__).resolve().parents[2] / "docs" / "asyncapi" / "intake.json"
    generated = specification()
    assert json.loads(generated)["asyncapi"] == "3.0.0"
    assert committed.read_text(encoding="utf-8") == generated, (
        "run `lots contracts asyncapi` and commit docs/asyncapi/intake.json"
    )


def test_oversized_entries_are_refused_with_the_limit_named() -> None:
    from events.codec import MAX_DATA_BYTES, MAX_FIELDS

    base = {"type": "CaseClosed", "version": "1", "id": str(uuid.uuid4())}
    with pytest.raises(DecodeError, match=f"at most {MAX_DATA_BYTES} are read"):
        decode({**base, "data": "x" * (MAX_DATA_BYTES + 1)})
    with pytest.raises(DecodeError, match="field 'type' is 2000 bytes"):
        decode({**base, "type": "T" * 2000, "data": "{}"})
    with pytest.raises(DecodeError, match=f"at most {MAX_FIELDS} are read"):
        decode({**base, "data": "{}", **{f"f{i}": "x" for i in range(MAX_FIELDS)}})
