"""Which streams carry referrals and who reads them: the sources' own beside the shared one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infra.settings import Settings
from infra.topology import (
    CONSUMES,
    DELETE_AFTER_ACK,
    REFERRALS,
    consumed_by,
    groups,
    is_referral_stream,
    source_of,
)
from services.intake.sources import StreamSources


def test_a_sources_own_stream_is_a_referral_stream_and_its_dead_letters_are_not() -> None:
    assert source_of("intake.referrals.linkoping.elevhalsa") == "linkoping.elevhalsa"
    for stream in ("intake.referrals", "intake.referrals.a", "intake.referrals.a.b-c_d"):
        assert is_referral_stream(stream) and stream in DELETE_AFTER_ACK
    for stream in (
        "intake.referrals.dead",
        "intake.referrals.a.dead",
        "intake.referralsx",
        "intake.referrals.",
        "intake.referrals.a b",
        "intake.events",
        "billing.events",
    ):
        assert not is_referral_stream(stream) and stream not in DELETE_AFTER_ACK, stream
        assert source_of(stream) is None


def test_intake_alone_consumes_each_sources_stream() -> None:
    assert consumed_by("intake", ["b", "a"]) == (
        *CONSUMES["intake"],
        f"{REFERRALS}.a",
        f"{REFERRALS}.b",
    )
    assert consumed_by("billing", ["a"]) == CONSUMES["billing"]
    assert (f"{REFERRALS}.a", "intake") in groups(["a"])
    assert len(groups(["a"])) == len(groups()) + 1


@pytest.mark.parametrize("source", ["dead", "x.dead", "a*", "a b", "-a", "é"])
def test_a_source_that_cannot_have_its_own_stream_is_a_settings_error(source: str) -> None:
    with pytest.raises(ValidationError, match="intake_sources"):
        Settings(intake_sources=frozenset({source}))


def test_which_stream_may_carry_which_source() -> None:
    sources = StreamSources(frozenset({"a"}))
    assert sources.refusal("intake.referrals.a", "a") is None
    assert sources.refusal("intake.referrals", "b") is None  # not moved: the shared stream
    assert sources.refusal("intake.events", None) is None  # not a referral stream
    refusals = {
        ("intake.referrals.a", "zzq"): "source_mismatch",
        ("intake.referrals", "a"): "source_has_own_stream",
        ("intake.referrals.a", None): "not_a_referral",
        ("intake.referrals", None): "not_a_referral",
    }
    for (stream, source), code in refusals.items():
        refusal = sources.refusal(stream, source)
        assert refusal is not None and refusal.startswith(f"{code}: "), (stream, source)
        assert "zzq" not in refusal  # what the entry claimed is not echoed
    closed = StreamSources(frozenset({"a"}), shared=False)
    assert (closed.refusal("intake.referrals", "b") or "").startswith("shared_stream_closed: ")
    assert closed.refusal("intake.referrals.a", "a") is None
