"""Pure account rules."""

from __future__ import annotations

import pytest

from idp.accounts import rules


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("abcdefgh", True),
        ("ABCdef12345678901234", True),
        ("abcdefg", False),
        ("abcdefghijklmnopqrstu", False),
        ("abc defgh", False),
        ("abcdéfgh", False),
        ("abcdefgh\n", False),
        ("\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", False),  # full-width digits
    ],
)
def test_username_rule_is_eight_to_twenty_ascii_letters_or_digits(
    username: str, expected: bool
) -> None:
    assert rules.is_valid_username(username, 8, 20) is expected


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("parent@example.org", True),
        ("a.b+c@sub.example.org", True),
        ("parent@localhost", False),
        ("parent example@example.org", False),
        ("@example.org", False),
        ("x" * 250 + "@example.org", False),
    ],
)
def test_email_shape(email: str, expected: bool) -> None:
    assert rules.is_valid_email(email) is expected


def test_subjects_are_random_and_long() -> None:
    subjects = {rules.new_sub() for _ in range(100)}

    assert len(subjects) == 100
    assert all(len(sub) == 43 for sub in subjects)
