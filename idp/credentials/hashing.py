"""argon2id hashing (argon2-cffi) with parameters from policies/credentials.toml."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from idp.policy import HashingPolicy


class SecretHasher:
    """Hashes and verifies passwords and security answers; never keeps the clear text."""

    def __init__(self, policy: HashingPolicy) -> None:
        self._hasher = PasswordHasher(
            time_cost=policy.time_cost,
            memory_cost=policy.memory_cost_kib,
            parallelism=policy.parallelism,
            type=Type.ID,
        )
        # Verified against when a sign-in name is unknown, so both paths cost the same.
        self._dummy_hash = self._hasher.hash("not a real password: timing equaliser")

    def hash(self, secret: str) -> str:
        """An argon2id PHC string for the secret."""
        return self._hasher.hash(secret)

    def verify(self, stored_hash: str | None, secret: str) -> bool:
        """True if the secret matches; an unknown account still spends one verification."""
        try:
            matches = self._hasher.verify(stored_hash or self._dummy_hash, secret)
            return matches and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the policy's."""
        return self._hasher.check_needs_rehash(stored_hash)
