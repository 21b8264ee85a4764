"""Properties of account uniqueness (DESIGN.md 3): a username is unique without case, for ever;
an email is unique without case among the accounts that hold it. Through AccountService and
the database's own unique indexes, on SQLite and PostgreSQL."""

from __future__ import annotations

import string
from collections.abc import Callable

import pytest
from flask import Flask
from hypothesis import example, given, settings
from hypothesis import strategies as st

from idp.accounts import rules
from idp.accounts.errors import EmailInUseError, UsernameInvalidError, UsernameTakenError
from idp.accounts.models import AccountKind, AccountState
from idp.accounts.service import NewAccount
from idp.extensions import db
from idp.services import Services
from tests.conftest import unit_of_work

DB_SETTINGS = settings(max_examples=40, deadline=None, database=None)
USERNAME_ALPHABET = string.ascii_letters + string.digits
# Letters whose upper and lower case are one character each, both ways (Latin-1, Latin
# Extended-A, Greek, Cyrillic): what a parent's address may hold besides ASCII.
_PAIRED = "".join(
    char
    for block in ((0xC0, 0x17F), (0x391, 0x3C9), (0x410, 0x44F))
    for char in map(chr, range(*block))
    if char.isalpha()
    and char.upper() != char.lower()
    and len(char.upper()) == len(char.lower()) == 1
    and char.upper().lower() == char.lower()
    and char.lower().upper() == char.upper()
)

usernames = st.text(alphabet=USERNAME_ALPHABET, min_size=8, max_size=20)
flips = st.lists(st.booleans(), min_size=20, max_size=20)


def _emails(alphabet: str) -> st.SearchStrategy[str]:
    local = st.text(alphabet=alphabet + ".+_-", min_size=1, max_size=20)
    domain = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=15)
    return st.builds(lambda lp, d: f"{lp}@{d}.org", local, domain)


def _case_variant(text: str, swaps: list[bool]) -> str:
    """`text` with the case of the characters where `swaps` says True swapped."""
    padded = swaps[: len(text)] + [False] * (len(text) - len(swaps))
    return "".join(
        char.swapcase() if swap else char for char, swap in zip(text, padded, strict=True)
    )


def _new(username: str | None, email: str | None) -> NewAccount:
    return NewAccount(
        kind=AccountKind.GUARDIAN, state=AccountState.ACTIVE, username=username, email=email
    )


def _hold(services: Services, username: str, email: str | None) -> None:
    """Create and commit an account, unless an earlier example already holds the name or email
    (examples share the test's database; an exact duplicate is refused by the unique index)."""
    try:
        services.accounts.create(_new(username, email))
    except (UsernameTakenError, EmailInUseError):
        db.session.rollback()
    else:
        db.session.commit()


def _raised(action: Callable[[], object]) -> type[Exception] | None:
    try:
        action()
    except (UsernameTakenError, EmailInUseError, UsernameInvalidError) as refused:
        return type(refused)
    return None


def test_a_username_differing_only_in_case_is_always_taken(app: Flask, services: Services) -> None:
    @DB_SETTINGS
    @given(username=usernames, swaps=flips)
    @example(username="parentuser1", swaps=[True] * 20)
    def check(username: str, swaps: list[bool]) -> None:
        _hold(services, username, None)
        variant = _case_variant(username, swaps)

        taken = services.accounts.is_username_taken(variant)
        refused = _raised(lambda: services.accounts.create(_new(variant, None)))
        db.session.rollback()

        assert taken
        assert refused is UsernameTakenError

    check()


def test_the_service_takes_exactly_the_usernames_the_rule_accepts(
    app: Flask, services: Services
) -> None:
    @DB_SETTINGS
    @given(username=st.one_of(usernames, st.text(max_size=24)))
    def check(username: str) -> None:
        was_taken = rules.is_valid_username(username, 8, 20) and (
            services.accounts.is_username_taken(username)
        )

        refused = _raised(lambda: services.accounts.create(_new(username, None)))
        db.session.commit()

        if not rules.is_valid_username(username, 8, 20):
            assert refused is UsernameInvalidError
        elif was_taken:
            assert refused is UsernameTakenError
        else:
            assert refused is None
            found = services.accounts.find_by_username(username)
            assert found is not None
            assert found.username == username

    check()


def _check_email_collisions(services: Services, alphabet: str) -> Callable[[], None]:
    counter = iter(range(1_000_000))

    @DB_SETTINGS
    @given(
        email=_emails(alphabet),
        swaps=st.lists(st.booleans(), min_size=40, max_size=40),
        before=st.text(alphabet=" \t", max_size=2),
        after=st.text(alphabet=" \t", max_size=2),
    )
    @example(email="Parent@Example.org", swaps=[True] * 40, before=" ", after="")
    def check(email: str, swaps: list[bool], before: str, after: str) -> None:
        _hold(services, f"holder{next(counter):06d}", email)
        variant = before + _case_variant(email, swaps) + after

        in_use = services.accounts.is_email_in_use(variant)
        newcomer = _new(f"newcomer{next(counter):06d}", variant)
        refused = _raised(lambda: services.accounts.create(newcomer))
        db.session.rollback()

        assert in_use
        assert refused is EmailInUseError

    return check


def test_an_ascii_email_differing_only_in_case_or_surrounding_space_is_in_use(
    app: Flask, services: Services
) -> None:
    _check_email_collisions(services, string.ascii_letters + string.digits)()


def test_an_accented_email_differing_only_in_case_is_in_use(app: Flask, services: Services) -> None:
    check = _check_email_collisions(services, string.ascii_letters + _PAIRED)
    swap_first = [True] + [False] * 39
    example(email="\u00c9lise@example.org", swaps=swap_first, before="", after="")(check)()


def test_an_account_created_in_a_transaction_rolled_back_leaves_no_row(
    app: Flask, services: Services
) -> None:
    # The edge owns the transaction (STYLE.md 1): what a service added before a rollback is gone.
    accounts = app.extensions["idp.services"].accounts  # the service, without the test's edge

    def failing_request() -> None:
        with unit_of_work(app)():
            accounts.create(_new("rolledback1", "rolled@example.org"))
            raise RuntimeError("the request fails after the service call")

    with pytest.raises(RuntimeError):
        failing_request()

    assert services.accounts.find_by_username("rolledback1") is None
