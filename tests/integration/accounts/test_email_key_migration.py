"""Migration 0009: existing accounts get their email_key, and the new unique index holds
(issue 14: SQLite's lower() let "Élise@" and "élise@" both register)."""

from __future__ import annotations

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import text

from idp.accounts.errors import EmailInUseError
from idp.accounts.models import AccountKind, AccountState
from idp.accounts.service import NewAccount
from idp.extensions import db
from idp.services import Services

_INSERT = text(
    "INSERT INTO account (sub, kind, state, email, locale, communication_channel,"
    " communication_topics, created_at, state_changed_at)"
    " VALUES (:sub, 'guardian', 'active', :email, 'en', 'email', '[]', :now, :now)"
)


def _insert(sub: str, email: str) -> None:
    db.session.execute(_INSERT, {"sub": sub, "email": email, "now": "2026-09-01 12:00:00+00:00"})


@pytest.mark.usefixtures("app")
def test_upgrade_fills_the_email_key_of_existing_accounts(app: Flask) -> None:
    flask_migrate.downgrade(revision="0008")
    _insert("sub-1", " \u00c9lise.Martin@Example.org")
    db.session.commit()

    flask_migrate.upgrade()

    key = db.session.execute(text("SELECT email_key FROM account")).scalar_one()
    assert key == "\u00e9lise.martin@example.org"


def test_after_the_upgrade_a_case_variant_of_an_existing_email_is_in_use(
    app: Flask, services: Services
) -> None:
    flask_migrate.downgrade(revision="0008")
    _insert("sub-1", "\u00c9lise@example.org")
    db.session.commit()
    flask_migrate.upgrade()

    new = NewAccount(
        kind=AccountKind.GUARDIAN,
        state=AccountState.ACTIVE,
        username="newparent1",
        email="\u00e9lise@example.org",
    )

    with pytest.raises(EmailInUseError):
        services.accounts.create(new)
