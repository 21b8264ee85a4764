"""Reading the record of disclosures (issue 16.6) for the staff console: which apps received
data about a student, and when; what was disclosed for an account. Newest first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text

from idp.accounts.models import Account
from idp.clock import FrozenClock
from idp.extensions import db
from idp.oidc.disclosures import (
    ID_TOKEN,
    USERINFO,
    Disclosure,
    DisclosureLog,
    disclosures_about_student,
    disclosures_to_account,
)
from idp.roster.models import Person
from idp.services import Services
from tests.builders import make_account, make_person
from tests.conftest import START, committed

HOUR = timedelta(hours=1)


@pytest.fixture
def log(app: Flask) -> DisclosureLog:
    """The app's writer of the record (what the token and userinfo answers use)."""
    disclosures: DisclosureLog = app.extensions["idp.services"].oidc_deps.disclosures
    return disclosures


@pytest.fixture
def students(app: Flask) -> dict[str, Person]:
    """Three students; "S-1" is a prefix of "S-10", which must not make them match."""
    with committed():
        return {
            sis_id: make_person("student", date(2012, 1, 1), sis_person_id=sis_id)
            for sis_id in ("S-1", "S-10", "S-2")
        }


@pytest.fixture
def guardians(services: Services, registered_clients: None) -> list[Account]:
    """Two guardian accounts."""
    return [
        make_account(services),
        make_account(services, "parentuser2", "parent2@example.org"),
    ]


def _record(
    log: DisclosureLog,
    clock: FrozenClock,
    account: Account,
    client_id: str,
    answer: str,
    *student_ids: str,
) -> None:
    """One answer, an hour after the previous one."""
    clock.advance(hours=1)
    with committed():
        log.record(
            {"students": [{"id": sis_id} for sis_id in student_ids]},
            client_id=client_id,
            account_id=account.id,
            answer=answer,
        )


@pytest.fixture
def history(
    log: DisclosureLog, clock: FrozenClock, guardians: list[Account], students: Any
) -> list[Account]:
    """Four answers, an hour apart: grades, attendance, grades for the first guardian, then an
    app no longer registered for the second."""
    first, second = guardians
    _record(log, clock, first, "grades", ID_TOKEN, "S-1", "S-2")
    _record(log, clock, first, "attendance", USERINFO, "S-2")
    _record(log, clock, first, "grades", USERINFO, "S-10")
    _record(log, clock, second, "retired-app", ID_TOKEN, "S-1")
    return guardians


def test_a_students_disclosures_are_the_answers_that_named_them_newest_first(
    history: list[Account], students: dict[str, Person]
) -> None:
    first, second = history

    found = disclosures_about_student(db.session, students["S-1"].id)

    assert found == [
        Disclosure(START + 4 * HOUR, "retired-app", None, second.id, ID_TOKEN, ("S-1",)),
        Disclosure(START + HOUR, "grades", "Grades", first.id, ID_TOKEN, ("S-1", "S-2")),
    ]


@pytest.mark.parametrize(
    ("sis_id", "expected"),
    [("S-2", ["attendance", "grades"]), ("S-10", ["grades"])],
)
def test_each_student_has_only_their_own_disclosures(
    history: list[Account], students: dict[str, Person], sis_id: str, expected: list[str]
) -> None:
    found = disclosures_about_student(db.session, students[sis_id].id)

    assert [disclosure.client_id for disclosure in found] == expected


def test_a_student_never_disclosed_or_unknown_has_no_disclosures(history: list[Account]) -> None:
    with committed():
        never = make_person("student", date(2014, 2, 2), sis_person_id="S-3")

    assert disclosures_about_student(db.session, never.id) == []
    assert disclosures_about_student(db.session, never.id + 1000) == []


def test_an_accounts_disclosures_are_its_own_answers_newest_first(
    history: list[Account],
) -> None:
    first, _ = history

    found = disclosures_to_account(db.session, first.id)

    assert [(d.at, d.client_name, d.answer, d.student_ids) for d in found] == [
        (START + 3 * HOUR, "Grades", USERINFO, ("S-10",)),
        (START + 2 * HOUR, "Attendance", USERINFO, ("S-2",)),
        (START + HOUR, "Grades", ID_TOKEN, ("S-1", "S-2")),
    ]


def test_the_limit_keeps_the_newest(history: list[Account], students: dict[str, Person]) -> None:
    first, _ = history

    by_account = disclosures_to_account(db.session, first.id, limit=1)
    by_student = disclosures_about_student(db.session, students["S-2"].id, limit=1)

    assert [d.at for d in by_account] == [START + 3 * HOUR]
    assert [d.at for d in by_student] == [START + 2 * HOUR]


def test_other_events_of_the_account_are_not_disclosures(
    services: Services, history: list[Account], students: dict[str, Person]
) -> None:
    first, _ = history
    services.audit.record("oidc:consent:granted", subject_id=first.id, client_id="grades")

    found = disclosures_to_account(db.session, first.id)

    assert len(found) == 3


@pytest.fixture
def statements() -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements run from now on, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def note(*args: Any) -> None:
        seen.append((args[2], args[3]))

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


# 5,000 other answers, each naming another student: the event's own index no longer narrows.
_OTHER_ANSWERS = text(
    "INSERT INTO audit_event (occurred_at, event, data)"
    " SELECT now(), 'oidc:students:disclosed', jsonb_build_object('client_id', 'grades',"
    " 'response', 'userinfo', 'student_ids', jsonb_build_array('X-' || n))"
    " FROM generate_series(1, 5000) AS n"
)


@pytest.mark.postgresql_only
def test_the_look_up_by_student_reads_the_disclosure_index(
    history: list[Account], students: dict[str, Person], statements: list[tuple[str, Any]]
) -> None:
    disclosures_about_student(db.session, students["S-1"].id)
    statement, parameters = statements[-1]
    db.session.execute(_OTHER_ANSWERS)
    db.session.execute(text("ANALYZE audit_event"))

    cursor = db.session.connection().exec_driver_sql("EXPLAIN " + statement, parameters)
    plan = "\n".join(row[0] for row in cursor)

    db.session.rollback()
    assert "Bitmap Index Scan on ix_audit_event_disclosed_student_ids" in plan, plan
