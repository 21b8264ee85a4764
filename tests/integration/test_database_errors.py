"""Database errors keep values out of logs: the engine hides SQL parameters (`hide_parameters`)
and the 500 handler logs a database error without the driver's message, which on PostgreSQL
quotes values itself ("Failing row contains (...)")."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.accounts.models import Account
from idp.extensions import db
from idp.services import Services

MARKER = "Zq7hiddenvalue"


def _queue_a_refused_row(services: Services) -> None:
    # The service itself, not the test's committing edge: the row must fail at the flush below.
    outbox = current_app.extensions["idp.services"].outbox
    message = outbox.enqueue("password_reset", f"{MARKER}@example.org", {})
    message.status = "lost"  # refused by the outbox table's CHECK constraint
    db.session.flush()


def test_a_database_error_hides_its_parameters(services: Services) -> None:
    with pytest.raises(IntegrityError) as raised:
        _queue_a_refused_row(services)

    db.session.rollback()
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(raised.value)


@pytest.mark.usefixtures("app")
def test_the_engine_log_does_not_show_parameters(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    db.session.remove()  # a new connection reads the logger's level when it is made

    db.session.execute(select(Account.id).where(Account.username == MARKER)).all()

    db.session.rollback()
    assert "FROM account" in caplog.text
    assert MARKER not in caplog.text


def test_a_database_error_in_a_request_is_logged_without_values(
    app: Flask, client: FlaskClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    def fail() -> str:
        _queue_a_refused_row(services)
        return "not reached"

    app.add_url_rule("/fail-in-database", "fail_in_database", fail)
    caplog.set_level(logging.DEBUG)

    response = client.get("/fail-in-database")

    assert response.status_code == 500
    assert MARKER not in caplog.text
    assert "database_error=" in caplog.text
    assert "INSERT INTO outbox" in caplog.text
