"""A whole life on a frozen clock, over real SMTP: active -> warned -> disabled -> revalidated
-> idle again -> warned -> disabled -> warned -> deleted, each email sent exactly once, and no
personal data left in any table afterwards."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import String, Text, cast, or_, select

from idp.accounts.models import Account, AccountState, ReservedUsername, username_digest
from idp.cli import main
from idp.clock import FrozenClock
from idp.config import Settings, SmtpSettings
from idp.extensions import db
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, csrf_token, make_person
from tests.integration.lifecycle.conftest import idle_account, state_of
from tests.smtp import SmtpSink

SUBJECTS = {
    "Your portal account will be turned off for inactivity": "disable_warning",
    "Your portal account will be deleted": "delete_warning",
    "Turn your portal account back on": "revalidate",
}


@pytest.fixture
def settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    """Mail goes to a real SMTP server started by the test."""
    smtp = SmtpSettings(
        host="127.0.0.1", port=smtp_sink.port, security="plain", sender="portal@district.example"
    )
    return replace(settings, smtp=smtp)


def _day(app: Flask, clock: FrozenClock, days: int) -> None:
    """Move the clock on and let the worker do its round (daily sweep, then delivery)."""
    clock.advance(days=days)
    result = app.test_cli_runner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output


def _sent(smtp_sink: SmtpSink) -> Counter[str]:
    return Counter(SUBJECTS[str(message["Subject"])] for message in smtp_sink.messages)


def _sign_in(client: FlaskClient) -> str:
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    form = {"username": "parentuser1", "password": DEFAULT_PASSWORD, "csrf_token": token}
    return client.post("/sign-in", data=form).get_data(as_text=True)


def _revalidate(client: FlaskClient, smtp_sink: SmtpSink) -> None:
    body = smtp_sink.messages[-1].get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(r"http://localhost(/revalidate\?token=\S+)", str(body.get_content()))
    assert link is not None
    response = client.get(link.group(1))
    assert response.status_code == 302, response.get_data(as_text=True)


def _rows_mentioning(*needles: str) -> list[str]:
    """Every table and column whose text holds one of the needles (case-insensitive)."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | Text) and column.name not in {
                "context",
                "data",
            }:
                continue
            text = cast(column, Text)
            condition = or_(*(text.ilike(f"%{needle}%") for needle in needles))
            if db.session.execute(select(table).where(condition).limit(1)).first():
                found.append(f"{table.name}.{column.name}")
    return found


def test_a_whole_life_each_email_once_and_nothing_personal_left(
    app: Flask, client: FlaskClient, services: Services, clock: FrozenClock, smtp_sink: SmtpSink
) -> None:
    account = idle_account(services, clock, 0)
    account.person_id = make_person("guardian").id
    db.session.commit()
    sub = account.sub

    _day(app, clock, 169)  # 14 days before disabling
    _day(app, clock, 1)  # the next day: nothing new
    assert _sent(smtp_sink) == {"disable_warning": 1}
    _day(app, clock, 13)  # day 183: disabled
    assert state_of(account) == AccountState.DISABLED

    page = _sign_in(client)  # the right password on a disabled account: told, link sent
    assert "turned off because it was not used" in page
    _day(app, clock, 0)
    assert _sent(smtp_sink) == {"disable_warning": 1, "revalidate": 1}
    _revalidate(client, smtp_sink)
    assert state_of(account) == AccountState.ACTIVE

    _day(app, clock, 169)  # idle again: a new period, a new warning
    _day(app, clock, 14)  # disabled again
    _day(app, clock, 183)  # day 366 of the period: deletion warning
    _day(app, clock, 29)
    assert state_of(account) == AccountState.DISABLED
    _day(app, clock, 1)  # 30 days after the warning, 396 idle days: deleted
    assert state_of(account) == AccountState.DELETED
    assert _sent(smtp_sink) == {"disable_warning": 2, "revalidate": 1, "delete_warning": 1}

    db.session.expire_all()
    tombstone = db.session.execute(select(Account).where(Account.sub == sub)).scalar_one()
    assert (tombstone.username, tombstone.email, tombstone.password_hash) == (None, None, None)
    assert tombstone.person_id is None
    assert _rows_mentioning("parentuser1", "parentuser1@example.org") == []
    assert db.session.get(ReservedUsername, username_digest("ParentUser1")) is not None
    assert services.accounts.is_username_taken("PARENTUSER1")
    assert not services.accounts.is_email_in_use("parentuser1@example.org")
