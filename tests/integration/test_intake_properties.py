"""For any referral, well-formed or not, intake answers: a case, or a rejection with reasons."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.codec import DecodeError
from infra.application import Incoming
from infra.settings import Settings
from infra.store import cipher_key
from infra.topology import REFERRALS
from services.intake.application import Intake
from services.intake.domain import Case, RejectedReferral, referral_key
from tests.support.intake import Clock, make_intake, personal_number

valid_numbers = st.builds(
    personal_number,
    st.dates(min_value=date(1920, 1, 1), max_value=date(2026, 10, 1)),
    st.from_regex(r"[0-9]{2}[1-9]", fullmatch=True),
)
person = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["child", "guardian", "partner", "sibling", "other", "cat"]),
        "personal_number": st.one_of(valid_numbers, st.text(max_size=14)),
    },
    optional={
        "name": st.text(max_size=20),
        "municipality_code": st.sampled_from(["0580", "0581", ""]),
    },
)
referral = st.fixed_dictionaries(
    {
        "source": st.text(min_size=1, max_size=30),
        "referral_id": st.text(min_size=1, max_size=30),
    },
    optional={
        "programme": st.sampled_from(["network", "coordinated", "counselling", "field", "x"]),
        "basis": st.sampled_from(["service", "decision", "?"]),
        "decision_ref": st.one_of(st.none(), st.text(max_size=10)),
        "urgency": st.sampled_from(["normal", "acute", "soon"]),
        "persons": st.lists(person, max_size=4),
        "consent": st.one_of(st.none(), st.fixed_dictionaries({"given": st.booleans()})),
        "indicators": st.lists(
            st.sampled_from(["uncoordinated_actors", "economic_vulnerability", "other"]),
            max_size=3,
        ),
        "note": st.one_of(st.none(), st.text(max_size=30), st.just("x" * 2001)),
        "submitted_at": st.sampled_from(["2026-11-02T09:14:00+01:00", "yesterday", 3]),
    },
)
garbage = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Any:
    var = tmp_path_factory.mktemp("var")
    app = make_intake(Settings(var_dir=Path(var)), Clock())
    yield app
    app.close()


@settings(
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.one_of(referral, referral.map(lambda r: {**r, "persons": "many"}), garbage))
def test_every_referral_is_accepted_with_a_case_or_rejected_with_a_reason(
    intake: Intake, body: Any
) -> None:
    fields = {
        "type": "SubmitReferral",
        "version": "1",
        "id": str(uuid.uuid4()),
        "data": json.dumps(body),
    }
    try:
        envelope = intake.decode(REFERRALS, fields)
    except DecodeError:
        # Nothing says who sent it, so nobody can be answered: a dead letter, by design.
        assert not (
            isinstance(body, dict)
            and isinstance(body.get("source"), str)
            and body["source"]
            and isinstance(body.get("referral_id"), str)
            and body["referral_id"]
        )
        return
    result = intake.process("intake", [Incoming("1-1", REFERRALS, envelope)])
    assert result == {"1-1": None}
    answer: Aggregate = intake.repository.get(
        referral_key(envelope.message.source, envelope.message.referral_id)
    )
    assert isinstance(answer, Case | RejectedReferral)
    if isinstance(answer, RejectedReferral):
        assert answer.reasons and all(r["code"] for r in answer.reasons)


def test_production_refuses_to_run_intake_without_a_cipher_key(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="LOTS_CIPHER_KEY is not set"):
        cipher_key(Settings(env="production", var_dir=tmp_path))
    assert not (tmp_path / "keys").exists()
