"""Account rules, each written once: as a pure function and, where a statement needs it, as
the SQL expression that statement is built from (username and email shape, which accounts may
receive tokens, how a username is looked up, fresh subject identifiers)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, func


class AccountState(StrEnum):
    """DESIGN.md section 4. Lockout is a separate, temporary flag (credentials), not a state."""

    PENDING_EMAIL = "pending_email"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    DISABLED = "disabled"
    DELETED = "deleted"
    CANCELLED = "cancelled"
    REMOVED = "removed"


def can_receive_tokens(state: str | None) -> bool:
    """True when an account in `state` may sign in to apps and receive or use tokens: an
    active one only (DESIGN.md 4). None: no account."""
    return state == AccountState.ACTIVE


def can_receive_tokens_sql(state: SQLColumnExpression[str]) -> ColumnElement[bool]:
    """can_receive_tokens in SQL, over an account's `state` column."""
    return state == AccountState.ACTIVE


def username_key(username: str) -> str:
    """What a username look-up compares: trimmed, lower case. Usernames are ASCII letters and
    digits (the username_format constraints), where lower() is the same on every database."""
    return username.strip().lower()


def username_matches_sql(
    username: SQLColumnExpression[str | None], key: Any
) -> ColumnElement[bool]:
    """SQL: the stored `username` is the one whose username_key is `key` (a value or a bound
    parameter). lower(username) is the unique index uq_account_username_lower: an index look-up."""
    matches: ColumnElement[bool] = func.lower(username) == key
    return matches


_USERNAME = re.compile(r"[A-Za-z0-9]+")
# Deliberately loose: one @, something on each side, a dot in the domain, no spaces.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_MAX_LENGTH = 254


def is_valid_username(username: str, min_length: int, max_length: int) -> bool:
    """True for min..max ASCII letters and digits only."""
    return min_length <= len(username) <= max_length and _USERNAME.fullmatch(username) is not None


def normalize_email(email: str) -> str:
    """Trim surrounding spaces; case is kept for display, uniqueness ignores it."""
    return email.strip()


def email_key(email: str) -> str:
    """What email uniqueness compares: NFKC and full Unicode case folding, the same on every
    database (SQLite's lower() folds ASCII only, so "Élise@" and "élise@" both registered)."""
    return unicodedata.normalize("NFKC", normalize_email(email)).casefold()


def is_valid_email(email: str, max_length: int = EMAIL_MAX_LENGTH) -> bool:
    """A plausible address a verification link can be sent to."""
    return len(email) <= max_length and _EMAIL.fullmatch(email) is not None


def new_sub() -> str:
    """A random, stable subject identifier (256 bits), never derived from the username."""
    return secrets.token_urlsafe(32)
