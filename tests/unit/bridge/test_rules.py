"""Legacy hash schemes: the right password matches, a wrong one does not, a bad hash is refused."""

from __future__ import annotations

import pytest

from idp.bridge import rules
from idp.bridge.errors import (
    VerifierCostError,
    VerifierError,
    VerifierPartsError,
    VerifierSchemeError,
)
from tests.legacy import IC_PASSWORD, bcrypt_hash, legacy_hash, pbkdf2_hash

SCHEMES = ["bcrypt", "pbkdf2_sha256", "pbkdf2_sha1", "salted_sha256"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_right_password_matches(scheme: str) -> None:
    verifier = legacy_hash(scheme)

    assert rules.matches(scheme, verifier, IC_PASSWORD) is True


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    "password", ["Campus-Legacy-2018", "campus-legacy-2019", "", IC_PASSWORD + " "]
)
def test_wrong_password_does_not_match(scheme: str, password: str) -> None:
    verifier = legacy_hash(scheme)

    assert rules.matches(scheme, verifier, password) is False


@pytest.mark.parametrize("scheme", SCHEMES)
def test_scheme_is_read_from_the_hash(scheme: str) -> None:
    assert rules.scheme_of(legacy_hash(scheme)) == scheme


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
def test_every_bcrypt_prefix_is_accepted(prefix: str) -> None:
    verifier = bcrypt_hash(IC_PASSWORD, prefix)

    assert (rules.scheme_of(verifier), rules.matches("bcrypt", verifier, IC_PASSWORD)) == (
        "bcrypt",
        True,
    )


def test_bcrypt_counts_only_the_first_72_bytes_as_every_bcrypt_did() -> None:
    long_password = "x" * 72
    verifier = bcrypt_hash(long_password)

    assert rules.matches("bcrypt", verifier, long_password + "anything after byte 72") is True


def test_non_ascii_passwords_are_hashed_as_utf8() -> None:
    verifier = pbkdf2_hash("Mật khẩu cũ")

    assert rules.matches("pbkdf2_sha256", verifier, "Mật khẩu cũ") is True


def test_the_demo_loader_format_is_a_pbkdf2_sha256_hash() -> None:
    from idp.demo.data import DEMO_IC_PASSWORD
    from idp.demo.loader import legacy_verifier

    verifier = legacy_verifier(DEMO_IC_PASSWORD)

    assert rules.matches(rules.scheme_of(verifier), verifier, DEMO_IC_PASSWORD) is True


_GOOD_B64 = "bGVnYWN5LXNhbHQtMTZiIQ=="  # 16 bytes
_HASH32 = "A" * 43 + "="  # 32 bytes


@pytest.mark.parametrize(
    ("verifier", "error"),
    [
        ("", VerifierSchemeError),
        ("md5$abc", VerifierSchemeError),
        ("plain-text-password", VerifierSchemeError),
        ("$1$saltsalt$hash", VerifierSchemeError),
        ("$2b$04$tooshort", VerifierPartsError),
        ("$2x$04$" + "a" * 53, VerifierPartsError),
        ("$2b$03$" + "a" * 53, VerifierCostError),
        ("$2b$32$" + "a" * 53, VerifierCostError),
        ("pbkdf2_sha256$1000$" + _GOOD_B64, VerifierPartsError),
        ("pbkdf2_sha256$many$" + _GOOD_B64 + "$" + _HASH32, VerifierPartsError),
        ("pbkdf2_sha256$0$" + _GOOD_B64 + "$" + _HASH32, VerifierCostError),
        ("pbkdf2_sha256$10000001$" + _GOOD_B64 + "$" + _HASH32, VerifierCostError),
        ("pbkdf2_sha256$1000$not base64!$" + _HASH32, VerifierPartsError),
        ("pbkdf2_sha256$1000$$" + _HASH32, VerifierPartsError),
        ("pbkdf2_sha1$1000$" + _GOOD_B64 + "$AAAA", VerifierPartsError),
        # Arabic-Indic digits are digits to str.isdigit(), not to the format.
        ("pbkdf2_sha256$\u0661\u0660\u0660\u0660$" + _GOOD_B64 + "$" + _HASH32, VerifierPartsError),
        ("salted_sha256$" + _GOOD_B64 + "$" + _GOOD_B64, VerifierPartsError),
        ("salted_sha256$" + _HASH32, VerifierPartsError),
        ("salted_sha256$$" + _HASH32, VerifierPartsError),
    ],
)
def test_malformed_hash_is_refused_with_its_reason(
    verifier: str, error: type[VerifierError]
) -> None:
    with pytest.raises(VerifierError) as caught:
        rules.scheme_of(verifier)

    assert type(caught.value) is error


def test_a_hash_stored_under_another_scheme_is_refused() -> None:
    with pytest.raises(VerifierSchemeError):
        rules.matches("salted_sha256", legacy_hash("bcrypt"), IC_PASSWORD)


def test_malformed_stored_hash_raises_instead_of_matching() -> None:
    with pytest.raises(VerifierPartsError):
        rules.matches("pbkdf2_sha256", "pbkdf2_sha256$1000$@@@$@@@", IC_PASSWORD)


def test_a_bcrypt_hash_whose_salt_bcrypt_refuses_is_malformed() -> None:
    with pytest.raises(VerifierPartsError):
        rules.matches("bcrypt", "$2b$04$" + "z" * 53, IC_PASSWORD)
