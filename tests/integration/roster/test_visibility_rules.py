"""Which students a guardian may see (idp/roster/rules.py): each case is checked against the
Python function and the SQL expression, on this run's database, so the two never disagree.
(Integration tests: the SQL half is only proven on the real SQLite and PostgreSQL.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import product

import pytest
from sqlalchemy import select

from idp.clock import FrozenClock
from idp.extensions import db
from idp.roster import rules
from idp.roster.models import Enrollment, Person, Relationship, School
from tests.builders import enroll, make_person, make_school

pytestmark = pytest.mark.usefixtures("app")


@dataclass(frozen=True)
class RelationshipCase:
    """A relationship's facts and what the rules say of it."""

    is_active: bool
    is_legal_guardian: bool
    is_restricted: bool

    @property
    def is_legal(self) -> bool:
        """Expected: a legal guardian's relationship, restricted or not."""
        return self.is_active and self.is_legal_guardian

    @property
    def gives_access(self) -> bool:
        """Expected: the guardian sees the student."""
        return self.is_legal and not self.is_restricted


RELATIONSHIPS = [RelationshipCase(*flags) for flags in product((True, False), repeat=3)]


def _relationship(clock: FrozenClock, case: RelationshipCase) -> Relationship:
    guardian, student = make_person("guardian"), make_person("student", date(2015, 1, 1))
    relationship = Relationship(
        guardian_id=guardian.id,
        student_id=student.id,
        kind="parent",
        is_legal_guardian=case.is_legal_guardian,
        is_active=case.is_active,
        restricted_at=clock.now() if case.is_restricted else None,
        restriction_reason="court order" if case.is_restricted else None,
    )
    db.session.add(relationship)
    db.session.flush()
    return relationship


@pytest.mark.parametrize("case", RELATIONSHIPS, ids=repr)
def test_relationship_gives_access_in_python_and_in_sql(
    clock: FrozenClock, case: RelationshipCase
) -> None:
    relationship = _relationship(clock, case)

    in_sql = db.session.execute(
        select(Relationship.id).where(Relationship.id == relationship.id, rules.gives_access_sql())
    ).scalar_one_or_none()

    in_python = rules.gives_access(
        is_active=relationship.is_active,
        is_legal_guardian=relationship.is_legal_guardian,
        restricted_at=relationship.restricted_at,
    )
    assert (in_python, in_sql is not None) == (case.gives_access,) * 2


@pytest.mark.parametrize("case", RELATIONSHIPS, ids=repr)
def test_legal_relationship_in_python_and_in_sql(
    clock: FrozenClock, case: RelationshipCase
) -> None:
    relationship = _relationship(clock, case)

    in_sql = db.session.execute(
        select(Relationship.id).where(
            Relationship.id == relationship.id, rules.legal_relationship_sql()
        )
    ).scalar_one_or_none()

    in_python = rules.is_legal_relationship(
        is_active=relationship.is_active, is_legal_guardian=relationship.is_legal_guardian
    )
    assert (in_python, in_sql is not None) == (case.is_legal,) * 2


# (student active, enrolment active, school active): only all three show the student.
ENROLMENTS = list(product((True, False), repeat=3))


@pytest.mark.parametrize(
    ("is_student_active", "is_enrolment_active", "is_school_active"), ENROLMENTS
)
def test_active_enrolment_in_sql(
    is_student_active: bool, is_enrolment_active: bool, is_school_active: bool
) -> None:
    school = make_school("S-RULES", "Rules Elementary")
    student = make_person("student", date(2015, 1, 1))
    enrolment = enroll(student, school)
    student.is_active, enrolment.is_active = is_student_active, is_enrolment_active
    school.is_active = is_school_active
    db.session.flush()
    conditions = rules.active_enrolment_sql(Person)

    found = db.session.execute(
        select(Enrollment.id)
        .join(Person, Person.id == Enrollment.person_id)
        .join(School, School.id == Enrollment.school_id)
        .where(Enrollment.id == enrolment.id, *conditions)
    ).scalar_one_or_none()

    expected = is_student_active and is_enrolment_active and is_school_active
    assert (found is not None) is expected
