"""Pure password rules (NIST SP 800-63B): length and context, never composition rules."""

from __future__ import annotations

import functools
import importlib.resources
import unicodedata

from idp.credentials.errors import (
    PasswordCommonError,
    PasswordContainsUsernameError,
    PasswordHasControlCharacterError,
    PasswordTooLongError,
    PasswordTooShortError,
)
from idp.policy import PasswordPolicy


def check_password(password: str, policy: PasswordPolicy, username: str | None = None) -> None:
    """Raise the first rule the password breaks; return None when it is acceptable.

    Length counts Unicode code points after NFKC (NIST SP 800-63B 5.1.1.2), so "é" typed two
    ways counts once. The checks run in this order: too short, too long, control character,
    contains the username, on the common-password blocklist.
    """
    normalised = unicodedata.normalize("NFKC", password)
    if len(normalised) < policy.min_length:
        raise PasswordTooShortError(min=policy.min_length)
    if len(normalised) > policy.max_length:
        raise PasswordTooLongError(max=policy.max_length)
    if any(unicodedata.category(char) == "Cc" for char in normalised):
        raise PasswordHasControlCharacterError
    if username and username.lower() in normalised.lower():
        raise PasswordContainsUsernameError
    if normalise_for_blocklist(password) in common_passwords():
        raise PasswordCommonError


def normalise_for_blocklist(password: str) -> str:
    """The form compared with the blocklist: NFKC, case folded, surrounding whitespace stripped."""
    return unicodedata.normalize("NFKC", password).casefold().strip()


@functools.lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled common-password blocklist (see data/README.md), read once per process."""
    resource = importlib.resources.files("idp.credentials") / "data" / "common_passwords.txt"
    text = resource.read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line)
