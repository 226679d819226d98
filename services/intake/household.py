"""The persons of a referral: who they are (``check_persons``) and whether the programme's
child is there and of an age it serves (``check_age_range``).

No reason is listed that only follows from another: an empty ``persons`` gives
``missing_persons`` alone, a person with an invalid number gets no age reason, and
``missing_child`` is not listed while some role is invalid (that person may be the child).
Every person with role ``child`` must be within the programme's age range, and a programme
with an age range needs at least one child.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import NamedTuple, get_args

from events.intake import Reason
from events.referrals import Person
from events.types import Role
from services.intake.personal_numbers import age_on, parse_personal_number
from services.intake.policy import IntakePolicy
from services.intake.reasons import reason
from services.intake.settings import Referable

# A lookup table rather than a membership test: ``.get`` narrows a free string to its Literal.
ROLES: Mapping[str, Role] = MappingProxyType({r: r for r in get_args(Role)})


class Member(NamedTuple):
    """One person of an accepted household; the personal number is pseudonymised downstream."""

    personal_number: str
    role: Role
    age: int


class CheckedPerson(NamedTuple):
    """A listed person as the rules read it: its role if valid, its member if valid too."""

    position: int
    role: Role | None
    member: Member | None


def check_persons(
    persons: Sequence[Person], day: date, reasons: list[Reason]
) -> list[CheckedPerson]:
    """``missing_persons``, ``invalid_role``, ``invalid_personal_number`` and
    ``duplicate_person`` (the same number twice: a person has one role, and two entries would
    give one person two pseudonymous references downstream), each appended to ``reasons``."""
    if not persons:
        reasons.append(reason("missing_persons", "persons"))
        return []
    checked: list[CheckedPerson] = []
    first_index: dict[str, int] = {}
    for i, person in enumerate(persons):
        role = ROLES.get(person.role)
        if role is None:
            reasons.append(reason("invalid_role", f"persons[{i}].role"))
        number_field = f"persons[{i}].personal_number"
        parsed = parse_personal_number(person.personal_number, day)
        member = None
        if isinstance(parsed, str):
            reasons.append(reason(f"invalid_personal_number:{parsed}", number_field))
        elif parsed[0] in first_index:
            reasons.append(reason("duplicate_person", number_field, first=first_index[parsed[0]]))
        else:
            first_index[parsed[0]] = i
            if role is not None:
                member = Member(parsed[0], role, age_on(parsed[1], day))
        checked.append(CheckedPerson(i, role, member))
    return checked


def check_age_range(
    programme: Referable,
    checked: Sequence[CheckedPerson],
    policy: IntakePolicy,
    reasons: list[Reason],
) -> None:
    """``missing_child`` and ``age_out_of_range`` for a programme with an age range."""
    age_range = policy.age_ranges.get(programme)
    if age_range is None:
        return
    low, high = age_range
    children = [c for c in checked if c.role == "child"]
    # A person with an unknown role may well be the child: invalid_role says enough.
    if not children and all(c.role is not None for c in checked):
        reasons.append(reason("missing_child", "persons", programme=programme))
    for c in children:
        if c.member is not None and not low <= c.member.age <= high:
            where, age = f"persons[{c.position}].personal_number", c.member.age
            reasons.append(reason("age_out_of_range", where, age=age, low=low, high=high))
