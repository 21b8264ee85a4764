"""Account rules as the service and the database enforce them."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from idp.accounts.errors import (
    EmailImmutableError,
    EmailInUseError,
    EmailInvalidError,
    PersonAlreadyHasAccountError,
    UsernameImmutableError,
    UsernameInvalidError,
    UsernameTakenError,
)
from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.service import NewAccount
from idp.extensions import db
from idp.services import Services
from tests.builders import make_account, make_person


def _new(username: str | None = "parentuser1", email: str | None = "a@example.org") -> NewAccount:
    return NewAccount(
        kind=AccountKind.GUARDIAN, state=AccountState.ACTIVE, username=username, email=email
    )


def test_new_account_gets_a_random_sub_unrelated_to_the_username(services: Services) -> None:
    first = services.accounts.create(_new("parentuser1", "a@example.org"))
    second = services.accounts.create(_new("parentuser2", "b@example.org"))

    assert first.sub != second.sub
    assert len(first.sub) >= 43
    assert "parentuser" not in first.sub.lower()


def test_refuses_username_differing_only_in_case(services: Services) -> None:
    make_account(services, username="parentuser1", email="a@example.org")

    with pytest.raises(UsernameTakenError):
        services.accounts.create(_new("PARENTUSER1", "b@example.org"))


def test_refuses_email_differing_only_in_case(services: Services) -> None:
    make_account(services, username="parentuser1", email="Parent@Example.org")

    with pytest.raises(EmailInUseError):
        services.accounts.create(_new("parentuser2", "parent@example.ORG"))


@pytest.mark.parametrize("state", [AccountState.CANCELLED, AccountState.DELETED])
def test_cancelled_or_deleted_account_frees_its_email(
    services: Services, state: AccountState
) -> None:
    old = make_account(services, username="parentuser1", email="parent@example.org")
    old.state = str(state)
    db.session.commit()

    new = services.accounts.create(_new("parentuser2", "PARENT@example.org"))
    db.session.commit()

    assert new.id != old.id
    assert new.email == "PARENT@example.org"


@pytest.mark.parametrize(
    "username",
    ["short12", "a" * 21, "has space1", "ünïcode123", "under_score1", "dash-name12", ""],
)
def test_refuses_usernames_outside_the_faq_rule(services: Services, username: str) -> None:
    with pytest.raises(UsernameInvalidError):
        services.accounts.create(_new(username))


@pytest.mark.parametrize("username", ["abcdefgh", "A1B2C3D4E5F6G7H8I9J0", "Parent2026"])
def test_accepts_usernames_inside_the_faq_rule(services: Services, username: str) -> None:
    account = services.accounts.create(_new(username))

    assert account.username == username


@pytest.mark.parametrize("email", ["no-at-sign", "two@@example.org", "a@b", "sp ace@example.org"])
def test_refuses_malformed_email(services: Services, email: str) -> None:
    with pytest.raises(EmailInvalidError):
        services.accounts.create(_new(email=email))


def test_refuses_a_second_live_account_for_the_same_person(services: Services) -> None:
    person = make_person()
    services.accounts.create(
        NewAccount(kind=AccountKind.GUARDIAN, state=AccountState.ACTIVE, person_id=person.id)
    )

    with pytest.raises(PersonAlreadyHasAccountError):
        services.accounts.create(
            NewAccount(kind=AccountKind.GUARDIAN, state=AccountState.ACTIVE, person_id=person.id)
        )


def test_service_refuses_to_change_a_username(services: Services) -> None:
    account = make_account(services, username="parentuser1")

    with pytest.raises(UsernameImmutableError):
        services.accounts.set_username(account, "parentuser9")

    db.session.expire_all()
    assert services.accounts.get(account.id).username == "parentuser1"  # type: ignore[union-attr]


def test_service_refuses_to_change_an_email(services: Services) -> None:
    account = make_account(services, email="a@example.org")

    with pytest.raises(EmailImmutableError):
        services.accounts.set_email(account, "b@example.org")


def test_service_sets_a_first_email_once(services: Services) -> None:
    account = make_account(services, email=None)

    services.accounts.set_email(account, "first@example.org")
    db.session.commit()

    assert account.email == "first@example.org"


def test_service_refuses_a_first_email_another_account_holds(services: Services) -> None:
    make_account(services, username="parentuser1", email="taken@example.org")
    legacy = make_account(services, username="legacyuser1", email=None)

    with pytest.raises(EmailInUseError):
        services.accounts.set_email(legacy, "TAKEN@example.org")


@pytest.mark.parametrize("column", ["username", "email"])
def test_database_refuses_to_change_username_or_email(services: Services, column: str) -> None:
    account = make_account(services, username="parentuser1", email="a@example.org")
    new_value = {"username": "parentuser9", "email": "z@example.org"}[column]

    statement = update(Account).where(Account.id == account.id).values({column: new_value})

    with pytest.raises(DBAPIError):
        db.session.execute(statement)


def test_database_allows_purging_username_and_email(services: Services) -> None:
    account = make_account(services, username="parentuser1", email="a@example.org")

    db.session.execute(
        update(Account).where(Account.id == account.id).values(username=None, email=None)
    )
    db.session.commit()

    assert db.session.execute(select(Account.username, Account.email)).one() == (None, None)


@pytest.mark.parametrize("username", ["short12", "has space1", "under_score1", "a" * 21])
def test_database_refuses_a_malformed_username(app: Flask, username: str) -> None:
    # IntegrityError from the CHECK, or DataError from PostgreSQL's varchar(20).
    with pytest.raises(DBAPIError):
        db.session.execute(
            text(
                "INSERT INTO account (sub, kind, state, username, locale, communication_channel,"
                " communication_topics, created_at, state_changed_at) VALUES (:sub, 'guardian',"
                " 'active', :username, 'en', 'email', '[]', :now, :now)"
            ),
            {"sub": "s" * 43, "username": username, "now": "2026-09-01 12:00:00"},
        )


def test_account_creation_is_audited_without_personal_data(services: Services) -> None:
    account = make_account(services, username="parentuser1", email="a@example.org")

    rows = db.session.execute(text("SELECT event, subject_account_id, data FROM audit_event"))

    events = [(row.event, row.subject_account_id, str(row.data)) for row in rows]
    assert ("accounts:account:created", account.id) in [(e, s) for e, s, _ in events]
    assert all("parentuser1" not in data and "example.org" not in data for _, _, data in events)
