"""Accounts: who signs in, in which state, with which username and email."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, validates

from idp.accounts.rules import AccountState as AccountState  # re-exported: kept with its rules
from idp.accounts.rules import can_receive_tokens, email_key, username_key
from idp.extensions import db
from idp.sqltypes import JsonDocument, UtcDateTime


class AccountKind(StrEnum):
    """Who the account belongs to."""

    GUARDIAN = "guardian"
    STUDENT = "student"
    STAFF = "staff"


LOCALES = ("en", "es", "vi", "ar", "so")
# States whose email and person link no longer count: the email may register again.
RELEASED_STATES = ("cancelled", "deleted", "removed")
_RELEASED_SQL = "state NOT IN ('cancelled', 'deleted', 'removed')"


def _in(column: str, values: tuple[str, ...] | type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Account(db.Model):  # type: ignore[name-defined,misc]
    """A sign-in identity; `sub` is random, stable and never reused."""

    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint(_in("kind", AccountKind), name="kind"),
        CheckConstraint(_in("state", AccountState), name="state"),
        CheckConstraint(_in("locale", LOCALES), name="locale"),
        CheckConstraint(_in("communication_channel", ("email", "text", "both")), name="channel"),
        # The FAQ's username rule (8-20 ASCII letters/digits), per dialect: SQLite has no regex.
        CheckConstraint(
            "username IS NULL OR username ~ '^[A-Za-z0-9]{8,20}$'", name="username_format_pg"
        ).ddl_if(dialect="postgresql"),
        CheckConstraint(
            "username IS NULL OR (length(username) BETWEEN 8 AND 20"
            " AND username NOT GLOB '*[^A-Za-z0-9]*')",
            name="username_format_sqlite",
        ).ddl_if(dialect="sqlite"),
        CheckConstraint("email IS NULL OR email LIKE '%_@_%'", name="email_format"),
        # Usernames are unique case-insensitively, for ever (even after cancellation).
        Index("uq_account_username_lower", func.lower(text("username")), unique=True),
        # One account per email among the accounts that still hold it, compared by email_key.
        Index(
            "uq_account_email_key",
            "email_key",
            unique=True,
            postgresql_where=text(_RELEASED_SQL),
            sqlite_where=text(_RELEASED_SQL),
        ),
        # One live account per Person per kind.
        Index(
            "uq_account_person_kind",
            "person_id",
            "kind",
            unique=True,
            postgresql_where=text(_RELEASED_SQL),
            sqlite_where=text(_RELEASED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sub: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    username: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    # rules.email_key(email), set with the email (validator below): what uniqueness compares.
    email_key: Mapped[str | None] = mapped_column(String(1024))
    email_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    communication_channel: Mapped[str] = mapped_column(String(8), default="email")
    communication_topics: Mapped[list[Any]] = mapped_column(JsonDocument, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # lifecycle.toml warn_before_*: when each inactivity warning was queued (once per idle period).
    disable_warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delete_warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Not a column: filled by a query that asks for it with `with_expression` (the sign-in's,
    # idp/credentials/service.py), None when the query that loaded the account did not ask.
    has_security_answers: Mapped[bool | None] = query_expression()

    @validates("email")
    def _keep_email_key(self, key: str, email: str | None) -> str | None:
        self.email_key = email_key(email) if email is not None else None
        return email

    @property
    def is_active(self) -> bool:
        """True when the account may sign in (rules.can_receive_tokens)."""
        return can_receive_tokens(self.state)


class ReservedUsername(db.Model):  # type: ignore[name-defined,misc]
    """A deleted account's username, kept from reuse as a SHA-256 of its lower-case form
    (accounts.toml is_reserved_after_deletion): the name itself is purged with the account."""

    __tablename__ = "reserved_username"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    reserved_at: Mapped[datetime] = mapped_column(UtcDateTime)


def username_digest(username: str) -> str:
    """The reserved-username key: SHA-256 of the username's look-up key (rules.username_key)."""
    return hashlib.sha256(username_key(username).encode()).hexdigest()
