"""Whose students a person may see or be (idp/roster/rules.py), the parts with no SQL form."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from idp.roster import rules


@dataclass(frozen=True)
class _Person:
    role: str
    is_active: bool


# (role, active, guardian who sees students?, student with a portal?)
PEOPLE = [
    ("guardian", True, True, False),
    ("guardian", False, False, False),
    ("student", True, False, True),
    ("student", False, False, False),
    ("staff", True, False, False),
]


@pytest.mark.parametrize(("role", "is_active", "is_guardian", "is_student"), PEOPLE)
def test_only_active_people_in_their_role_count(
    role: str, is_active: bool, is_guardian: bool, is_student: bool
) -> None:
    person = _Person(role, is_active)

    found = (rules.is_active_guardian(person), rules.is_active_student(person))

    assert found == (is_guardian, is_student)
