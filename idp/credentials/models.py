"""Security answers (hashed) and sign-in failure counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.sqltypes import UtcDateTime


class SecurityAnswer(db.Model):  # type: ignore[name-defined,misc]
    """One security question of an account and the argon2 hash of its normalised answer."""

    __tablename__ = "security_answer"
    __table_args__ = (UniqueConstraint("account_id", "question_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(64))
    answer_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignInThrottle(db.Model):  # type: ignore[name-defined,misc]
    """Failures per sign-in name (known or not), so lockout cannot reveal which names exist."""

    __tablename__ = "sign_in_throttle"

    # HMAC of the normalised login name: no username in clear outside the account row.
    name_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failure_count: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Locks in a row: each lasts twice the one before, up to lockout.max_lock_minutes.
    lock_count: Mapped[int] = mapped_column(default=0, server_default="0")
