"""A guardian registers in a real browser on the embedded default: the key from the letter,
the live username check, the confirmation link read from the development mailbox, the
"ready" email, and the first sign-in."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from idp.accounts.models import AccountKind
from idp.cli import main
from idp.extensions import db
from idp.services import Services
from idp.staff.models import StaffAssignment
from tests.builders import enroll, make_account, make_person, make_school, relate

PASSWORD = "maple syrup on pancakes"
QUESTIONS = (
    ("first_pet_name", "biscuit"),
    ("birth_city", "hargeisa"),
    ("first_school", "lakeview"),
)


pytestmark = pytest.mark.dev_server


def _key_for_a_new_guardian(app: Flask, services: Services) -> str:
    school = make_school("DEMO-ES1", "Lakeview Elementary")
    student = make_person("student")
    enroll(student, school)
    relate(make_person("guardian", sis_person_id="P-2001", given_name="Hodan"), student)
    staff = make_account(services, "secretaryes1", "s@school.example", kind=AccountKind.STAFF)
    db.session.add(StaffAssignment(account_id=staff.id, school_id=school.id, role="secretary"))
    db.session.commit()
    args = ["activation", "issue", "--person-id", "P-2001", "--staff", "secretaryes1"]
    output = app.test_cli_runner().invoke(main, [*args, "--id-type", "passport"]).output
    match = re.search(r"Activation key:\s+(\S+)", output)
    assert match is not None, output
    return match.group(1)


def _worker_once(app: Flask) -> None:
    assert app.test_cli_runner().invoke(main, ["worker", "--once"]).exit_code == 0


def _open_newest_mail_link(page: Page, server: str, subject: str) -> None:
    page.goto(f"{server}/dev/mailbox")
    page.get_by_role("link", name=re.compile(subject)).first.click()
    page.locator(".mail-links a").first.click()


def test_guardian_registers_and_signs_in(
    page: Page, server: str, app: Flask, services: Services
) -> None:
    key = _key_for_a_new_guardian(app, services)

    page.goto(f"{server}/sign-in")
    page.get_by_role("link", name="New parent or guardian? Create your account").click()
    page.get_by_label("Person ID").fill("P-2001")
    page.get_by_label("Activation key").fill(key.lower())
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Username").fill("HodanAbdi2026")
    expect(page.locator("#username-check")).to_have_text("This username is available.")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("Email address").fill("hodan@example.org")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    _worker_once(app)
    _open_newest_mail_link(page, server, "Confirm")
    expect(page.get_by_role("heading", name="Your account is being created")).to_be_visible()

    _worker_once(app)
    page.goto(f"{server}/dev/mailbox")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.goto(f"{server}/sign-in")
    page.get_by_label("Username").fill("hodanabdi2026")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your security questions")).to_be_visible()
    for number, (question, answer) in enumerate(QUESTIONS, 1):
        page.get_by_label(f"Question {number}", exact=True).select_option(question)
        page.get_by_label(f"Answer {number}", exact=True).fill(answer)
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Save my security questions").click()
    expect(page.get_by_text("You are signed in as HodanAbdi2026.")).to_be_visible()
