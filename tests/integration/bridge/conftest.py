"""A guardian with a legacy IC credential, and the pages of the sign-in and upgrade."""

from __future__ import annotations

import re

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from idp.bridge import rules
from idp.bridge.models import LegacyCredential
from idp.extensions import db
from idp.notifications.models import OutboxMessage
from idp.roster.models import Person
from idp.services import Services
from tests.builders import csrf_token, enroll, make_person, make_school, relate
from tests.legacy import IC_PASSWORD, legacy_hash

ANSWERS = ("rex the dog", "oslo", "hill road")


@pytest.fixture
def guardian(app: Flask) -> Person:
    """A parent of a student at an open school, with no portal account."""
    school = make_school("DEMO-ES1", "Lakeview Elementary")
    student = make_person("student", given_name="Emily", family_name="Chen")
    enroll(student, school)
    parent = make_person("guardian", sis_person_id="G-3001", given_name="Wei", family_name="Chen")
    relate(parent, student)
    db.session.commit()
    return parent


def make_legacy(
    person: Person, ic_username: str = "ChenFamily7", scheme: str = "bcrypt"
) -> LegacyCredential:
    """An imported legacy credential of IC_PASSWORD for the person, committed."""
    row = LegacyCredential(
        ic_username=ic_username,
        person_id=person.id,
        scheme=scheme,
        verifier=legacy_hash(scheme) if scheme != rules.REMOTE else "",
        imported_at=current_app.extensions["idp.clock"].now(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def post_form(client: FlaskClient, url: str, data: dict[str, str]) -> TestResponse:
    """GET the page for its CSRF token, then POST the form."""
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def sign_in(client: FlaskClient, username: str, password: str = IC_PASSWORD) -> TestResponse:
    """The sign-in form."""
    return post_form(client, "/sign-in", {"username": username, "password": password})


def alert(html: str) -> str:
    """The text of the page's error message."""
    match = re.search(r'<div class="alert" role="alert" id="form-error">(.*?)</div>', html, re.S)
    assert match is not None, "no error message on the page"
    return match.group(1).strip()


def verify_link(services: Services, recipient: str) -> str:
    """The path and query of the newest confirmation link queued for this address, as the
    mailer would make it when sending."""
    message = db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == recipient, OutboxMessage.template == "verify_email")
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).scalar_one()
    context = services.registration_messages.prepare_verify_email(message)
    assert context is not None
    return str(context["verify_url"]).removeprefix("http://localhost")


def choose_questions(
    client: FlaskClient, services: Services, url: str, password: str = IC_PASSWORD
) -> TestResponse:
    """Answer the first three questions of the catalogue on the security-question page."""
    page = client.get(url).get_data(as_text=True)
    keys = services.policies.credentials.security_questions.question_keys
    form = {"csrf_token": csrf_token(page), "password": password}
    for number, (key, answer) in enumerate(zip(keys[:3], ANSWERS, strict=True), 1):
        form |= {f"question_{number}": key, f"answer_{number}": answer}
    return client.post(url, data=form)
