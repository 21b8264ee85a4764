"""Activation keys (the GUID guardians get from school staff after a photo-ID check)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.sqltypes import UtcDateTime

ID_TYPES = ("drivers_license", "state_id", "passport", "military_id", "consular_id", "other")


class ActivationKey(db.Model):  # type: ignore[name-defined,misc]
    """A single-use key for one guardian Person, stored only as a digest."""

    __tablename__ = "activation_key"
    __table_args__ = (
        CheckConstraint(
            "id_type_seen IN ('drivers_license', 'state_id', 'passport', 'military_id',"
            " 'consular_id', 'other')",
            name="id_type_seen",
        ),
        CheckConstraint("expires_at > issued_at", name="expires_after_issue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    id_type_seen: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
