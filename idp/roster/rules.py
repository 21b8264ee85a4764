"""Which students a guardian may see, written once (DESIGN.md 3 and 6): as pure functions, and
as the SQL expressions the statements of roster/access.py (and the token statements built on
them in oidc/tokens.py) are made of.

A guardian sees a student only through an active, unrestricted, legal-guardian relationship,
and only while the student is active and enrolled (active enrolment) in an active school whose
portal is open (policies/rollout.toml, checked on the rows by roster/access.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy import ColumnElement, and_

from idp.roster.models import Enrollment, Person, Relationship, School


class PersonFacts(Protocol):
    """What the rules read of a person: a `Person` row or a plain view of one."""

    @property
    def role(self) -> str: ...
    @property
    def is_active(self) -> bool: ...


def is_active_guardian(person: PersonFacts) -> bool:
    """True for an active person in the guardian role: the only one who sees students."""
    return person.role == "guardian" and person.is_active


def is_active_student(person: PersonFacts) -> bool:
    """True for an active person in the student role (the `student` claim, student sign-in)."""
    return person.role == "student" and person.is_active


def is_legal_relationship(*, is_active: bool, is_legal_guardian: bool) -> bool:
    """True when a relationship makes its guardian a legal guardian of the student now,
    restricted or not (a restricted one still tells staff why access was refused)."""
    return is_active and is_legal_guardian


def gives_access(
    *, is_active: bool, is_legal_guardian: bool, restricted_at: datetime | None
) -> bool:
    """True when a relationship lets its guardian see the student: a legal one (above) that
    is not restricted (a restriction acts at once)."""
    return is_legal_relationship(is_active=is_active, is_legal_guardian=is_legal_guardian) and (
        restricted_at is None
    )


def legal_relationship_sql(relationship: type[Relationship] = Relationship) -> ColumnElement[bool]:
    """is_legal_relationship in SQL, over `relationship`'s columns."""
    return and_(relationship.is_active.is_(True), relationship.is_legal_guardian.is_(True))


def gives_access_sql(relationship: type[Relationship] = Relationship) -> ColumnElement[bool]:
    """gives_access in SQL, over `relationship`'s columns."""
    return and_(legal_relationship_sql(relationship), relationship.restricted_at.is_(None))


class ActiveEnrolment(NamedTuple):
    """An active student with an active enrolment at an active school, as one condition per
    table: a statement puts each in its table's (outer) join, or all of them in its WHERE."""

    enrolment: ColumnElement[bool]
    student: ColumnElement[bool]
    school: ColumnElement[bool]


def active_enrolment_sql(student: type[Person] = Person) -> ActiveEnrolment:
    """The conditions of an enrolment that shows `student` in the portal (the school must
    also be open, per rollout policy), over Enrollment, `student` and School."""
    return ActiveEnrolment(
        enrolment=Enrollment.is_active.is_(True),
        student=student.is_active.is_(True),
        school=School.is_active.is_(True),
    )
