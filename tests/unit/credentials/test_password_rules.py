"""Password rules (NIST SP 800-63B): length, control characters, username, common passwords."""

from __future__ import annotations

import unicodedata

import pytest

from idp.credentials.errors import (
    PasswordCommonError,
    PasswordContainsUsernameError,
    PasswordHasControlCharacterError,
    PasswordTooLongError,
    PasswordTooShortError,
)
from idp.credentials.rules import check_password, common_passwords
from idp.policy import PasswordPolicy

POLICY = PasswordPolicy(min_length=12, max_length=128)


@pytest.mark.parametrize(
    "password",
    [
        "qwerty123456",
        "QWERTY123456",
        "  LeaveMeAlone  ",
        "FinalFantasy\u00a0",
        "\uff51\uff57\uff45\uff52\uff54\uff59123456",  # fullwidth letters: NFKC gives qwerty
        "password1234",
        "iSeeDeadPeople",
    ],
)
def test_refuses_a_password_on_the_common_password_list(password: str) -> None:
    with pytest.raises(PasswordCommonError) as caught:
        check_password(password, POLICY, "parentuser1")

    assert caught.value.code == "password_common"


def test_refuses_a_password_one_character_under_the_minimum() -> None:
    with pytest.raises(PasswordTooShortError) as caught:
        check_password("x" * 11, POLICY)

    assert caught.value.params == {"min": 12}


def test_counts_length_after_nfkc_so_a_decomposed_accent_counts_once() -> None:
    decomposed = "cafe\u0301 o lait"  # 12 code points typed, 11 after NFKC

    with pytest.raises(PasswordTooShortError):
        check_password(decomposed, POLICY)


def test_refuses_a_password_one_character_over_the_maximum() -> None:
    with pytest.raises(PasswordTooLongError) as caught:
        check_password("long words " * 11 + "abcdefgh", POLICY)

    assert caught.value.params == {"max": 128}


@pytest.mark.parametrize("control", ["\t", "\n", "\r", "\x00", "\x7f"])
def test_refuses_a_password_with_a_control_character(control: str) -> None:
    with pytest.raises(PasswordHasControlCharacterError):
        check_password(f"quiet river{control}blue kettle", POLICY)


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("parentuser1 is my name", "parentuser1"),
        ("my name is ParentUser1!", "parentuser1"),
        ("hello PARENTUSER1 world", "ParentUser1"),
    ],
)
def test_refuses_a_password_containing_the_username_in_any_case(
    password: str, username: str
) -> None:
    with pytest.raises(PasswordContainsUsernameError):
        check_password(password, POLICY, username)


@pytest.mark.parametrize(
    ("password", "username", "error"),
    [
        ("password", None, PasswordTooShortError),  # common, but too short is said first
        ("leavemealone", "alone", PasswordContainsUsernameError),  # common and holds the name
    ],
)
def test_reports_the_first_rule_broken_with_the_blocklist_last(
    password: str, username: str | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_password(password, POLICY, username)


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("correct horse battery staple", "parentuser1"),
        ("lantern Orchard 7 velvet tuba", None),
        ("días de lluvia en el puerto", "maria.lee"),
        ("x" * 128, None),
    ],
)
def test_accepts_a_long_uncommon_passphrase(password: str, username: str | None) -> None:
    assert check_password(password, POLICY, username) is None


def test_bundled_list_holds_at_least_ten_thousand_passwords() -> None:
    assert len(common_passwords()) >= 10_000


def test_every_bundled_entry_is_already_normalised() -> None:
    entries = common_passwords()

    not_normalised = [
        entry
        for entry in entries
        if not entry or entry != unicodedata.normalize("NFKC", entry).casefold().strip()
    ]

    assert not_normalised == []
