"""Schools, SIS persons, enrolments and guardian-to-student relationships."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.sqltypes import UtcDateTime

PERSON_ROLES = ("student", "guardian", "staff")
RELATIONSHIP_KINDS = ("parent", "guardian", "relative")


class School(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """A school from the SIS; whether its portal is enabled is rollout policy."""

    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    sis_id: Mapped[str] = mapped_column(String(64), unique=True)
    # The OneRoster sourcedId of the last import (enrolments refer to schools by it).
    sourced_id: Mapped[str | None] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)


class Person(db.Model):  # type: ignore[name-defined,misc]
    """Someone in the SIS roster, matched across imports by the stable SIS Person ID."""

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("role IN ('student', 'guardian', 'staff')", name="role"),
        CheckConstraint("role = 'student' OR birth_date IS NULL", name="birth_date_students_only"),
        # Student sign-in compares the SIS Person ID without case (credentials/students.py).
        Index("ix_person_sis_person_id_upper", func.upper(text("sis_person_id"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sis_person_id: Mapped[str] = mapped_column(String(64), unique=True)
    sourced_id: Mapped[str | None] = mapped_column(String(255), index=True)
    role: Mapped[str] = mapped_column(String(16))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    household_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # Contact details from the SIS, shown read-only in Preferences (changed at the school).
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(300))
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Enrollment(db.Model):  # type: ignore[name-defined,misc]
    """A person's current enrolment (or staff assignment) at one school."""

    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("person_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    grade: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True)


class Relationship(db.Model):  # type: ignore[name-defined,misc]
    """Guardian to student. Restricted, inactive or non-legal relationships give no access."""

    __tablename__ = "relationship"
    __table_args__ = (
        UniqueConstraint("guardian_id", "student_id"),
        CheckConstraint("guardian_id <> student_id", name="not_self"),
        CheckConstraint("kind IN ('parent', 'guardian', 'relative')", name="kind"),
        # A relative is never a legal guardian (roster policy cannot change that).
        CheckConstraint("kind <> 'relative' OR NOT is_legal_guardian", name="relative_not_legal"),
        CheckConstraint(
            "restricted_at IS NULL OR restriction_reason IS NOT NULL", name="restriction_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    is_legal_guardian: Mapped[bool] = mapped_column()
    is_active: Mapped[bool] = mapped_column(default=True)
    restricted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    restricted_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    restriction_reason: Mapped[str | None] = mapped_column(String(500))
