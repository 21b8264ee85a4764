"""Forgot password does the same work whether or not the name can recover (issue 14, item 6).

A known name answered in about 16 ms and an unknown one in about 9 ms: the known path wrote an
outbox row and an audit event, the unknown one nothing. The time itself is measured by
bench/recovery_timing.py; this test checks what makes it: the same SQL statements, the same
commits and the same signing and hashing, for every kind of name that cannot recover.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from itsdangerous.signer import Signer
from sqlalchemy import event, select

from idp.accounts.models import AccountKind, AccountState
from idp.audit.models import AuditEvent
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.services import Services
from tests.builders import csrf_token, make_account


class Work(NamedTuple):
    """What one POST /forgot-password did."""

    statements: list[str]  # SQL text, parameters left out
    commits: int
    signatures: int  # itsdangerous signatures made or checked (CSRF, cookie session, links)
    argon2_calls: int
    status: int


class Recorder:
    """Counts statements, commits and crypto calls while `recording` is on."""

    def __init__(self) -> None:
        self.recording = False
        self.statements: list[str] = []
        self.counts = {"commits": 0, "signatures": 0, "argon2": 0}

    def on_statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.recording:
            self.statements.append(statement)

    def count(self, name: str) -> None:
        if self.recording:
            self.counts[name] += 1


def _counting(original: Callable[..., Any], recorder: Recorder, name: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        recorder.count(name)
        return original(*args, **kwargs)

    return wrapper


@pytest.fixture
def recorder(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    found = Recorder()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", found.on_statement)
    event.listen(engine, "commit", lambda conn: found.count("commits"))
    monkeypatch.setattr(
        Signer, "get_signature", _counting(Signer.get_signature, found, "signatures")
    )
    for method in ("hash", "verify"):
        original = getattr(PasswordHasher, method)
        monkeypatch.setattr(PasswordHasher, method, _counting(original, found, "argon2"))
    yield found
    event.remove(engine, "before_cursor_execute", found.on_statement)


def _forgot_password(client: FlaskClient, recorder: Recorder, username: str) -> Work:
    token = csrf_token(client.get("/forgot-password").get_data(as_text=True))
    recorder.statements, recorder.counts = [], dict.fromkeys(recorder.counts, 0)
    recorder.recording = True
    response = client.post("/forgot-password", data={"username": username, "csrf_token": token})
    recorder.recording = False
    counts = recorder.counts
    return Work(
        list(recorder.statements),
        counts["commits"],
        counts["signatures"],
        counts["argon2"],
        response.status_code,
    )


def _student(services: Services) -> None:
    make_account(services, "student0001", None, kind=AccountKind.STUDENT)


def _no_questions(services: Services) -> None:
    make_account(services, "newparent01", "n@example.org", has_questions=False)


def _disabled(services: Services) -> None:
    make_account(services, "oldparent01", "o@example.org", state=AccountState.DISABLED)


CANNOT_RECOVER = {
    "unknown": (lambda services: None, "nosuchuser1"),
    "student": (_student, "student0001"),
    "no-questions": (_no_questions, "newparent01"),
    "disabled": (_disabled, "oldparent01"),
}


@pytest.mark.parametrize(("arrange", "username"), CANNOT_RECOVER.values(), ids=CANNOT_RECOVER)
def test_a_name_that_cannot_recover_costs_the_same_statements_and_crypto(
    client: FlaskClient,
    services: Services,
    recorder: Recorder,
    arrange: Callable[[Services], None],
    username: str,
) -> None:
    make_account(services, "parentuser1")
    arrange(services)

    known = _forgot_password(client, recorder, "parentuser1")
    other = _forgot_password(client, recorder, username)

    assert other == known
    assert any(statement.startswith("INSERT INTO outbox") for statement in known.statements)
    assert known.commits >= 1


def test_the_message_queued_for_an_unknown_name_is_sent_to_no_one(
    client: FlaskClient, services: Services, recorder: Recorder
) -> None:
    _forgot_password(client, recorder, "nosuchuser1")

    message = db.session.execute(select(OutboxMessage)).scalar_one()
    events = db.session.execute(select(AuditEvent.event, AuditEvent.subject_account_id)).all()
    assert (message.recipient, message.account_id) == ("", None)
    assert services.recovery_messages.prepare_reset(message) is None
    assert [tuple(row) for row in events] == [("recovery:reset:refused", None)]
