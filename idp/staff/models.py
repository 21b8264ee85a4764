"""Which school(s) a staff account works for, in which role, and its second factor (issue 16.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.sqltypes import UtcDateTime

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
        # The unique constraint above lets NULL schools repeat: one district-admin row per
        # account, so two grants at once cannot make two.
        Index(
            "uq_staff_assignment_district_admin",
            "account_id",
            unique=True,
            postgresql_where=text("school_id IS NULL"),
            sqlite_where=text("school_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    role: Mapped[str] = mapped_column(String(32))


class StaffSecondFactor(db.Model):  # type: ignore[name-defined,misc]
    """A staff account's TOTP authenticator: pending until the first code is accepted."""

    __tablename__ = "staff_second_factor"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    # The base32 TOTP secret, Fernet-encrypted with the key-encryption key (as the signing
    # keys' private parts, idp/oidc/keys.py): never in clear in the database.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The TOTP time step (RFC 6238 4.2, "T") of the last accepted code: a code of this step or
    # an earlier one is refused, so a code seen over a shoulder cannot be replayed (5.2).
    last_used_step: Mapped[int | None] = mapped_column()  # about 5.9e7 in 2026: fits


class StaffRecoveryCode(db.Model):  # type: ignore[name-defined,misc]
    """One single-use recovery code of a staff account, stored as an HMAC digest only."""

    __tablename__ = "staff_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
