"""For any referral, well-formed or not, intake answers: a case, or a rejection with reasons;
sent again under a new id, it is answered again (or refused, if another took its key first)."""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.codec import DecodeError
from infra.batches import Incoming
from infra.settings import Settings
from infra.store import cipher_key
from infra.topology import REFERRALS
from infra.unit_of_work import UnitOfWork
from services.intake.application import Intake
from services.intake.domain import RejectedReferral
from services.intake.domain_case import Case
from services.intake.reevaluation import answer_in
from services.intake.referral_keys import referral_key
from services.intake.resubmission import ConflictingReferral, RepeatedReferral, resubmission_id
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
        "municipality_code": st.sampled_from(["0580", "0581", "", "580", "Linköping"]),
    },
)
#: Senders valid and not: the shared source pattern or any text; ids printable, with '/', or
#: with control characters.
sources = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,29}\Z") | st.text(min_size=1, max_size=30)
referral_ids = (
    st.text(st.characters(exclude_categories=("C",)), min_size=1, max_size=30)
    | st.from_regex(r"\A[A-Z]{2}/[0-9]{4}/[0-9]{1,6}\Z")
    | st.text(min_size=1, max_size=30)
)
referral = st.fixed_dictionaries(
    {"source": sources, "referral_id": referral_ids},
    optional={
        "programme": st.sampled_from(["network", "coordinated", "counselling", "field", "x"]),
        "basis": st.sampled_from(["service", "decision", "?"]),
        "decision_ref": st.one_of(st.none(), st.text(max_size=10)),
        "urgency": st.sampled_from(["normal", "acute", "soon"]),
        "persons": st.lists(person, max_size=4),
        "consent": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {"given": st.one_of(st.booleans(), st.sampled_from(["yes", 1, 0, "true"]))},
                optional={"given_at": st.sampled_from(["2026-11-01", "0001-01-01", 0])},
            ),
        ),
        "indicators": st.lists(
            st.sampled_from(["uncoordinated_actors", "economic_vulnerability", "other"]),
            max_size=3,
        ),
        "note": st.one_of(st.none(), st.text(max_size=30), st.just("x" * 2001)),
        "submitted_at": st.sampled_from(
            ["2026-11-02T09:14:00+01:00", "yesterday", 3, "0001-01-01T00:30:00+14:00"]
        ),
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
        # Nothing valid says who sent it, so nobody can be answered: a dead letter, by design.
        assert not (isinstance(body, dict) and _valid_sender(body))
        return
    assert _valid_sender(envelope.message.model_dump())
    result = intake.process("intake", [Incoming("1-1", REFERRALS, envelope)])
    assert result == {"1-1": None}
    # Under the referral's key, or (rejected only as not resident) waiting for a residency
    # exception under the exception's id: services/intake/reevaluation.py.
    answer = answer_in(UnitOfWork(intake), envelope.message.source, envelope.message.referral_id)
    assert isinstance(answer, Case | RejectedReferral)
    key = referral_key(envelope.message.source, envelope.message.referral_id)
    assert answer.id == key or answer.reasons[0]["code"] == "not_resident"
    if isinstance(answer, RejectedReferral):
        assert answer.reasons and all(r["code"] for r in answer.reasons)
    # Sent again under a new id: the first answer again, if the key was answered for this
    # content (another example may have taken the key with other content: then refused).
    again = intake.decode(REFERRALS, {**fields, "id": str(uuid.uuid4())})
    assert intake.process("intake", [Incoming("1-2", REFERRALS, again)]) == {"1-2": None}
    second: Aggregate = intake.repository.get(resubmission_id(str(again.id)))
    same = answer.fingerprint == intake.fingerprint(envelope.message)
    assert isinstance(second, RepeatedReferral if same else ConflictingReferral)
    assert second.key == key


def _valid_sender(body: dict[str, Any]) -> bool:
    """The shared rules of a sender (brief and contracts): a source of the pattern, an id of
    1 to 200 characters none of which is of Unicode's category C."""
    source, referral_id = body.get("source"), body.get("referral_id")
    return (
        isinstance(source, str)
        and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", source) is not None
        and isinstance(referral_id, str)
        and 1 <= len(referral_id) <= 200
        and not any(unicodedata.category(c).startswith("C") for c in referral_id)
    )


def test_production_refuses_to_run_intake_without_a_cipher_key(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="LOTS_CIPHER_KEY is not set"):
        cipher_key(Settings(env="production", var_dir=tmp_path))
    assert not (tmp_path / "keys").exists()
