"""Legacy Infinite Campus credentials, kept until their owner's first bridged sign-in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.sqltypes import UtcDateTime

# The hash formats of idp/bridge/rules.py; `remote` marks a credential first seen through the
# district's verification URL (IDP_BRIDGE_MODE=http), which keeps no hash (verifier "").
LEGACY_SCHEMES = ("bcrypt", "pbkdf2_sha256", "pbkdf2_sha1", "salted_sha256", "remote")


class LegacyCredential(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's base
    """An IC username and its legacy password verifier (a hash, never a clear password)."""

    __tablename__ = "legacy_credential"
    __table_args__ = (
        CheckConstraint(
            f"scheme IN ({', '.join(repr(scheme) for scheme in LEGACY_SCHEMES)})", name="scheme"
        ),
        # IC usernames are unique case-insensitively, as portal usernames are.
        Index(
            "uq_legacy_credential_ic_username_lower", func.lower(text("ic_username")), unique=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ic_username: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(32))
    verifier: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    migrated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
