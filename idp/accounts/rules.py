"""Pure account rules: username and email shape, fresh subject identifiers."""

from __future__ import annotations

import re
import secrets
import unicodedata

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
