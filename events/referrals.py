"""The inbound stream ``intake.referrals``: referrals from other municipal systems
(contracts.md, v1).

Inbound commands are lenient where intake must answer with a reason code rather than a
decoding error (an unknown programme is ``unknown_programme``, not ``malformed``). A referral
carries personal data: intake only.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
)
from pydantic_core import PydanticCustomError

from events.types import Message

#: A referral's sender: safe in a Redis key and in an ACL pattern.
SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
#: Error types of the validators below: fixed texts that never quote the input.
NOT_PRINTABLE, NOT_ISO_TEXT = "not_printable", "not_iso_text"


def printable(value: str) -> str:
    """Refuse a text with a character of Unicode's category C (control, format such as the
    bidirectional overrides, surrogate, private use, unassigned): such text can forge lines or
    reorder what a person reads where it is printed."""
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise PydanticCustomError(
            NOT_PRINTABLE, "must be printable: no control, format or unassigned characters"
        )
    return value


def iso_text(value: object) -> object:
    """Dates travel as ISO 8601 text: refuse the numbers pydantic would read as Unix time
    (a ``date`` or ``datetime`` made in Python passes)."""
    if value is not None and not isinstance(value, str | date):
        raise PydanticCustomError(NOT_ISO_TEXT, "must be an ISO 8601 text")
    return value


Source = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=SOURCE_PATTERN,
        description="letters, digits, '.', '_' and '-' (not first); at most 100",
    ),
]
ReferralId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="1 to 200 printable characters: none of Unicode's category C (control, "
        "format, surrogate, private use, unassigned)",
    ),
    AfterValidator(printable),
]
#: Checked by intake's rules, which know the day received (``services/intake/rules.py``).
SANE_DATES = "ISO 8601, from 2000-01-01 to the day after the referral is received"
SenderDate = Annotated[date, BeforeValidator(iso_text), Field(description=SANE_DATES)]
SenderTime = Annotated[AwareDatetime, BeforeValidator(iso_text), Field(description=SANE_DATES)]
MunicipalityCode = Annotated[
    str, Field(pattern=r"^[0-9]{4}$", description="the four digits of a Swedish municipality")
]


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    role: str
    personal_number: str
    name: str | None = None
    municipality_code: MunicipalityCode | None = None


class Consent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    #: A JSON boolean only: not "yes", not 1.
    given: StrictBool
    form_ref: Annotated[
        str | None,
        Field(
            description="the signed consent form's reference; coordinated support needs it "
            "(002: a consent form is used at the request)"
        ),
    ] = None
    given_at: Annotated[
        SenderDate | None,
        Field(
            description="the day the form was signed: ISO 8601, from 2000-01-01 to the day "
            "after the referral is received; coordinated support needs it, no later than the "
            "day received (Europe/Stockholm)"
        ),
    ] = None


class SubmitReferral(Message):
    """A referral from another municipal system. Carries personal data: intake only."""

    source: Source
    referral_id: ReferralId
    programme: str
    basis: str = "service"
    decision_ref: str | None = None
    urgency: str = "normal"
    submitted_at: SenderTime | None = None
    persons: list[Person] = Field(default_factory=list)
    consent: Consent | None = None
    indicators: list[str] = Field(default_factory=list)
    note: str | None = None
