"""Properties of the password rules (NIST SP 800-63B, idp/credentials/rules.py) and of the
security answers' normalisation (idp/credentials/questions.py)."""

from __future__ import annotations

import re
import string
import unicodedata

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from idp.credentials.errors import (
    PasswordCommonError,
    PasswordContainsUsernameError,
    PasswordHasControlCharacterError,
    PasswordTooLongError,
    PasswordTooShortError,
)
from idp.credentials.questions import normalize_answer
from idp.credentials.rules import check_password, common_passwords, normalise_for_blocklist
from idp.policy import PasswordPolicy

POLICY = PasswordPolicy(min_length=12, max_length=128)  # policies/credentials.toml
PASSWORD_ERRORS = (
    PasswordTooShortError,
    PasswordTooLongError,
    PasswordHasControlCharacterError,
    PasswordContainsUsernameError,
    PasswordCommonError,
)
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, database=None)
USERNAME_ALPHABET = string.ascii_letters + string.digits
# Printable ASCII without letters and digits: cannot complete a username nor start a new one.
FILLER = " !#$%&()*+,-./:;<=>?@[]^_{|}~"

policies = st.builds(
    lambda low, extra: PasswordPolicy(min_length=low, max_length=max(64, low + extra)),
    st.integers(min_value=8, max_value=40),
    st.integers(min_value=0, max_value=100),
)
usernames = st.text(alphabet=USERNAME_ALPHABET, min_size=8, max_size=20)
passwords = st.one_of(
    st.text(max_size=140),
    st.text(alphabet=string.printable + "\u00e9\u0301\uff41\u00a0\u2028\x7f\x85", max_size=140),
)
# Mostly of an acceptable length, so that many are accepted.
long_passwords = st.one_of(
    st.text(min_size=8, max_size=140),
    st.text(alphabet=string.ascii_letters + string.digits + FILLER, min_size=8, max_size=140),
)


def _outcome(password: str, username: str | None, policy: PasswordPolicy = POLICY) -> type | None:
    """The error class check_password raises, or None when it accepts the password."""
    try:
        check_password(password, policy, username)
    except PASSWORD_ERRORS as refused:
        return type(refused)
    return None


def _case_variant(text: str, flips: list[bool]) -> str:
    """`text` with the case of the characters where `flips` says True swapped."""
    padded = flips[: len(text)] + [False] * (len(text) - len(flips))
    return "".join(
        char.swapcase() if flip else char for char, flip in zip(text, padded, strict=True)
    )


@PROPERTY_SETTINGS
@given(password=passwords, username=st.one_of(st.none(), st.just(""), usernames, st.text()))
def test_check_password_accepts_or_refuses_with_one_of_the_five_password_errors(
    password: str, username: str | None
) -> None:
    outcome = _outcome(password, username)

    assert outcome is None or outcome in PASSWORD_ERRORS


@PROPERTY_SETTINGS
@given(password=long_passwords, username=st.one_of(st.none(), usernames), policy=policies)
def test_an_accepted_password_breaks_no_rule(
    password: str, username: str | None, policy: PasswordPolicy
) -> None:
    assume(_outcome(password, username, policy) is None)
    normalised = unicodedata.normalize("NFKC", password)

    assert policy.min_length <= len(normalised) <= policy.max_length
    assert not any(unicodedata.category(char) == "Cc" for char in normalised)
    assert username is None or username.lower() not in normalised.lower()
    assert normalise_for_blocklist(password) not in common_passwords()


@PROPERTY_SETTINGS
@given(password=passwords, username=st.one_of(st.none(), usernames), policy=policies)
def test_a_password_shorter_than_the_minimum_is_refused_as_too_short_first(
    password: str, username: str | None, policy: PasswordPolicy
) -> None:
    assume(len(unicodedata.normalize("NFKC", password)) < policy.min_length)

    with pytest.raises(PasswordTooShortError) as caught:
        check_password(password, policy, username)

    assert caught.value.params == {"min": policy.min_length}


