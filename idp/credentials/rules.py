"""Pure password rules (NIST SP 800-63B): length and context, never composition rules."""

from __future__ import annotations

import unicodedata

from idp.credentials.errors import (
    PasswordContainsUsernameError,
    PasswordHasControlCharacterError,
    PasswordTooLongError,
    PasswordTooShortError,
)
from idp.policy import PasswordPolicy


def check_password(password: str, policy: PasswordPolicy, username: str | None = None) -> None:
    """Raise the first rule the password breaks; return None when it is acceptable.

    Length counts Unicode code points after NFKC (NIST SP 800-63B 5.1.1.2), so "é" typed two
    ways counts once. TODO(issue 5): refuse passwords on the bundled common-password blocklist.
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
