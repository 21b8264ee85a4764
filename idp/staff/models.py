"""Which school(s) a staff account works for, and in which role."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db

STAFF_ROLES = ("secretary", "enrollment_specialist", "school_admin", "district_admin")


class StaffAssignment(db.Model):  # type: ignore[name-defined,misc]
    """A staff role at one school, or district-wide (school_id NULL) for district admins."""

    __tablename__ = "staff_assignment"
    __table_args__ = (
        UniqueConstraint("account_id", "school_id", "role"),
        CheckConstraint(
            "role IN ('secretary', 'enrollment_specialist', 'school_admin', 'district_admin')",
            name="role",
        ),
        CheckConstraint(
            "(role = 'district_admin') = (school_id IS NULL)", name="district_admin_no_school"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    role: Mapped[str] = mapped_column(String(32))