@PROPERTY_SETTINGS
@given(password=st.text(min_size=65, max_size=300), extra=st.integers(0, 60), policy=policies)
def test_a_password_longer_than_the_maximum_is_refused_as_too_long(
    password: str, extra: int, policy: PasswordPolicy
) -> None:
    too_long = password + "x" * (policy.max_length + 1 + extra)

    with pytest.raises(PasswordTooLongError) as caught:
        check_password(too_long, policy)

    assert caught.value.params == {"max": policy.max_length}


@PROPERTY_SETTINGS
@given(
    before=st.text(alphabet=string.ascii_letters + " ", min_size=6, max_size=60),
    control=st.characters(categories=["Cc"]),
    after=st.text(alphabet=string.ascii_letters + " ", min_size=6, max_size=60),
    username=st.one_of(st.none(), usernames),
)
def test_a_control_character_refuses_a_password_of_acceptable_length(
    before: str, control: str, after: str, username: str | None
) -> None:
    with pytest.raises(PasswordHasControlCharacterError):
        check_password(before + control + after, POLICY, username)


@PROPERTY_SETTINGS
@given(
    username=usernames,
    flips=st.lists(st.booleans(), max_size=20),
    fullwidth=st.booleans(),
    before=st.text(alphabet=FILLER, max_size=40),
    after=st.text(alphabet=FILLER, max_size=40),
)
@example(username="parentuser1", flips=[], fullwidth=True, before="", after="!!")
def test_a_password_holding_the_username_in_any_case_or_width_is_refused(
    username: str, flips: list[bool], fullwidth: bool, before: str, after: str
) -> None:
    embedded = _case_variant(username, flips)
    if fullwidth:  # NFKC folds full-width letters and digits back to ASCII (U+FF01..U+FF5E)
        embedded = "".join(chr(ord(char) + 0xFEE0) for char in embedded)
    password = (before + embedded + after).ljust(POLICY.min_length, "!")

    with pytest.raises(PasswordContainsUsernameError):
        check_password(password, POLICY, username)


@PROPERTY_SETTINGS
@given(password=passwords, username=usernames, flips=st.lists(st.booleans(), max_size=20))
def test_the_outcome_does_not_depend_on_the_case_of_the_username(
    password: str, username: str, flips: list[bool]
) -> None:
    assert _outcome(password, username) is _outcome(password, _case_variant(username, flips))


@PROPERTY_SETTINGS
@given(password=passwords, username=st.one_of(st.none(), usernames))
@example(password="caf\u00e9 au lait!", username=None)
@example(password="\uff51\uff57\uff45\uff52\uff54\uff59123456", username=None)
def test_the_outcome_does_not_depend_on_the_unicode_normal_form(
    password: str, username: str | None
) -> None:
    outcomes = {
        _outcome(unicodedata.normalize(form, password), username)
        for form in ("NFC", "NFD", "NFKC", "NFKD")
    }

    assert outcomes == {_outcome(password, username)}


# The entries the length bounds let through (the list also holds shorter ones).
_LONG_COMMON = sorted(entry for entry in common_passwords() if 12 <= len(entry) <= 128)


@PROPERTY_SETTINGS
@given(
    entry=st.sampled_from(_LONG_COMMON),
    flips=st.lists(st.booleans(), max_size=40),
    before=st.text(alphabet=" \u00a0\u3000", max_size=3),
    after=st.text(alphabet=" \u00a0\u3000", max_size=3),
)
def test_a_common_password_is_refused_in_any_case_and_with_surrounding_spaces(
    entry: str, flips: list[bool], before: str, after: str
) -> None:
    variant = _case_variant(entry, flips)
    assume(variant.casefold() == entry)  # a swapcase that does not fold back is another word
    assume(len(unicodedata.normalize("NFKC", before + variant + after)) <= POLICY.max_length)

    with pytest.raises(PasswordCommonError):
        check_password(before + variant + after, POLICY)


