"""A guardian in a real browser: first sign-in sets the security questions, then forgets the
password and recovers it through the emailed link (read from the development mailbox) and the
questions, changes it again in Preferences and saves what the school contacts them about."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from idp.cli import main
from idp.services import Services
from tests.builders import DEFAULT_PASSWORD, make_account

QUESTIONS = (
    ("first_pet_name", "biscuit"),
    ("birth_city", "hargeisa"),
    ("first_school", "lakeview"),
)
RECOVERED = "a long walk by the river"
CHANGED = "tea with cardamom and honey"


pytestmark = pytest.mark.dev_server


def _sign_in(page: Page, server: str, password: str) -> None:
    page.goto(f"{server}/sign-in")
    page.get_by_label("Username").fill("parentuser1")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _choose_questions(page: Page, password: str) -> None:
    for number, (question, answer) in enumerate(QUESTIONS, 1):
        page.get_by_label(f"Question {number}", exact=True).select_option(question)
        page.get_by_label(f"Answer {number}", exact=True).fill(answer)
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Save my security questions").click()


def _recover(page: Page, server: str, app: Flask) -> None:
    page.goto(f"{server}/sign-in")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Username").fill("ParentUser1")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert app.test_cli_runner().invoke(main, ["worker", "--once"]).exit_code == 0
    page.goto(f"{server}/dev/mailbox")
    page.get_by_role("link", name=re.compile("Reset your")).click()
    page.locator(".mail-links a").first.click()
    answers = dict(QUESTIONS)
    labels = {
        "first_pet_name": "What was the name of your first pet?",
        "birth_city": "In which city or town were you born?",
        "first_school": "What was the name of your first school?",
    }
    for key, label in labels.items():
        page.get_by_label(label).fill(answers[key].upper() + "  ")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("New password", exact=True).fill(RECOVERED)
    page.get_by_label("New password again").fill(RECOVERED)
    page.get_by_role("button", name="Save my new password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()


def test_questions_recovery_change_and_preferences(
    page: Page, server: str, app: Flask, services: Services
) -> None:
    make_account(services, has_questions=False)

    _sign_in(page, server, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", name="Your security questions")).to_be_visible()
    _choose_questions(page, DEFAULT_PASSWORD)
    expect(page.get_by_text("You are signed in as parentuser1.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    _recover(page, server, app)
    _sign_in(page, server, RECOVERED)
    expect(page.get_by_text("You are signed in as parentuser1.")).to_be_visible()

    page.goto(f"{server}/preferences/password")
    page.get_by_label("Current password").fill(RECOVERED)
    page.get_by_label("New password", exact=True).fill(CHANGED)
    page.get_by_label("New password again").fill(CHANGED)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed.")

    page.get_by_role("link", name="Back to Preferences").click()
    page.get_by_label("Behaviour").check()
    page.get_by_label("Grades").uncheck()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_contain_text("Your preferences are saved.")
    expect(page.get_by_label("Behaviour")).to_be_checked()
    expect(page.get_by_label("Grades")).not_to_be_checked()
