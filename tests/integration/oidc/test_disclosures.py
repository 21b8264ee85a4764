"""The record of disclosures (issue 16.6, FERPA 34 CFR 99.32): every ID token and userinfo
answer that carries the `students` claim writes one audit event with the client, the account
and exactly the student ids it sent, in the transaction that issues the answer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select

from idp.accounts.models import Account, AccountKind
from idp.audit.models import DISCLOSURE_EVENT, AuditEvent
from idp.clock import FrozenClock
from idp.extensions import db
from idp.oidc.models import OAuthToken
from idp.roster.models import Person
from idp.services import Services
from tests.builders import enroll, make_account, make_person, make_school, relate
from tests.integration.oidc.conftest import (
    Pkce,
    basic_auth,
    decode_id_token,
    exchange,
    get_code,
    new_pkce,
    sign_in,
)

SCOPE = "openid profile students"


@dataclass(frozen=True)
class Family:
    """parentuser1, the two children the guardian sees (oldest first) and a restricted one."""

    account: Account
    visible: list[str]
    restricted: str


def _student(sis_id: str, born: date) -> Person:
    return make_person("student", born, sis_person_id=sis_id, given_name=sis_id)


@pytest.fixture
def family(services: Services, registered_clients: None, clock: FrozenClock) -> Family:
    """parentuser1 with two visible children, and one between them by age whose relationship
    is restricted."""
    account = make_account(services)
    guardian = make_person("guardian", sis_person_id="G-1")
    account.person_id = guardian.id
    elementary = make_school("DEMO-ES1", "Lakeview Elementary")
    high = make_school("DEMO-HS1", "Northfield High")
    for sis_id, born, school in [
        ("S-YOUNG", date(2017, 2, 2), elementary),
        ("S-OLD", date(2010, 1, 9), high),
    ]:
        student = _student(sis_id, born)
        enroll(student, school, "05")
        relate(guardian, student, "parent")
    hidden = _student("S-RESTRICTED", date(2012, 5, 5))
    enroll(hidden, high, "08")
    restricted = relate(guardian, hidden, "parent")
    restricted.restricted_at = clock.now()
    restricted.restriction_reason = "court order 1"
    db.session.commit()
    return Family(account, ["S-OLD", "S-YOUNG"], "S-RESTRICTED")


def _disclosures() -> list[AuditEvent]:
    """Every disclosure event, oldest first."""
    db.session.expire_all()
    query = select(AuditEvent).where(AuditEvent.event == DISCLOSURE_EVENT).order_by(AuditEvent.id)
    return list(db.session.execute(query).scalars())


def _code(client: FlaskClient, scope: str = SCOPE) -> tuple[str, Pkce]:
    pkce = new_pkce()
    return get_code(client, pkce, scope=scope), pkce


def _tokens(client: FlaskClient, scope: str = SCOPE) -> dict[str, Any]:
    code, pkce = _code(client, scope)
    response = exchange(client, code, pkce)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _userinfo(client: FlaskClient, access_token: str) -> Any:
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.get_json()
    return response


def _sent_ids(claims: dict[str, Any]) -> list[str]:
    return [student["id"] for student in claims["students"]]


def test_an_id_token_records_exactly_the_student_ids_it_carries(
    client: FlaskClient, family: Family
) -> None:
    sign_in(client)

    tokens = _tokens(client)

    sent = _sent_ids(decode_id_token(client, tokens["id_token"]))
    [record] = _disclosures()
    assert sent == family.visible
    assert record.subject_account_id == family.account.id
    assert record.data == {"client_id": "grades", "response": "id_token", "student_ids": sent}


def test_a_userinfo_answer_records_exactly_the_student_ids_it_returned(
    client: FlaskClient, family: Family
) -> None:
    sign_in(client)
    access_token = _tokens(client)["access_token"]

    response = _userinfo(client, access_token)

    record = _disclosures()[-1]
    assert _sent_ids(response.get_json()) == family.visible
    assert record.subject_account_id == family.account.id
    assert record.data == {
        "client_id": "grades",
        "response": "userinfo",
        "student_ids": family.visible,
    }
    assert record.request_id == response.headers["X-Request-Id"]


def test_a_refreshed_id_token_records_its_students_again(
    client: FlaskClient, family: Family, clock: FrozenClock
) -> None:
    sign_in(client)
    refresh_token = _tokens(client)["refresh_token"]
    clock.advance(minutes=30)

    response = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic_auth(),
    )

    first, second = _disclosures()
    assert response.status_code == 200, response.get_json()
    assert second.data == first.data
    assert second.occurred_at == clock.now()


def test_a_restricted_child_is_never_recorded(client: FlaskClient, family: Family) -> None:
    sign_in(client)

    _userinfo(client, _tokens(client)["access_token"])

    recorded = [record.data["student_ids"] for record in _disclosures()]
    assert recorded == [family.visible, family.visible]
    assert all(family.restricted not in ids for ids in recorded)


@pytest.fixture
def pupil(services: Services, registered_clients: None) -> Account:
    """A student account (studentuser1), enrolled at an open school: its own `student` claim."""
    account = make_account(services, "studentuser1", None, kind=AccountKind.STUDENT)
    person = _student("S-SELF", date(2013, 4, 4))
    enroll(person, make_school("DEMO-MS1", "Riverside Middle"), "07")
    account.person_id = person.id
    db.session.commit()
    return account


@pytest.fixture
def lone_guardian(services: Services, registered_clients: None) -> Account:
    """A guardian who sees no student yet: an empty `students` claim."""
    account = make_account(services)
    account.person_id = make_person("guardian").id
    db.session.commit()
    return account


@pytest.mark.parametrize(
    ("who", "username", "scope"),
    [
        ("family", "parentuser1", "openid profile"),
        ("pupil", "studentuser1", SCOPE),
        ("lone_guardian", "parentuser1", SCOPE),
    ],
    ids=["scope_without_students", "student_account", "guardian_who_sees_nobody"],
)
def test_an_answer_that_names_no_student_records_nothing(
    client: FlaskClient, request: pytest.FixtureRequest, who: str, username: str, scope: str
) -> None:
    request.getfixturevalue(who)
    sign_in(client, username)

    _userinfo(client, _tokens(client, scope)["access_token"])

    assert _disclosures() == []


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The SQL statements run from now on."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


def _audit_inserts(seen: list[str]) -> int:
    return sum(statement.startswith("INSERT INTO audit_event") for statement in seen)


def test_each_answer_records_its_disclosure_with_one_insert(
    client: FlaskClient, family: Family, statements: list[str]
) -> None:
    sign_in(client)
    code, pkce = _code(client)
    statements.clear()

    access_token = exchange(client, code, pkce).get_json()["access_token"]
    token_request = _audit_inserts(statements)
    statements.clear()
    _userinfo(client, access_token)

    assert (token_request, _audit_inserts(statements)) == (1, 1)
    assert len(_disclosures()) == 2


@pytest.mark.parametrize("mistake", ["wrong_verifier", "replayed_code"])
def test_a_refused_token_request_records_nothing(
    client: FlaskClient, family: Family, mistake: str
) -> None:
    sign_in(client)
    code, pkce = _code(client)
    if mistake == "replayed_code":
        assert exchange(client, code, pkce).status_code == 200
    before = len(_disclosures())

    verifier = new_pkce() if mistake == "wrong_verifier" else pkce
    response = exchange(client, code, verifier)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert len(_disclosures()) == before


def test_the_record_is_in_the_token_requests_transaction(
    client: FlaskClient, family: Family
) -> None:
    sign_in(client)
    code, pkce = _code(client)

    pending: list[tuple[int, int]] = []

    def refuse(session: Any) -> None:
        """What the transaction holds at the commit, then the commit fails."""
        tokens = session.execute(select(OAuthToken.id)).all()
        pending.append((len(_disclosures()), len(tokens)))
        raise RuntimeError("the commit fails")

    event.listen(db.session, "before_commit", refuse)
    with pytest.raises(RuntimeError, match="the commit fails"):
        exchange(client, code, pkce)
    event.remove(db.session, "before_commit", refuse)
    db.session.rollback()

    assert pending == [(1, 1)]  # the record and the token, in one transaction
    assert _disclosures() == []
    assert db.session.execute(select(OAuthToken.id)).all() == []
