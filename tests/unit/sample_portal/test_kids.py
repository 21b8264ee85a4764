"""My Kids content from the provider's claims (clients/sample_portal/kids.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clients.sample_portal.kids import my_kids


def _student(student_id: str, given: str, born: str = "2011-05-02") -> dict[str, Any]:
    return {
        "id": student_id,
        "given_name": given,
        "family_name": "Nguyen",
        "birthdate": born,
        "school_id": "DEMO-HS1",
        "school_name": "Northfield High",
        "grade": "09",
        "relationship": "parent",
    }


CLAIMS = {"students": [_student("S1", "Maya"), _student("S2", "Leo"), _student("S3", "Ava")]}


@pytest.mark.parametrize(
    ("requested", "selected"),
    [(None, "S1"), ("S2", "S2"), ("S3", "S3"), ("S9", "S1"), ("", "S1")],
)
def test_selects_the_requested_child_or_else_the_first(
    requested: str | None, selected: str
) -> None:
    kids = my_kids(CLAIMS, requested)

    assert kids.selected is not None
    assert kids.selected.id == selected


def test_keeps_the_providers_order_oldest_first() -> None:
    kids = my_kids(CLAIMS, None)

    assert [child.given_name for child in kids.children] == ["Maya", "Leo", "Ava"]
    assert kids.is_student is False


def test_reads_name_school_grade_and_birth_date() -> None:
    child = my_kids(CLAIMS, None).selected

    assert child is not None
    assert (child.name, child.school_name, child.grade) == ("Maya Nguyen", "Northfield High", "09")
    assert child.birth_date == date(2011, 5, 2)


@pytest.mark.parametrize("claims", [{}, {"students": []}, {"students": "nonsense"}])
def test_no_students_means_nothing_selected(claims: dict[str, Any]) -> None:
    kids = my_kids(claims, "S1")

    assert (kids.children, kids.selected) == ((), None)


def test_skips_malformed_entries_and_bad_dates() -> None:
    claims = {"students": ["x", {"given_name": "No id"}, _student("S1", "Maya", born="soon")]}

    kids = my_kids(claims, None)

    assert [child.id for child in kids.children] == ["S1"]
    assert kids.children[0].birth_date is None


def test_a_student_account_sees_itself() -> None:
    own = {"id": "S7", "given_name": "Sam", "family_name": "Lee", "grade": "10"}

    kids = my_kids({"student": own, "students": CLAIMS["students"]}, "S1")

    assert kids.is_student is True
    assert [child.id for child in kids.children] == ["S7"]
    assert kids.selected is not None
    assert kids.selected.birth_date is None
