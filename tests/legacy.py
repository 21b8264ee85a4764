"""Legacy IC hashes for tests, made the way each documented scheme says (cheap work factors)."""

from __future__ import annotations

import base64
import hashlib

import bcrypt

IC_PASSWORD = "Campus-Legacy-2019"
SALT = b"legacy-salt-16b!"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def bcrypt_hash(password: str, prefix: str = "$2b$") -> str:
    """bcrypt at cost 4 (the fastest), with the chosen $2?$ prefix."""
    made = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    return prefix + made[4:]


def pbkdf2_hash(password: str, digest: str = "sha256", iterations: int = 1000) -> str:
    """pbkdf2_<digest>$<iterations>$<salt b64>$<hash b64>."""
    derived = hashlib.pbkdf2_hmac(digest, password.encode(), SALT, iterations)
    return f"pbkdf2_{digest}${iterations}${_b64(SALT)}${_b64(derived)}"


def salted_sha256_hash(password: str) -> str:
    """salted_sha256$<salt b64>$<sha256(salt + password) b64>."""
    return f"salted_sha256${_b64(SALT)}${_b64(hashlib.sha256(SALT + password.encode()).digest())}"


def legacy_hash(scheme: str, password: str = IC_PASSWORD) -> str:
    """A hash of `password` in the named scheme."""
    makers = {
        "bcrypt": bcrypt_hash,
        "pbkdf2_sha256": pbkdf2_hash,
        "pbkdf2_sha1": lambda secret: pbkdf2_hash(secret, "sha1"),
        "salted_sha256": salted_sha256_hash,
    }
    return makers[scheme](password)
