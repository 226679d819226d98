"""The types every public message shares (contracts.md, v1): the base :class:`Message`, the
programmes, roles and meeting kinds, money-free decimals and months.

Unknown fields are ignored on reading so that a producer may add optional fields without
breaking older consumers. A message travels by its ``type`` name (the class name), never by its
Python path; :mod:`events.registry` lists them all.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
)

Programme = Literal["network", "coordinated", "counselling", "field"]
#: The programmes in the contract's order, for lists and membership checks; derived, never retyped.
PROGRAMMES: tuple[Programme, ...] = get_args(Programme)
Role = Literal["child", "guardian", "partner", "sibling", "other"]
MeetingKind = Literal[
    "coordination",
    "pre_meeting",
    "network_meeting",
    "follow_up",
    "sip_meeting",
    "counselling",
    "group_session",
    "night_walk",
]
MeetingFormat = Literal["individual", "couple", "group"]
#: A decimal travels as a string ("1.50") so that no JSON reader turns it into a float.
DecimalStr = Annotated[Decimal, PlainSerializer(str, return_type=str, when_used="json")]
#: A calendar month, ``YYYY-MM`` (read and stepped by :mod:`infra.months`).
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=MONTH_PATTERN)]


class Message(BaseModel):
    """Base of every public message: its contract name and schema version."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    type_name: ClassVar[str]
    version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_name = cls.__name__
