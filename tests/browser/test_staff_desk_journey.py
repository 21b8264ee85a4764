"""The school's desk in a real browser (issue 16): the demo secretary of Riverside Middle signs
in with her password and authenticator code, finds a guardian of her school who has no account,
issues an activation key after the photo-ID check, prints the letter in English and then in
Spanish (the second key replaces the first), and the guardian registers with the printed key."""

from __future__ import annotations

import io
import re

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from idp.accounts.models import AccountState
from idp.clock import FrozenClock
from idp.demo import DemoSummary
from idp.demo.data import (
    DEMO_PASSWORD,
    GUARDIANS,
    RELATIONSHIPS,
    STAFF,
    STUDENTS,
    demo_totp_secret,
)
from idp.extensions import db
from idp.roster.models import Person
from idp.services import Services
from tests.browser.test_registration_journey import _open_newest_mail_link, _worker_once

SECRETARY = "DemoStaffMS1"
GUARDIAN_ID, GUARDIAN_NAME = "DEMO-G2014", "Carmen Garcia"
USERNAME, EMAIL = "CarmenGarcia2026", "carmen@example.org"
PASSWORD = "tortillas with beans and rice"
# The letter's own sentences, as translations/es has them (the letter is printed in Spanish).
SPANISH_LINES = (
    "Portal para Padres y Estudiantes: su carta de activación",
    "Escriba su número de identificación personal y su clave de activación.",
)
ENGLISH_LINES = (
    "Parent/Student Portal: your activation letter",
    "Type your Person ID and your activation key.",
)

pytestmark = pytest.mark.dev_server


def sign_in_staff(page: Page, base_url: str, clock: FrozenClock, username: str) -> None:
    """Both steps of a demo staff member's sign-in: the demo password, then the code the
    authenticator app shows at the app's (frozen) time; lands on the staff desk."""
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/sign-in/second-factor$"))
    code = pyotp.TOTP(demo_totp_secret(username)).at(clock.now())
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Staff desk", exact=True)).to_be_visible()


def _issue_key(page: Page, letter_language: str) -> str:
    """From the person page: issue a key after a passport check; the key on the letter."""
    page.get_by_role("link", name="Issue an activation key").click()
    page.get_by_label("Photo ID you checked").select_option(label="Passport")
    page.get_by_label("Language of the letter").select_option(label=letter_language)
    page.get_by_label("I checked this guardian's photo ID in person").check()
    page.get_by_role("button", name="Issue the key and show the letter").click()
    expect(page.locator("#letter-person-id")).to_have_text(GUARDIAN_ID)
    return page.locator("#letter-key").inner_text().strip()


def _printed_text(page: Page, paper: str) -> list[str]:
    """What the printer gets (headless chromium's print to PDF): the text of each page."""
    reader = PdfReader(io.BytesIO(page.pdf(format=paper, print_background=False)))
    return [" ".join(sheet.extract_text().split()) for sheet in reader.pages]


def _check_printed_letter(page: Page, key: str, lines: tuple[str, ...]) -> None:
    """In print, only the letter shows; it fits one A4 and one Letter page, with its text."""
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".no-print", "#print-letter"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("#letter")).to_be_visible()
    for paper in ("A4", "Letter"):
        sheets = _printed_text(page, paper)
        assert len(sheets) == 1, (paper, sheets)
        for expected in (GUARDIAN_ID, key, GUARDIAN_NAME, *lines):
            assert expected in sheets[0], (paper, expected, sheets[0])
        assert "Staff desk" not in sheets[0]
        assert "Print the letter" not in sheets[0]
    page.emulate_media(media="screen")


def _find_guardian(page: Page) -> None:
    """The desk's search form, then the guardian's page: no account yet."""
    page.get_by_label("Name, Person ID, student ID, username or email").fill(GUARDIAN_NAME)
    page.get_by_role("button", name="Search").click()
    page.locator("#search-results").get_by_role("link", name="Garcia, Carmen").click()
    expect(page.locator("#person-id")).to_have_text(GUARDIAN_ID)
    expect(page.locator("#no-account")).to_be_visible()


def _person_id(sis_person_id: str) -> int:
    query = select(Person.id).where(Person.sis_person_id == sis_person_id)
    return db.session.execute(query).scalar_one()


def _type_key(page: Page, key: str) -> None:
    page.get_by_label("Person ID").fill(GUARDIAN_ID)
    page.get_by_label("Activation key").fill(key)
    page.get_by_role("button", name="Continue").click()


def _register(page: Page, server: str, app: Flask, replaced_key: str, key: str) -> None:
    """The guardian types the first letter's key (replaced: refused), then the second's, and
    confirms the email."""
    page.goto(f"{server}/register")
    _type_key(page, replaced_key)
    expect(page.get_by_role("alert")).to_contain_text("do not work together")
    _type_key(page, key)
    page.get_by_label("Username").fill(USERNAME)
    expect(page.locator("#username-check")).to_have_text("This username is available.")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    _worker_once(app)
    _open_newest_mail_link(page, server, "Confirm")
    expect(page.get_by_role("heading", name="Your account is being created")).to_be_visible()
    _worker_once(app)


def test_the_demo_district_pairs_the_secretary_with_an_unregistered_guardian_of_her_school(
    demo: DemoSummary,
) -> None:
    secretary = next(staff for staff in STAFF if staff.username == SECRETARY)
    children = next(ids for guardian, ids, _ in RELATIONSHIPS if guardian == GUARDIAN_ID)
    schools = {student.school for student in STUDENTS if student.sis_person_id in children}

    assert secretary.role == "secretary"
    assert secretary.school in schools
    assert (GUARDIAN_ID, GUARDIAN_NAME) in {
        (line.person_id, line.name) for line in demo.unregistered_guardians
    }
    assert next(g for g in GUARDIANS if g.sis_person_id == GUARDIAN_ID).locale == "es"


def test_secretary_issues_a_key_prints_the_letter_and_the_guardian_registers(
    page: Page,
    browser: Browser,
    server: str,
    app: Flask,
    clock: FrozenClock,
    services: Services,
    demo: DemoSummary,
) -> None:
    sign_in_staff(page, server, clock, SECRETARY)
    _find_guardian(page)
    english_key = _issue_key(page, "English")
    _check_printed_letter(page, english_key, ENGLISH_LINES)
    page.get_by_role("link", name="Back to the person").click()
    spanish_key = _issue_key(page, "Español")
    _check_printed_letter(page, spanish_key, SPANISH_LINES)

    with browser.new_context(locale="en-US") as guardian:  # the guardian's own browser
        _register(guardian.new_page(), server, app, english_key, spanish_key)

    account = services.accounts.find_by_username(USERNAME)
    assert account is not None
    assert account.state == AccountState.ACTIVE
    assert account.person_id == _person_id(GUARDIAN_ID)
    page.get_by_role("link", name="Back to the person").click()
    expect(page.locator("#account-state")).to_have_text("Active")
    expect(page.locator("#account-facts")).to_contain_text(USERNAME)
