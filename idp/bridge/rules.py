"""Bridge rules, each written once: how an IC username is looked up (as a pure function and as
the SQL expression statements are built from), and the legacy Infinite Campus password hashes:
their formats, and checking a password against one.

The hash checks are pure functions (no database). Every comparison is constant-time
(`hmac.compare_digest`, or bcrypt's own). The formats, also printed by `idp bridge import --help`:

- bcrypt: the usual modular-crypt string `$2a$`, `$2b$` or `$2y$`, a two-digit cost (04-31),
  `$`, then 53 characters of bcrypt's base64 (22 salt + 31 hash). Only the first 72 bytes of
  the password count, as in every bcrypt implementation IC may have used.
- `pbkdf2_sha256$<iterations>$<salt>$<hash>` and `pbkdf2_sha1$<iterations>$<salt>$<hash>`:
  PBKDF2-HMAC with SHA-256 or SHA-1 over the UTF-8 password; salt and hash in standard base64
  (with padding); the hash length (16 to 64 bytes) is the derived key length.
- `salted_sha256$<salt>$<hash>`: SHA-256 of the salt bytes followed by the UTF-8 password;
  salt and 32-byte hash in standard base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable

import bcrypt
from sqlalchemy import ColumnElement, SQLColumnExpression, func

from idp.bridge.errors import VerifierCostError, VerifierPartsError, VerifierSchemeError

BCRYPT = "bcrypt"
PBKDF2_SHA256 = "pbkdf2_sha256"
PBKDF2_SHA1 = "pbkdf2_sha1"
SALTED_SHA256 = "salted_sha256"
# A credential first seen through the district's verification URL (mode `http`): no hash.
REMOTE = "remote"

_BCRYPT_FORMAT = re.compile(r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}")
_BCRYPT_COST = (4, 31)
_BCRYPT_MAX_BYTES = 72
# Upper bound so that a wrong file cannot make one sign-in take minutes.
_PBKDF2_ITERATIONS = (1, 10_000_000)
_PBKDF2_KEY_BYTES = (16, 64)
_PBKDF2_DIGESTS = {PBKDF2_SHA256: "sha256", PBKDF2_SHA1: "sha1"}
_SHA256_BYTES = 32


def ic_username_key(ic_username: str) -> str:
    """What an IC username look-up compares: lower case (IC usernames are unique
    case-insensitively). The caller trims: a file's cell, a typed login name."""
    return ic_username.lower()


def _ic_username_key_sql(ic_username: SQLColumnExpression[str]) -> ColumnElement[str]:
    """ic_username_key in SQL: lower(ic_username), the expression of the unique index
    uq_legacy_credential_ic_username_lower, so a look-up by it is an index look-up."""
    return func.lower(ic_username)


def ic_username_matches_sql(ic_username: SQLColumnExpression[str], key: str) -> ColumnElement[bool]:
    """SQL: the stored `ic_username` is the one whose ic_username_key is `key`."""
    return _ic_username_key_sql(ic_username) == key


def ic_username_among_sql(
    ic_username: SQLColumnExpression[str], keys: Iterable[str]
) -> ColumnElement[bool]:
    """SQL: the stored `ic_username` is one whose ic_username_key is among `keys`."""
    return _ic_username_key_sql(ic_username).in_(keys)


def scheme_of(verifier: str) -> str:
    """The scheme of a legacy hash, after checking every part of it; raise a VerifierError."""
    if verifier.startswith("$2"):
        _bcrypt_cost(verifier)
        return BCRYPT
    scheme = verifier.split("$", 1)[0]
    if scheme in _PBKDF2_DIGESTS:
        _pbkdf2_parts(verifier, scheme)
        return scheme
    if scheme == SALTED_SHA256:
        _salted_parts(verifier)
        return scheme
    raise VerifierSchemeError


def matches(scheme: str, verifier: str, password: str) -> bool:
    """True if the password is the one the hash was made from; raise a VerifierError if the
    stored hash is not a well-formed hash of that scheme."""
    if scheme != scheme_of(verifier):
        raise VerifierSchemeError
    secret = password.encode("utf-8")
    if scheme == BCRYPT:
        return _bcrypt_matches(secret[:_BCRYPT_MAX_BYTES], verifier)
    if scheme == SALTED_SHA256:
        salt, expected = _salted_parts(verifier)
        return hmac.compare_digest(hashlib.sha256(salt + secret).digest(), expected)
    iterations, salt, expected = _pbkdf2_parts(verifier, scheme)
    digest = _PBKDF2_DIGESTS[scheme]
    derived = hashlib.pbkdf2_hmac(digest, secret, salt, iterations, dklen=len(expected))
    return hmac.compare_digest(derived, expected)


def _bcrypt_matches(secret: bytes, verifier: str) -> bool:
    try:
        return bcrypt.checkpw(secret, verifier.encode("ascii"))
    except ValueError:  # a salt bcrypt itself refuses
        raise VerifierPartsError(scheme=BCRYPT) from None


def _bcrypt_cost(verifier: str) -> int:
    found = _BCRYPT_FORMAT.fullmatch(verifier)
    if found is None:
        raise VerifierPartsError(scheme=BCRYPT)
    cost = int(found.group(1))
    low, high = _BCRYPT_COST
    if not low <= cost <= high:
        raise VerifierCostError(scheme=BCRYPT, min=low, max=high)
    return cost


def _pbkdf2_parts(verifier: str, scheme: str) -> tuple[int, bytes, bytes]:
    parts = verifier.split("$")
    if len(parts) != 4 or not parts[1].isascii() or not parts[1].isdigit():
        raise VerifierPartsError(scheme=scheme)
    iterations = int(parts[1])
    low, high = _PBKDF2_ITERATIONS
    if not low <= iterations <= high:
        raise VerifierCostError(scheme=scheme, min=low, max=high)
    salt, expected = _base64(parts[2], scheme), _base64(parts[3], scheme)
    shortest, longest = _PBKDF2_KEY_BYTES
    if not salt or not shortest <= len(expected) <= longest:
        raise VerifierPartsError(scheme=scheme)
    return iterations, salt, expected


def _salted_parts(verifier: str) -> tuple[bytes, bytes]:
    parts = verifier.split("$")
    if len(parts) != 3:
        raise VerifierPartsError(scheme=SALTED_SHA256)
    salt, expected = _base64(parts[1], SALTED_SHA256), _base64(parts[2], SALTED_SHA256)
    if not salt or len(expected) != _SHA256_BYTES:
        raise VerifierPartsError(scheme=SALTED_SHA256)
    return salt, expected


def _base64(text: str, scheme: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise VerifierPartsError(scheme=scheme) from None