@PROPERTY_SETTINGS
@given(
    words=st.lists(
        st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=9), min_size=3, max_size=6
    ),
    username=usernames,
)
def test_a_passphrase_of_plain_words_is_accepted_unless_common_or_holding_the_username(
    words: list[str], username: str
) -> None:
    passphrase = " ".join(words).ljust(POLICY.min_length, "!")
    is_common = normalise_for_blocklist(passphrase) in common_passwords()
    holds_username = username.lower() in passphrase

    outcome = _outcome(passphrase, username)

    if holds_username:
        assert outcome is PasswordContainsUsernameError
    elif is_common:
        assert outcome is PasswordCommonError
    else:
        assert outcome is None


# Security answers: "  SÃO  paulo " matches "São Paulo" (questions.py). What varies between two
# people typing the same answer: case, runs of spaces, Unicode forms.
WHITESPACE = " \t\n\r\u00a0\u2003\u3000"
words = st.text(
    alphabet=st.characters(categories=["L", "N", "P", "S", "M"]), min_size=1, max_size=12
)
# Three polytonic Greek letters with iota subscript whose upper case puts the accent on
# another letter: no case-insensitive normal form maps all their case variants together
# (checked over every code point; documented in idp/credentials/questions.py).
_NO_CASE_ROUND_TRIP = frozenset("\u1fb7\u1fc7\u1ff7")
answers = st.one_of(
    st.text(max_size=40),
    st.lists(words, min_size=1, max_size=5).map(" ".join),
).filter(lambda answer: not _NO_CASE_ROUND_TRIP & set(answer))


@PROPERTY_SETTINGS
@given(answer=answers)
@example(answer="  S\u00c3O  paulo ")
@example(answer="\u00a8")  # NFKC gives a space and a combining diaeresis
def test_answer_normalisation_is_idempotent(answer: str) -> None:
    once = normalize_answer(answer)

    assert normalize_answer(once) == once


@PROPERTY_SETTINGS
@given(answer=answers)
def test_a_normalised_answer_has_no_surrounding_space_and_no_run_of_spaces(answer: str) -> None:
    normalised = normalize_answer(answer)

    assert normalised == normalised.strip()
    assert re.search(r"\s\s", normalised) is None
    assert re.search(r"\s", normalised.replace(" ", "")) is None


@PROPERTY_SETTINGS
@given(
    parts=st.lists(words, min_size=1, max_size=5),
    separators=st.lists(st.text(alphabet=WHITESPACE, min_size=1, max_size=4), max_size=5),
    before=st.text(alphabet=WHITESPACE, max_size=3),
    after=st.text(alphabet=WHITESPACE, max_size=3),
)
def test_answer_normalisation_ignores_runs_and_kinds_of_space(
    parts: list[str], separators: list[str], before: str, after: str
) -> None:
    spaced = parts[0]
    for index, part in enumerate(parts[1:]):
        spaced += (separators[index] if index < len(separators) else "\t ") + part

    assert normalize_answer(before + spaced + after) == normalize_answer(" ".join(parts))


@PROPERTY_SETTINGS
@given(answer=answers, flips=st.lists(st.booleans(), max_size=60))
@example(answer="S\u00e3o Paulo", flips=[True] * 9)
@example(answer="Stra\u00dfe", flips=[])
@example(
    answer="I\u015f\u0131k", flips=[]
)  # Turkish, dotless i: upper() gives "IŞIK", casefold() "işik"
def test_answer_normalisation_ignores_case(answer: str, flips: list[bool]) -> None:
    variants = {answer.upper(), answer.lower(), answer.title(), _case_variant(answer, flips)}

    assert {normalize_answer(variant) for variant in variants} == {normalize_answer(answer)}


@PROPERTY_SETTINGS
@given(answer=answers)
def test_answer_normalisation_ignores_the_unicode_normal_form(answer: str) -> None:
    forms = {normalize_answer(unicodedata.normalize(form, answer)) for form in ("NFC", "NFD")}

    assert forms == {normalize_answer(answer)}


@pytest.mark.parametrize(
    ("first", "second"),
    [("S\u00e3o Paulo", "Sao Paulo"), ("M\u00fcller", "Muller"), ("se\u00f1or", "senor")],
)
def test_accents_are_part_of_the_answer(first: str, second: str) -> None:
    assert normalize_answer(first) != normalize_answer(second)
