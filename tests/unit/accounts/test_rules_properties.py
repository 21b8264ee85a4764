"""Properties of the pure account rules (idp/accounts/rules.py): the username rule of the FAQ
(8-20 ASCII letters and digits, DESIGN.md 3) and the email shape and normalisation."""

from __future__ import annotations

import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from idp.accounts import rules

USERNAME_ALPHABET = string.ascii_letters + string.digits
# Unicode letters and digits that look like the allowed ones: full-width, Arabic-Indic,
# superscript, Kelvin sign, long s, dotless i, accented Latin.
LOOKALIKES = "\uff21\uff41\uff10\u0661\u00b2\u212a\u017f\u0131\u00e9\u00c5\u00df"
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, database=None)


def _follows_faq_rule(username: str, min_length: int, max_length: int) -> bool:
    """The rule written out without a regex: length in bounds, each character in A-Z a-z 0-9."""
    return min_length <= len(username) <= max_length and all(
        char in USERNAME_ALPHABET for char in username
    )


bounds = st.integers(min_value=8, max_value=20).flatmap(
    lambda low: st.tuples(st.just(low), st.integers(min_value=low, max_value=20))
)
near_usernames = st.text(
    alphabet=st.sampled_from(USERNAME_ALPHABET + LOOKALIKES + " \t\n_-.@\x00"),
    min_size=0,
    max_size=24,
)


@PROPERTY_SETTINGS
@given(username=st.one_of(near_usernames, st.text(max_size=30)), limits=bounds)
@example(username="abcdefgh\n", limits=(8, 20))
@example(username="\uff11" * 8, limits=(8, 20))
def test_a_username_is_accepted_exactly_when_it_follows_the_faq_rule(
    username: str, limits: tuple[int, int]
) -> None:
    low, high = limits

    assert rules.is_valid_username(username, low, high) is _follows_faq_rule(username, low, high)


@PROPERTY_SETTINGS
@given(username=st.text(alphabet=USERNAME_ALPHABET, min_size=8, max_size=20))
def test_every_username_of_eight_to_twenty_letters_and_digits_is_accepted(username: str) -> None:
    assert rules.is_valid_username(username, 8, 20)


@PROPERTY_SETTINGS
@given(
    valid=st.text(alphabet=USERNAME_ALPHABET, min_size=7, max_size=19),
    intruder=st.characters(
        codec="utf-8", exclude_characters=USERNAME_ALPHABET, exclude_categories=["Cs"]
    ),
    position=st.integers(min_value=0, max_value=19),
)
def test_one_character_outside_ascii_letters_and_digits_refuses_a_username(
    valid: str, intruder: str, position: int
) -> None:
    at = min(position, len(valid))
    username = valid[:at] + intruder + valid[at:]

    assert not rules.is_valid_username(username, 8, 20)


@PROPERTY_SETTINGS
@given(username=st.text(alphabet=USERNAME_ALPHABET, min_size=8, max_size=20))
def test_username_rule_does_not_depend_on_case(username: str) -> None:
    variants = {username, username.lower(), username.upper(), username.swapcase()}

    assert all(rules.is_valid_username(variant, 8, 20) for variant in variants)


local_parts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="@", exclude_categories=["Z", "Cc"]),
    min_size=1,
    max_size=20,
).filter(lambda part: part.strip() == part and not any(char.isspace() for char in part))
domain_labels = st.text(
    alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12
)
addresses = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    local_parts,
    domain_labels,
    st.sampled_from(["org", "com", "net", "edu", "us"]),
)
spaces = st.text(alphabet=" \t\n\u00a0\u3000", max_size=3)


@PROPERTY_SETTINGS
@given(email=st.one_of(addresses, st.text(max_size=40)), before=spaces, after=spaces)
def test_email_normalisation_is_idempotent(email: str, before: str, after: str) -> None:
    once = rules.normalize_email(before + email + after)

    assert rules.normalize_email(once) == once


@PROPERTY_SETTINGS
@given(email=addresses, before=spaces, after=spaces)
def test_email_normalisation_strips_surrounding_space_and_keeps_case(
    email: str, before: str, after: str
) -> None:
    normalised = rules.normalize_email(before + email + after)

    assert normalised == email
    assert rules.is_valid_email(normalised)


@PROPERTY_SETTINGS
@given(email=addresses)
def test_case_variants_of_a_valid_email_are_valid(email: str) -> None:
    variants = {email.lower(), email.upper(), email.swapcase()}

    assert all(rules.is_valid_email(variant) for variant in variants if len(variant) <= 254)


@PROPERTY_SETTINGS
@given(email=st.one_of(addresses, st.text(max_size=300)), limit=st.integers(3, 254))
def test_an_accepted_email_has_one_at_sign_no_space_a_dotted_domain_and_fits_the_limit(
    email: str, limit: int
) -> None:
    if not rules.is_valid_email(email, limit):
        return
    local, _, domain = email.partition("@")

    assert len(email) <= limit
    assert email.count("@") == 1
    assert local
    assert not any(char.isspace() for char in email)
    assert "." in domain[1:-1]


@PROPERTY_SETTINGS
@given(email=addresses, padding=st.integers(min_value=1, max_value=300))
def test_an_email_over_the_limit_is_refused(email: str, padding: int) -> None:
    long_email = "x" * max(0, 255 - len(email)) + "y" * padding + email

    assert not rules.is_valid_email(long_email)
