"""The proof, kept in one browser's server-side session, that its user just gave a right IC
password: which legacy credential, when, and the password already re-hashed with argon2id (the
clear password is never kept anywhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class BridgedSignIn:
    """A successful legacy sign-in waiting for its upgrade."""

    credential_id: int
    verified_at: datetime
    # argon2id of the IC password; "" once the upgrade put it on the new account.
    password_hash: str = field(default="", repr=False)

    def as_session(self) -> dict[str, Any]:
        """JSON-safe values for the server-side session."""
        return {
            "credential_id": self.credential_id,
            "verified_at": int(self.verified_at.timestamp()),
            "password_hash": self.password_hash,
        }

    def without_password_hash(self) -> BridgedSignIn:
        """The same proof once the hash is on the account: nothing left to carry."""
        return BridgedSignIn(self.credential_id, self.verified_at)

    @classmethod
    def from_session(cls, value: object) -> BridgedSignIn | None:
        """Read what `as_session` stored; None if absent or not of that shape."""
        if not isinstance(value, dict):
            return None
        credential_id, verified_at = value.get("credential_id"), value.get("verified_at")
        password_hash = value.get("password_hash", "")
        if not isinstance(credential_id, int) or not isinstance(verified_at, int):
            return None
        if not isinstance(password_hash, str):
            return None
        return cls(credential_id, datetime.fromtimestamp(verified_at, UTC), password_hash)
