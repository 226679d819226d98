"""Log lines and error texts never carry a personal number, a name or a traceback's locals."""

from __future__ import annotations

import io
import json
import logging
from datetime import date
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from events.codec import DecodeError
from infra.logging import MASK, SafeFormatter, describe_error, format_exception, processors, redact
from tests.support.intake import luhn

PERSONAL_NUMBER = "201407142395"
NAME = "Alvaro Testsson"


class Person(BaseModel):
    personal_number: int


def _fail_holding_secrets() -> None:
    decoded = {"personal_number": PERSONAL_NUMBER, "name": NAME}  # a local, as in a batch
    raise KeyError(decoded["name"])


def _raised(run: Any) -> BaseException:
    with pytest.raises(Exception) as caught:
        run()
    return caught.value


def test_a_foreign_errors_message_is_withheld_and_its_place_named() -> None:
    text = describe_error(_raised(_fail_holding_secrets))
    assert NAME not in text and PERSONAL_NUMBER not in text
    assert text.startswith("KeyError (message withheld) at ")
    assert "_fail_holding_secrets" in text


def test_a_validation_error_names_locations_never_input() -> None:
    exc = _raised(lambda: Person.model_validate({"personal_number": f"{PERSONAL_NUMBER}x"}))
    assert isinstance(exc, ValidationError)
    text = describe_error(exc)
    assert "personal_number" in text and PERSONAL_NUMBER not in text


def test_our_own_errors_keep_their_words_with_numbers_masked() -> None:
    text = describe_error(DecodeError(f"field 'data' is not JSON near {PERSONAL_NUMBER}"))
    assert text == f"DecodeError: field 'data' is not JSON near {MASK}"


def test_a_traceback_has_frames_but_no_locals_or_foreign_messages() -> None:
    def outer() -> None:
        try:
            _fail_holding_secrets()
        except KeyError as exc:
            raise RuntimeError(f"batch failed for {PERSONAL_NUMBER}") from exc

    exc = _raised(outer)
    text = format_exception((type(exc), exc, exc.__traceback__))
    assert "_fail_holding_secrets" in text and "outer" in text
    assert "The above led to" in text
    assert NAME not in text and PERSONAL_NUMBER not in text


@pytest.mark.parametrize("as_json", [False, True])
def test_structlog_lines_render_exceptions_safely(as_json: bool) -> None:
    out = io.StringIO()
    log = structlog.wrap_logger(structlog.PrintLogger(out), processors=processors(json=as_json))
    try:
        _fail_holding_secrets()
    except KeyError:
        log.exception("loop failed", loop="_consume_loop", note=f"pn {PERSONAL_NUMBER}")
    text = out.getvalue()
    assert "loop failed" in text and "_fail_holding_secrets" in text
    assert NAME not in text and PERSONAL_NUMBER not in text
    if as_json:
        assert "KeyError (message withheld)" in json.loads(text)["exception"]


def test_standard_library_lines_are_made_safe_too() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(SafeFormatter(service="billing"))
    logger = logging.getLogger("lots.test.safe")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        _fail_holding_secrets()
    except KeyError:
        logger.exception("Exception in ASGI application for %s", PERSONAL_NUMBER)
    logger.removeHandler(handler)
    text = out.getvalue()
    assert "Exception in ASGI application" in text and "_fail_holding_secrets" in text
    assert NAME not in text and PERSONAL_NUMBER not in text
    assert "service=billing" in text.splitlines()[0], "named like structlog's lines"


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 1, 1)),
    serial=st.integers(1, 999),  # 000 is never issued
    long_form=st.booleans(),
    separator=st.sampled_from(["", "-", "+"]),
)
def test_every_valid_personal_number_is_masked(
    born: date, serial: int, long_form: bool, separator: str
) -> None:
    short = born.strftime("%y%m%d") + f"{serial:03d}"
    digits = short + luhn(short)
    written = (born.strftime("%Y%m%d") if long_form else digits[:6]) + separator + digits[6:]
    assert redact(f"referral for {written}, again") == f"referral for {MASK}, again"


@pytest.mark.parametrize(
    "text",
    [
        "entry 1733140000000-0 of intake.referrals",
        "case 550e8400-e29b-41d4-a716-446655440000",
        "2026-12-02T10:47:03+00:00",
        "201407142396 has a wrong check digit",  # not a valid number: left as it is
    ],
)
def test_ids_times_and_invalid_numbers_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_a_raise_of_ours_keeps_its_words_but_a_failed_call_does_not() -> None:
    def ours() -> None:
        raise ValueError("grace days must not be negative")

    def failed_call() -> None:
        int(f"{PERSONAL_NUMBER}-x")

    assert describe_error(_raised(ours)) == "ValueError: grace days must not be negative"
    withheld = describe_error(_raised(failed_call))
    assert withheld.startswith("ValueError (message withheld) at test_logging.py:")
    assert PERSONAL_NUMBER not in withheld


def test_health_polling_requests_are_not_logged() -> None:
    from infra.logging import configure

    configure("INFO")
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)
