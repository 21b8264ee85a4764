"""Which students a guardian may see: the one statement every part of the provider uses, built
from the rule of roster/rules.py.

A guardian sees a student only through an active, unrestricted, legal-guardian relationship,
and only while the student is enrolled in a school whose portal is open (policies/rollout.toml).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Row, Select, and_, bindparam, select
from sqlalchemy.orm import Session, aliased

from idp.policy import RolloutPolicy
from idp.roster import rules
from idp.roster.models import Enrollment, Person, Relationship, School


class RosterPerson(Protocol):
    """What the claims read of a person: a `Person` row, or the plain view the userinfo path
    loads with the access token (idp/oidc/tokens.py)."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def sis_person_id(self) -> str: ...
    @property
    def given_name(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def birth_date(self) -> date | None: ...


@dataclass(frozen=True)
class GuardianStanding:
    """Why a person may or may not use the portal as a guardian (for clear refusals)."""

    is_guardian: bool
    has_legal_relationship: bool
    has_unrestricted_relationship: bool
    visible_student_ids: tuple[int, ...]


@dataclass(frozen=True)
class VisibleStudent:
    """One student a guardian may see, with what the `students` claim tells about them."""

    person_id: int
    sis_person_id: str
    given_name: str
    family_name: str
    birth_date: date | None
    relationship_kind: str
    school_sis_id: str
    school_name: str
    grade: str | None


_VISIBLE = tuple(field.name for field in fields(VisibleStudent))
_VISIBLE_KEYS = tuple((name, f"visible.{name}") for name in _VISIBLE)


def read_visible_rows(rows: Iterable[Row[Any]]) -> tuple[VisibleStudent, ...]:
    """The students of rows read with with_visible_students (their `visible.*` columns, by
    name), leaving out the rows that are no visible student."""
    found = []
    for row in rows:
        values = row._mapping
        if values["visible.school_sis_id"] is not None:
            found.append(VisibleStudent(**{name: values[key] for name, key in _VISIBLE_KEYS}))
    return tuple(found)


def with_visible_students(query: Select[Any], guardian_id: Any) -> Select[Any]:
    """`query` with the rows of the `students` claim of the guardian `guardian_id` outer-joined
    and ordered oldest first: the columns of VisibleStudent, labelled `visible.*`.

    Outer joins, so `query`'s own row comes back when the guardian sees nobody; the rules sit in
    the join conditions, and a row whose `visible.school_sis_id` is NULL is not a visible
    student (read_visible_rows drops it). Built on by the statement below and by two of
    idp/oidc/tokens.py: userinfo's (the access token and these rows in one go) and the token
    owner's (the account of a code or refresh token and these rows)."""
    student = aliased(Person, name="visible_student")
    enrolment = rules.active_enrolment_sql(student)
    columns = (
        student.id,
        student.sis_person_id,
        student.given_name,
        student.family_name,
        student.birth_date,
        Relationship.kind,
        School.sis_id,
        School.name,
        Enrollment.grade,
    )
    return (
        query.add_columns(
            *(
                column.label(f"visible.{name}")
                for column, name in zip(columns, _VISIBLE, strict=True)
            )
        )
        .outerjoin(
            Relationship,
            and_(Relationship.guardian_id == guardian_id, rules.gives_access_sql(Relationship)),
        )
        .outerjoin(student, and_(student.id == Relationship.student_id, enrolment.student))
        .outerjoin(Enrollment, and_(Enrollment.person_id == student.id, enrolment.enrolment))
        .outerjoin(School, and_(School.id == Enrollment.school_id, enrolment.school))
        .order_by(
            student.birth_date.is_(None),
            student.birth_date,
            student.family_name,
            student.given_name,
            student.sis_person_id,
            School.sis_id,
        )
    )


def _visible_students_query() -> Select[Any]:
    """Built once: the `students` claim is made for every token and userinfo answer, and
    building this statement cost more than running it (bench/oidc_bench.py, py-spy). Which
    schools are open is checked on the rows (a bound IN list is rewritten at every run)."""
    guardian = aliased(Person, name="guardian")
    query = select().select_from(guardian).where(guardian.id == bindparam("guardian_id"))
    return with_visible_students(query, guardian.id)


def _enrolment_query() -> Select[str, str, str | None]:
    """Built once: a student's own active enrolments (the `student` claim takes the first in
    an open school), labelled as the VisibleStudent fields they fill."""
    return (
        select(
            School.sis_id.label("school_sis_id"),
            School.name.label("school_name"),
            Enrollment.grade.label("grade"),
        )
        .join(Enrollment, Enrollment.school_id == School.id)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.person_id == bindparam("student_id"), *rules.active_enrolment_sql(Person))
        .order_by(School.sis_id)
    )


