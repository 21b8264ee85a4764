"""Builders for test data: make_school(), make_person(), make_account() ..."""

from __future__ import annotations

import html
import re
import shutil
from datetime import date
from pathlib import Path

from flask import current_app

from idp.accounts.models import Account, AccountKind, AccountState
from idp.accounts.service import NewAccount
from idp.config import PROJECT_ROOT
from idp.credentials.models import SecurityAnswer
from idp.extensions import db
from idp.roster.models import Enrollment, Person, Relationship, School
from idp.services import Services
from idp.staff.models import StaffAssignment

DEFAULT_PASSWORD = "correct horse battery staple"
_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def make_school(sis_id: str = "DEMO-ES1", name: str = "Lakeview Elementary") -> School:
    """A school row."""
    school = School(sis_id=sis_id, name=name, is_active=True)
    db.session.add(school)
    db.session.flush()
    return school


def make_person(role: str = "guardian", birth_date: date | None = None, **fields: object) -> Person:
    """A roster person with a unique SIS Person ID."""
    n = _next()
    person = Person(
        sis_person_id=str(fields.pop("sis_person_id", f"P{100000 + n}")),
        role=role,
        given_name=str(fields.pop("given_name", f"Given{n}")),
        family_name=str(fields.pop("family_name", f"Family{n}")),
        birth_date=birth_date,
        is_active=True,
        updated_at=current_app.extensions["idp.clock"].now(),
    )
    db.session.add(person)
    db.session.flush()
    return person


def enroll(person: Person, school: School, grade: str = "05") -> Enrollment:
    """Enrol a person at a school."""
    row = Enrollment(person_id=person.id, school_id=school.id, grade=grade, is_active=True)
    db.session.add(row)
    db.session.flush()
    return row


def relate(guardian: Person, student: Person, kind: str = "parent") -> Relationship:
    """A guardian-to-student relationship (legal unless a relative)."""
    row = Relationship(
        guardian_id=guardian.id,
        student_id=student.id,
        kind=kind,
        is_legal_guardian=kind != "relative",
        is_active=True,
    )
    db.session.add(row)
    db.session.flush()
    return row


# The answers every built guardian gives (its questions are the catalogue's first three).
DEFAULT_ANSWERS = ("whiskers the cat", "springfield", "lincoln elementary")
_answer_hashes: dict[str, str] = {}


def make_account(
    services: Services,
    username: str = "parentuser1",
    email: str | None = "parent1@example.org",
    password: str = DEFAULT_PASSWORD,
    state: AccountState = AccountState.ACTIVE,
    kind: AccountKind = AccountKind.GUARDIAN,
    *,
    has_questions: bool = True,
) -> Account:
    """An account with an argon2id password, committed. A guardian has chosen its security
    questions (answers DEFAULT_ANSWERS) unless `has_questions=False`."""
    account = services.accounts.create(
        NewAccount(
            kind=kind,
            state=state,
            username=username,
            email=email,
            password_hash=services.hasher.hash(password),
        )
    )
    if kind == AccountKind.GUARDIAN and has_questions:
        add_security_answers(services, account)
    db.session.commit()
    return account


def add_security_answers(services: Services, account: Account) -> None:
    """DEFAULT_ANSWERS to the first three questions (hashed once per test run: argon2 is slow)."""
    keys = services.policies.credentials.security_questions.question_keys[:3]
    now = current_app.extensions["idp.clock"].now()
    for key, answer in zip(keys, DEFAULT_ANSWERS, strict=True):
        if answer not in _answer_hashes:
            _answer_hashes[answer] = services.hasher.hash(answer)
        db.session.add(
            SecurityAnswer(
                account_id=account.id,
                question_key=key,
                answer_hash=_answer_hashes[answer],
                created_at=now,
            )
        )


def make_staff(
    services: Services,
    school: School | None,
    username: str = "secretary1",
    role: str = "secretary",
) -> Account:
    """An active staff account assigned to `school` (district-wide when None), committed."""
    staff = make_account(services, username, f"{username}@school.example", kind=AccountKind.STAFF)
    db.session.add(
        StaffAssignment(account_id=staff.id, school_id=school.id if school else None, role=role)
    )
    db.session.commit()
    return staff


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match is not None, "no CSRF token on the page"
    return match.group(1)


def form_action(page: str) -> str | None:
    """The `action` of the first form on a page (HTML entities decoded); None without one."""
    match = re.search(r'<form\b[^>]*\baction="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def edited_policies(folder: Path, file_name: str, old: str, new: str) -> Path:
    """A copy of the shipped policies/ in `folder`, with `old` (found exactly once) replaced
    by `new` in `file_name`: for settings(policy_dir=...) in a test."""
    policies = folder / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    path = policies / file_name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (file_name, old)
    path.write_text(text.replace(old, new), encoding="utf-8")
    return policies