_VISIBLE_STUDENTS = _visible_students_query()
_ENROLMENT = _enrolment_query()


class GuardianAccess:
    """Computes, from the roster and the rollout policy, what a guardian may see on a day."""

    def __init__(self, session: Session, rollout: RolloutPolicy) -> None:
        self._session = session
        self._rollout = rollout

    def standing(self, person: Person, on: date) -> GuardianStanding:
        """The guardian's relationships, reduced to what the refusal messages need."""
        if not rules.is_active_guardian(person):
            return GuardianStanding(False, False, False, ())
        legal = self._session.execute(
            select(
                Relationship.is_active, Relationship.is_legal_guardian, Relationship.restricted_at
            ).where(Relationship.guardian_id == person.id, rules.legal_relationship_sql())
        ).all()
        has_access = any(rules.gives_access(**row._mapping) for row in legal)
        visible = self.visible_students(person, on) if has_access else []
        return GuardianStanding(
            is_guardian=True,
            has_legal_relationship=bool(legal),
            has_unrestricted_relationship=has_access,
            visible_student_ids=tuple(sorted({student.person_id for student in visible})),
        )

    def visible_student_ids(self, person: Person, on: date) -> tuple[int, ...]:
        """The Person ids of the students this guardian may see on the day `on`."""
        return self.standing(person, on).visible_student_ids

    def visible_students(
        self, person: RosterPerson, on: date, rows: Sequence[VisibleStudent] | None = None
    ) -> list[VisibleStudent]:
        """The students this guardian may see on the day `on`, oldest first (the `students`
        claim: the portal opens on the oldest child). One entry per student; a student
        enrolled in two open schools is listed once, at the school first by SIS id.

        `rows`: read_visible_rows of the caller's own statement built with
        with_visible_students (the userinfo path reads them with the access token)."""
        if not rules.is_active_guardian(person):
            return []
        if rows is None:
            rows = read_visible_rows(self._read(_VISIBLE_STUDENTS, {"guardian_id": person.id}))
        open_schools = self._rollout.enabled_school_ids(on)
        seen: set[int] = set()
        visible = []
        for student in rows:
            if student.school_sis_id in open_schools and student.person_id not in seen:
                seen.add(student.person_id)
                visible.append(student)
        return visible

    def enrolment(self, student: RosterPerson, on: date) -> VisibleStudent | None:
        """A student's own enrolment in a school open on the day `on` (None: no portal)."""
        if not rules.is_active_student(student):
            return None
        open_schools = self._rollout.enabled_school_ids(on)
        rows = self._read(_ENROLMENT, {"student_id": student.id})
        row = next((row for row in rows if row.school_sis_id in open_schools), None)
        if row is None:
            return None
        return VisibleStudent(
            person_id=student.id,
            sis_person_id=student.sis_person_id,
            given_name=student.given_name,
            family_name=student.family_name,
            birth_date=student.birth_date,
            relationship_kind="self",
            **row._mapping,
        )

    def _read(self, statement: Any, params: dict[str, Any]) -> Sequence[Any]:
        # Plain columns: run on the session's connection, without the ORM's result handling.
        return self._session.connection().execute(statement, params).all()
